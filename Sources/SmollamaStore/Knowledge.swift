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
            try MemoryRow.withVersion().filter(MemoryRow.Columns.id == id).fetchOne(db)?.stored
        }
    }

    /// Observations and winning memory versions by id, in one read (recall loads its hits this
    /// way: one read instead of one per hit). Ids that do not exist are absent from the result.
    public func records(observations: [String], memories: [String]) async throws
        -> (observations: [String: StoredObservation], memories: [String: StoredMemory])
    {
        guard !observations.isEmpty || !memories.isEmpty else { return ([:], [:]) }
        return try await reader.read { db in
            var foundObservations: [String: StoredObservation] = [:]
            if !observations.isEmpty {
                for row in try ObservationRow.fetchAll(db, keys: observations) { foundObservations[row.id] = row.stored }
            }
            var foundMemories: [String: StoredMemory] = [:]
            if !memories.isEmpty {
                for row in try MemoryRow.withVersion().filter(memories.contains(MemoryRow.Columns.id)).fetchAll(db) {
                    foundMemories[row.id] = row.stored
                }
            }
            return (foundObservations, foundMemories)
        }
    }

    /// Memories by creation time, newest first; `currentOnly` leaves out closed and expired ones.
    public func memories(currentOnly: Bool, limit: Int) async throws -> [StoredMemory] {
        try await reader.read { db in
            var request = MemoryRow.withVersion()
            if currentOnly { request = request.filter(MemoryRow.Columns.validTo == nil && MemoryRow.Columns.expiredAt == nil) }
            return try request.order(MemoryRow.Columns.createdAt.desc).limit(limit).fetchAll(db).map(\.stored)
        }
    }

    /// Every version of a memory, oldest first (the memory's history, siblings included).
    public func memoryVersions(id: String) async throws -> [StoredMemory] {
        try await memoryVersions(ids: [id])[id] ?? []
    }

    /// Every version of each of `ids`, oldest first, in one read (the memory explorer's list).
    /// Versions in `known` (the winners a caller has already read) are not decoded again: most
    /// memories have one version, and decoding each record's JSON twice was a tenth of a
    /// memory search's CPU. The ids travel as one JSON list, so the statements are compiled once
    /// per connection.
    public func memoryVersions(ids: [String], known: [StoredMemory] = []) async throws -> [String: [StoredMemory]] {
        guard !ids.isEmpty else { return [:] }
        let list = String(decoding: try JSONEncoder().encode(ids), as: UTF8.self)
        let decoded = Dictionary(known.map { ($0.version, $0.record) }, uniquingKeysWith: { first, _ in first })
        return try await reader.read { db in
            var first: [String: NodeID] = [:]
            for row in try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, first_origin FROM memories WHERE id IN (SELECT value FROM json_each(?))"),
                arguments: [list])
            {
                first[row[0]] = row[1]
            }
            var versions: [String: [StoredMemory]] = [:]
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: """
                    SELECT origin, seq, memory_id, hlc, record FROM memory_versions
                    WHERE memory_id IN (SELECT value FROM json_each(?)) ORDER BY hlc, origin, seq
                    """),
                arguments: [list])
            while let row = try rows.next() {
                let version = MemoryVersionRef(origin: row[0], seq: row[1])
                let memoryID: String = row[2]
                let record = try decoded[version] ?? MemoryVersionRow.decodeRecord(row, column: 4)
                versions[memoryID, default: []].append(StoredMemory(
                    record: record, version: version, hlc: row[3], firstOrigin: first[memoryID] ?? version.origin))
            }
            return versions
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
            guard try mayWrite(db, id: record.id, memory: false, event: event),
                  try isNewer(db, table: "observations", id: record.id, event: event) else { return }
            try ObservationRow(record, of: event).insert(db, onConflict: .replace)
        case .memoryVersion(let record):
            guard try mayWrite(db, id: record.id, memory: true, event: event) else { return }
            try MemoryVersionRow(record, of: event).insert(db, onConflict: .ignore)
            guard try isNewer(db, table: "memories", id: record.id, event: event) else { return }
            let firstOrigin = try MemoryVersionRow.history(of: record.id).fetchOne(db)?.origin ?? event.origin
            try MemoryRow(record, of: event, firstOrigin: firstOrigin).insert(db, onConflict: .replace)
        case .sensorFault, .sensorRecovered, .binaryChanged, .clockQuality, .compacted, .rollups, .unknown:
            return
        }
    }

    /// Whether `event`'s origin may write a version of record `id`: the node that created it,
    /// named by the id (`NodeID.newRecordID`), and, for memories, the hub (edits through its mem0
    /// API). A version from any other node stays in the log as it came (append-only, relayed like
    /// any event) but changes no row and no history, here or on any node, so one enrolled node
    /// cannot rewrite another's memories or observations. Ids from before (32 random digits) name
    /// no creator, and no rule derived from arrival order would give every node the same answer
    /// (pulls arrive by origin, not causally): they keep the earlier rule, any origin.
    static func mayWrite(_ db: Database, id: String, memory: Bool, event: Event) throws -> Bool {
        if memory, let hub = try MetaStore.hubNode(db), event.origin == hub { return true }
        return NodeID.creator(ofRecord: id).map { $0 == event.origin } ?? true
    }

    /// Whether `event` beats the version currently in `table` for `id`.
    private static func isNewer(_ db: Database, table: String, id: String, event: Event) throws -> Bool {
        guard
            let row = try Row.fetchOne(db, sql: "SELECT hlc, origin, seq FROM \(table) WHERE id = ?", arguments: [id])
        else { return true }
        let current = (row["hlc"] as Int64, NodeID(bytes: [UInt8](row["origin"] as Data)).hex, row["seq"] as Int64)
        return (event.stamp.hlc.rawValue, event.origin.hex, event.seq) > current
    }
}
