import Foundation
import GRDB
public import SmollamaCore

/// One enrolled node as `smollama hub nodes` shows it.
public struct HubNodeSummary: Codable, Sendable, Hashable {
    public var node: String
    public var name: String
    public var enrolledAt: UTCMillis
    public var revokedAt: UTCMillis?
    public var lastSeen: UTCMillis?
    public var incarnation: Int
    public var clockQuality: String?
    /// The node's wall clock minus the hub's at its last handshake (nil: the node did not say).
    public var clockOffsetMilliseconds: Int64?
    /// Items the node reported it holds beyond the hub's marks at its last handshake.
    public var backlog: Int64
    public var collisions: Int
    /// Stream → durable mark.
    public var marks: [String: Int64]
    /// Raw readings held for the node; nil when not counted (counting scans them).
    public var foreignReadings: Int64?
    /// What the hub holds of the node on disk (raw readings and rollups; kept as counts, so
    /// reading it scans nothing).
    public var diskUse: NodeDiskUse
}

public struct HubCollision: Codable, Sendable, Hashable {
    public var node: String
    public var stream: String
    public var seq: Int64
    public var detail: String
    public var seenAt: UTCMillis
}

extension HubSyncStore {
    /// Every node enrolled with this hub (none on a node that is not a hub). `countReadings`
    /// counts the raw readings held per node, which scans them: the CLI does, the dashboard
    /// shows the readings mark instead.
    public func hubNodes(countReadings: Bool = true) async throws -> [HubNodeSummary] {
        try await reader.read { db in try Self.hubNodeSummaries(db, countReadings: countReadings) }
    }

    /// `hubNodes` inside a read: every enrolled node, or only `node`, by name.
    /// Every page shows the node list, so its statements are prepared once per connection
    /// (`cachedStatement`) and the marks and disk use are read for all nodes at once.
    static func hubNodeSummaries(_ db: Database, only node: NodeID? = nil, countReadings: Bool) throws -> [HubNodeSummary] {
        let rows = try SyncNodeRow.fetchAll(db.cachedStatement(sql: "SELECT * FROM sync_nodes ORDER BY name, node"))
            .filter { row in node.map { row.node == $0 } ?? true }
        guard !rows.isEmpty else { return [] }
        var marks: [NodeID: [String: Int64]] = [:]
        for mark in try Row.fetchAll(db.cachedStatement(sql: "SELECT origin, stream, mark FROM sync_marks")) {
            marks[mark[0] as NodeID, default: [:]][mark[1]] = mark[2]
        }
        let use = try HubReadingStore.diskUse(db)
        return try rows.map { row in
            let node = row.node
            let readings = countReadings ? try Int64.fetchOne(
                db, sql: "SELECT count(*) FROM foreign_readings WHERE origin_ref = (SELECT ref FROM sync_origins WHERE origin = ?)",
                arguments: [node]) ?? 0 : nil
            return HubNodeSummary(
                node: node.hex, name: row.name, enrolledAt: row.enrolledAt, revokedAt: row.revokedAt,
                lastSeen: row.lastSeen, incarnation: row.incarnation, clockQuality: row.clockQuality,
                clockOffsetMilliseconds: row.clockOffset, backlog: row.backlog, collisions: row.collisions,
                marks: marks[node] ?? [:], foreignReadings: readings,
                diskUse: use[node] ?? NodeDiskUse(rawReadings: 0, rollups: 0))
        }
    }

    public func hubCollisions(limit: Int = 100) async throws -> [HubCollision] {
        try await reader.read { db in
            try SyncCollisionRow.order(SyncCollisionRow.Columns.id.desc).limit(limit).fetchAll(db).map {
                HubCollision(node: $0.origin.hex, stream: $0.stream, seq: $0.seq, detail: $0.detail, seenAt: $0.seenAt)
            }
        }
    }

    /// The hub's durable mark for (origin, stream).
    public func hubMark(origin: String, stream: SyncStream) async throws -> Int64 {
        try await reader.read { db in
            guard let node = NodeID(hex: origin) else { return 0 }
            return try Self.mark(db, origin: node, stream: stream)
        }
    }
}
