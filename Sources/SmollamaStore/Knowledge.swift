import Foundation
import GRDB
public import SmollamaCore

/// A stored observation and where it came from.
public struct StoredObservation: Sendable, Hashable {
    public var record: ObservationRecord
    public var origin: NodeID
    public var hlc: HLCTimestamp
}

/// A stored memory version and where it came from.
public struct StoredMemory: Sendable, Hashable {
    public var record: MemoryRecord
    /// The event that carried this version.
    public var version: MemoryVersionRef
    public var hlc: HLCTimestamp
    /// The node that first wrote the memory (its first version's origin).
    public var firstOrigin: NodeID
}

extension KnowledgeStore {
    /// Writes an observation of this node: one event on the observations stream, projected into
    /// the `observations` table in the same transaction.
    @discardableResult
    public func record(_ observation: ObservationRecord, origin: NodeID, stamp: ClockStamp) async throws -> Event {
        try await database.events.appendEvent(.observation(observation), origin: origin, stamp: stamp)
    }

    /// Writes a version of a memory from this node (a new memory, an edit, a closed validity).
    @discardableResult
    public func record(_ memory: MemoryRecord, origin: NodeID, stamp: ClockStamp) async throws -> Event {
        try await database.events.appendEvent(.memoryVersion(memory), origin: origin, stamp: stamp)
    }

    public func observation(id: String) async throws -> StoredObservation? {
        try await reader.read { db in
            try ObservationRow.fetchOne(db, key: id)?.stored
        }
    }

    /// The newest observations by the end of their time span, newest first.
    public func recentObservations(limit: Int) async throws -> [StoredObservation] {
        try await reader.read { db in
            try ObservationRow.order(ObservationRow.Columns.timeEnd.desc).limit(limit).fetchAll(db).map(\.stored)
        }
    }

    /// The winning version of a memory.
    public func memory(id: String) async throws -> StoredMemory? {
        try await reader.read { db in
            try Row.fetchOne(db, sql: "\(Self.memorySelect) WHERE memories.id = ?", arguments: [id])
                .map(Self.storedMemory(from:))
        }
    }

    /// Memories by creation time, newest first; `currentOnly` leaves out closed and expired ones.
    public func memories(currentOnly: Bool, limit: Int) async throws -> [StoredMemory] {
        try await reader.read { db in
            let filter = currentOnly ? "WHERE memories.valid_to IS NULL AND memories.expired_at IS NULL" : ""
            return try Row.fetchAll(
                db, sql: "\(Self.memorySelect) \(filter) ORDER BY memories.created_at DESC LIMIT ?", arguments: [limit]
            ).map(Self.storedMemory(from:))
        }
    }

    /// Every version of a memory, oldest first (the memory's history, siblings included).
    public func memoryVersions(id: String) async throws -> [StoredMemory] {
        try await reader.read { db in
            let first = try Data.fetchOne(
                db, sql: "SELECT first_origin FROM memories WHERE id = ?", arguments: [id])
            return try Row.fetchAll(
                db,
                sql: "SELECT * FROM memory_versions WHERE memory_id = ? ORDER BY hlc, origin, seq",
                arguments: [id]
            ).map { row in
                let record = try Self.decodeJSON(MemoryRecord.self, row["record"])
                let origin = NodeID(bytes: [UInt8](row["origin"] as Data))
                return StoredMemory(
                    record: record, version: MemoryVersionRef(origin: origin, seq: row["seq"]),
                    hlc: HLCTimestamp(rawValue: row["hlc"]),
                    firstOrigin: first.map { NodeID(bytes: [UInt8]($0)) } ?? origin)
            }
        }
    }

    // MARK: - Projection

    /// Keeps the knowledge tables in step with the log. Called for every event inserted, local
    /// or synced. The winner among versions of one id is the highest (hlc, origin, seq), so every
    /// node ends with the same rows whatever order the events arrived in.
    static func project(_ db: Database, _ event: Event) throws {
        let body: EventBody
        do {
            body = try event.body
        } catch {
            // Only knowledge is projected: another event that does not decode is kept as it came.
            guard let kind = EventBody.Kind(rawValue: event.type), [.observation, .memoryVersion].contains(kind) else {
                return
            }
            throw StoreError.malformedPayload(
                origin: event.origin.hex, stream: event.stream.rawValue, seq: event.seq, type: event.type,
                reason: "\(error)")
        }
        switch body {
        case .observation(let record):
            guard try isNewer(db, table: "observations", id: record.id, event: event) else { return }
            try ObservationRow(record, of: event).insert(db, onConflict: .replace)
        case .memoryVersion(let record):
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO memory_versions
                        (origin, seq, memory_id, hlc, parent_origin, parent_seq, record)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    Data(event.origin.bytes), event.seq, record.id, event.stamp.hlc.rawValue,
                    record.parent.map { Data($0.origin.bytes) }, record.parent?.seq, try jsonText(record),
                ])
            guard try isNewer(db, table: "memories", id: record.id, event: event) else { return }
            let firstOrigin =
                try Data.fetchOne(
                    db,
                    sql: "SELECT origin FROM memory_versions WHERE memory_id = ? ORDER BY hlc, origin, seq LIMIT 1",
                    arguments: [record.id]) ?? Data(event.origin.bytes)
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO memories
                        (id, origin, seq, hlc, first_origin, kind, subjects, text, confidence, importance, support,
                         valid_from, valid_to, created_at, expired_at, supersedes, source, metadata)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    record.id, Data(event.origin.bytes), event.seq, event.stamp.hlc.rawValue, firstOrigin,
                    record.kind, try jsonText(record.subjects), record.text, record.confidence, record.importance,
                    record.support, record.validFrom, record.validTo, record.createdAt, record.expiredAt,
                    record.supersedes, record.source.rawValue, try jsonText(record.metadata),
                ])
        case .sensorFault, .sensorRecovered, .binaryChanged, .clockQuality, .compacted, .unknown:
            return
        }
    }

    /// Whether `event` beats the version currently in `table` for `id`.
    private static func isNewer(_ db: Database, table: String, id: String, event: Event) throws -> Bool {
        guard
            let row = try Row.fetchOne(db, sql: "SELECT hlc, origin, seq FROM \(table) WHERE id = ?", arguments: [id])
        else { return true }
        let current = (row["hlc"] as Int64, NodeID(bytes: [UInt8](row["origin"] as Data)).hex, row["seq"] as Int64)
        return (event.stamp.hlc.rawValue, event.origin.hex, event.seq) > current
    }

    private static func jsonText(_ value: some Encodable) throws -> String {
        String(decoding: try EventPayload.encode(value), as: UTF8.self)
    }

    private static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// Memory rows joined with the winning version's full record.
    static let memorySelect = """
        SELECT memories.*, memory_versions.record AS record FROM memories
        JOIN memory_versions ON memory_versions.origin = memories.origin AND memory_versions.seq = memories.seq
        """

    /// Reads a row of `memorySelect`.
    static func storedMemory(from row: Row) throws -> StoredMemory {
        let origin = NodeID(bytes: [UInt8](row["origin"] as Data))
        return StoredMemory(
            record: try decodeJSON(MemoryRecord.self, row["record"]),
            version: MemoryVersionRef(origin: origin, seq: row["seq"]),
            hlc: HLCTimestamp(rawValue: row["hlc"]), firstOrigin: NodeID(bytes: [UInt8](row["first_origin"] as Data)))
    }
}
