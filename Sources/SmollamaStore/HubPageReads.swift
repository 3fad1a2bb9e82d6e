import Foundation
import GRDB
public import SmollamaCore

/// The hub pages' batch reads: each page asks for what it shows of every node in one read (the
/// node list with its counts, each node's newest observation and sensor notices, the rollups of
/// many sensors), instead of one read per node and sensor. Counts come from tables kept by the
/// writing transactions (`event_counts`, `foreign_usage`), so no page counts rows.
extension HubPageStore {
    static let v11 = """
        -- Events held per (origin, stream), kept by triggers in the transaction that inserts or
        -- deletes the event (local appends, synced events, imports alike), so the dashboard's
        -- counts read a few rows instead of counting the log.
        CREATE TABLE event_counts (
            origin BLOB NOT NULL,
            stream TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (origin, stream)
        ) WITHOUT ROWID;
        INSERT INTO event_counts (origin, stream, count) SELECT origin, stream, count(*) FROM events GROUP BY origin, stream;
        CREATE TRIGGER events_counted AFTER INSERT ON events BEGIN
            INSERT INTO event_counts (origin, stream, count) VALUES (new.origin, new.stream, 1)
                ON CONFLICT (origin, stream) DO UPDATE SET count = count + 1;
        END;
        CREATE TRIGGER events_uncounted AFTER DELETE ON events BEGIN
            UPDATE event_counts SET count = count - 1 WHERE origin = old.origin AND stream = old.stream;
        END;

        -- The memory explorer's "superseded by" and its superseded filter (an EXISTS per memory).
        CREATE INDEX memories_by_supersedes ON memories(supersedes) WHERE supersedes IS NOT NULL;
        -- A node's newest observations (home cards, a memory's sources).
        CREATE INDEX observations_by_origin_time ON observations(origin, time_end);
        -- The explorer's and thoughts' kind filters list the kinds held (DISTINCT kind).
        CREATE INDEX memories_by_kind ON memories(kind);
        CREATE INDEX observations_by_kind ON observations(kind);
        """

    /// An enrolled node as the hub's pages list it: what sync knows of it, how many sensors it
    /// synced, how many events of each stream the hub holds from it.
    public struct NodeListing: Sendable, Hashable {
        public var sync: HubNodeSummary
        public var sensorCount: Int
        public var eventCounts: [EventStream: Int]
    }

    /// Every enrolled node (or only `node`), ordered as `hubNodes`, in one read.
    public func nodeListings(only node: NodeID? = nil) async throws -> [NodeListing] {
        try await reader.read { db in
            let summaries = try HubSyncStore.hubNodeSummaries(db, only: node, countReadings: false)
            guard !summaries.isEmpty else { return [] }
            var sensors: [String: Int] = [:]
            for row in try Row.fetchAll(db.cachedStatement(
                sql: "SELECT o.origin, count(*) FROM foreign_sensors s JOIN sync_origins o ON o.ref = s.origin_ref GROUP BY o.origin"))
            {
                sensors[(row[0] as NodeID).hex] = row[1]
            }
            let counts = try EventStore.eventCounts(db)
            return summaries.map { summary in
                let id = NodeID(hex: summary.node)
                return NodeListing(sync: summary, sensorCount: sensors[summary.node] ?? 0,
                                   eventCounts: id.flatMap { counts[$0] } ?? [:])
            }
        }
    }

    /// Every known node's display name: this store's enrolled nodes (id hex → name).
    public func nodeNames() async throws -> [(id: NodeID, name: String)] {
        try await reader.read { db in
            try Row.fetchAll(db, sql: "SELECT node, name FROM sync_nodes ORDER BY name, node").map { ($0[0], $0[1]) }
        }
    }

    /// Each node's newest observation (by the end of its span), one indexed lookup per node.
    public func newestObservations(origins: [NodeID]) async throws -> [NodeID: StoredObservation] {
        try await reader.read { db in
            var newest: [NodeID: StoredObservation] = [:]
            let statement = try db.cachedStatement(
                sql: "SELECT * FROM observations WHERE origin = ? ORDER BY time_end DESC LIMIT 1")
            for origin in origins {
                if let row = try ObservationRow.fetchOne(statement, arguments: [origin]) {
                    newest[origin] = row.stored
                }
            }
            return newest
        }
    }

    /// Each node's newest `limit` notices (newest first), for its sensors' fault state.
    public func recentNotices(origins: [NodeID], limit: Int) async throws -> [NodeID: [Event]] {
        try await reader.read { db in
            var notices: [NodeID: [Event]] = [:]
            let statement = try db.cachedStatement(
                sql: "SELECT * FROM events WHERE origin = ? AND stream = ? ORDER BY seq DESC LIMIT ?")
            for origin in origins {
                notices[origin] = try EventRow.fetchAll(statement, arguments: [origin, EventStream.notices.rawValue, limit])
                    .map { try $0.event() }
            }
            return notices
        }
    }

    /// Rollups of some sensors of another node over [from, to), oldest first, in one read; a
    /// sensor the node never synced is absent.
    public func rollups(node: NodeID, sensors: [SensorID], resolution: Rollup.Resolution, from: UTCMillis, to: UTCMillis)
        async throws -> [SensorID: [Rollup]]
    {
        try await rollups(sensors.map { (node, $0) }, resolution: resolution, from: from, to: to)[node] ?? [:]
    }

    /// Rollups of (node, sensor) pairs over [from, to), oldest first, in one read. Columns are
    /// read by position: a chart reads thousands of rows.
    public func rollups(_ pairs: [(node: NodeID, sensor: SensorID)], resolution: Rollup.Resolution, from: UTCMillis,
                        to: UTCMillis) async throws -> [NodeID: [SensorID: [Rollup]]] {
        try await reader.read { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT r.bucket_start, r.count, r.min, r.max, r.sum, r.last, r.last_time, r.on_count, r.on_duration
                    FROM foreign_rollups r JOIN sync_origins o ON o.ref = r.origin_ref
                    JOIN foreign_sensors s ON s.id = r.sensor AND s.origin_ref = r.origin_ref
                    WHERE o.origin = ? AND s.key = ? AND r.resolution = ? AND r.bucket_start >= ? AND r.bucket_start < ?
                    ORDER BY r.bucket_start
                    """)
            var result: [NodeID: [SensorID: [Rollup]]] = [:]
            for (node, sensor) in pairs {
                var rollups: [Rollup] = []
                let rows = try Row.fetchCursor(statement, arguments: [node, sensor.rawValue, resolution.rawValue, from, to])
                while let row = try rows.next() {
                    rollups.append(Rollup(
                        sensor: sensor, resolution: resolution, bucketStart: UTCMillis(rawValue: row[0]), count: row[1],
                        min: row[2] ?? .infinity, max: row[3] ?? -.infinity, sum: row[4], last: row[5] ?? .nan,
                        lastTime: (row[6] as Int64?).map(UTCMillis.init(rawValue:)) ?? .distantPast, onCount: row[7],
                        onDuration: row[8]))
                }
                result[node, default: [:]][sensor] = rollups
            }
            return result
        }
    }

    /// For each of `memories` (id → its first writer, subjects and the span it was learned
    /// over), up to `limit` of that node's observations of those subjects overlapping the span,
    /// newest first: what each memory was learned from. One read.
    public func sources(of memories: [(id: String, origin: NodeID, subjects: [String], from: UTCMillis, to: UTCMillis)],
                        limit: Int) async throws -> [String: [StoredObservation]] {
        try await reader.read { db in
            var sources: [String: [StoredObservation]] = [:]
            for memory in memories {
                sources[memory.id] = try Self.observations(
                    db, origin: memory.origin, subjects: memory.subjects, from: memory.from, to: memory.to, limit: limit)
            }
            return sources
        }
    }
}
