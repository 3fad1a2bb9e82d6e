import Foundation
import GRDB
public import SmollamaCore
public import SmollamaStore

/// Per-stream sync state of this node, as `smollama sync --status` shows it.
public struct SyncStreamStatus: Codable, Sendable, Hashable {
    public var stream: String
    public var localMax: Int64
    public var hubMark: Int64
    public var backlog: Int64
    public var lastSuccess: Int64?
    public var lastError: String?
    public var lastErrorAt: Int64?
}

/// The name under which the hub's acknowledgements are kept in `peer_checkpoints`
/// (retention trusts it).
public let hubPeerName = "hub"

extension SmollamaDatabase {
    /// The largest seq of this node's stream (for readings: the largest id ever assigned,
    /// even if retention deleted it since).
    public func localMax(origin: NodeID, stream: String) async throws -> Int64 {
        try await reader.read { db in try Self.localMax(db, origin: origin, stream: stream) }
    }

    static func localMax(_ db: Database, origin: NodeID, stream: String) throws -> Int64 {
        if stream == SyncProtocol.readingsStream {
            let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'readings'") ?? 0
            let max = try Int64.fetchOne(db, sql: "SELECT max(id) FROM readings") ?? 0
            return Swift.max(sequence, max)
        }
        return try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events WHERE origin = ? AND stream = ?",
                                  arguments: [Data(origin.bytes), stream]) ?? 0
    }

    /// The oldest reading id still stored (nil when none).
    public func oldestReadingID() async throws -> Int64? {
        try await reader.read { db in try Int64.fetchOne(db, sql: "SELECT min(id) FROM readings") }
    }

    /// Readings after `after`, at most `limit`, as columns. `toSeq` is the last id covered.
    public func readingBatch(after: Int64, limit: Int) async throws -> (columns: ReadingColumns, toSeq: Int64)? {
        try await reader.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT id, sensor, time, value, epoch FROM readings WHERE id > ? ORDER BY id LIMIT ?",
                arguments: [after, limit])
            guard !rows.isEmpty else { return nil }
            var columns = ReadingColumns()
            var sensorIndex: [Int64: Int] = [:]
            var epochIndex: [Int64: Int] = [:]
            var previousID = after
            var previousTime: Int64 = 0
            for (index, row) in rows.enumerated() {
                let id: Int64 = row[0], sensor: Int64 = row[1], time: Int64 = row[2], value: Double = row[3], epoch: Int64 = row[4]
                if sensorIndex[sensor] == nil {
                    let key = try String.fetchOne(db, sql: "SELECT key FROM sensors WHERE id = ?", arguments: [sensor]) ?? "unknown"
                    sensorIndex[sensor] = columns.sensors.count
                    columns.sensors.append(key)
                }
                if epochIndex[epoch] == nil, let epochRow = try Row.fetchOne(
                    db, sql: "SELECT * FROM clock_epochs WHERE id = ?", arguments: [epoch]) {
                    epochIndex[epoch] = columns.epochs.count
                    columns.epochs.append(WireEpoch(
                        id: epoch, bootID: epochRow["boot_id"], quality: epochRow["quality"],
                        startedHLC: epochRow["started_hlc"], startedMonotonicNanoseconds: epochRow["started_monotonic_ns"]))
                }
                columns.id.append(id - previousID)
                columns.time.append(index == 0 ? time : time - previousTime)
                columns.sensor.append(sensorIndex[sensor] ?? 0)
                columns.value.append(value)
                columns.epoch.append(epochIndex[epoch] ?? 0)
                previousID = id
                previousTime = time
            }
            return (columns, previousID)
        }
    }

    /// This node's view of other origins' shared streams: origin → contiguous seq held.
    public func versionVector(streams: [EventStream], excluding node: NodeID) async throws -> [VersionEntry] {
        try await reader.read { db in
            var entries: [VersionEntry] = []
            for stream in streams {
                for row in try Row.fetchAll(
                    db, sql: "SELECT origin, max(seq) AS seq FROM events WHERE stream = ? AND origin != ? GROUP BY origin",
                    arguments: [stream.rawValue, Data(node.bytes)])
                {
                    let origin: Data = row["origin"]
                    entries.append(VersionEntry(origin: NodeID(bytes: [UInt8](origin)), stream: stream.rawValue, seq: row["seq"]))
                }
            }
            return entries
        }
    }

    /// Applies pulled events in one transaction, in order; returns (inserted, collisions).
    public func applyPulled(_ events: [Event]) async throws -> (inserted: Int, collisions: Int) {
        for event in events where !event.hashIsValid {
            throw StoreError.invalidEventHash(origin: event.origin.hex, stream: event.stream.rawValue, seq: event.seq)
        }
        return try await writer.write { db in
            var inserted = 0, collisions = 0
            for event in events {
                switch try Self.apply(db, event) {
                case .inserted: inserted += 1
                case .duplicate: break
                case .collision: collisions += 1
                }
            }
            return (inserted, collisions)
        }
    }

    /// Sets what the hub durably holds, exactly: it may go down when the hub was restored from an
    /// older backup, and retention must then keep what the hub lost.
    public func setHubAcknowledgement(stream: String, seq: Int64, now: Int64) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO peer_checkpoints (peer, stream, acked_seq, updated_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(peer, stream) DO UPDATE SET acked_seq = excluded.acked_seq, updated_at = excluded.updated_at
                    """, arguments: [hubPeerName, stream, seq, now])
        }
    }

    public func hubAcknowledgement(stream: String) async throws -> Int64 {
        try await reader.read { db in
            try Int64.fetchOne(db, sql: "SELECT acked_seq FROM peer_checkpoints WHERE peer = ? AND stream = ?",
                               arguments: [hubPeerName, stream]) ?? 0
        }
    }

    public func recordAnchor(origin: NodeID, bootID: String, monotonicNanoseconds: UInt64, hubTime: Int64, now: Int64)
        async throws
    {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO clock_anchors (origin, boot_id, monotonic_ns, hub_time, recorded_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(origin, boot_id) DO UPDATE SET monotonic_ns = excluded.monotonic_ns,
                        hub_time = excluded.hub_time, recorded_at = excluded.recorded_at
                    """, arguments: [origin.hex, bootID, Int64(bitPattern: monotonicNanoseconds), hubTime, now])
        }
    }

    public func recordSyncSuccess(stream: String, hubMark: Int64, localMax: Int64, now: Int64) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO sync_status (stream, hub_mark, local_max, last_success) VALUES (?, ?, ?, ?)
                    ON CONFLICT(stream) DO UPDATE SET hub_mark = excluded.hub_mark, local_max = excluded.local_max,
                        last_success = excluded.last_success
                    """, arguments: [stream, hubMark, localMax, now])
        }
    }

    public func recordSyncError(stream: String, error: String, now: Int64) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO sync_status (stream, last_error, last_error_at) VALUES (?, ?, ?)
                    ON CONFLICT(stream) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at
                    """, arguments: [stream, error, now])
        }
    }

    /// Every stream's state, with the local max read now.
    public func syncStatus(origin: NodeID) async throws -> [SyncStreamStatus] {
        try await reader.read { db in
            try SyncProtocol.pushOrder.map { stream in
                let row = try Row.fetchOne(db, sql: "SELECT * FROM sync_status WHERE stream = ?", arguments: [stream])
                let local = try Self.localMax(db, origin: origin, stream: stream)
                let mark: Int64 = row?["hub_mark"] ?? 0
                return SyncStreamStatus(stream: stream, localMax: local, hubMark: mark, backlog: max(0, local - mark),
                                        lastSuccess: row?["last_success"], lastError: row?["last_error"],
                                        lastErrorAt: row?["last_error_at"])
            }
        }
    }

    /// Deletes raw readings up to `id` that the hub never acknowledged (disk pressure), and in
    /// the same transaction appends the `store.compacted` marker so the hub knows the gap is
    /// deliberate. Only rolled-up readings are deleted. Returns the range removed.
    @discardableResult
    public func compactUnsyncedReadings(upTo id: Int64, origin: NodeID, stamp: ClockStamp, reason: String) async throws
        -> SeqRange?
    {
        try await writer.write { db in
            guard let first = try Int64.fetchOne(db, sql: "SELECT min(id) FROM readings") else { return nil }
            let cursor = try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'rollup_cursor'") ?? 0
            let last = min(id, cursor)
            guard last >= first else { return nil }
            try db.execute(sql: "DELETE FROM readings WHERE id <= ?", arguments: [last])
            let marker = CompactedMarker(stream: SyncProtocol.readingsStream, fromSeq: first, toSeq: last, reason: reason)
            let payload = try EventPayload.encode(marker)
            try Self.appendControl(db, origin: origin, type: SyncProtocol.compactedType, payload: payload, stamp: stamp)
            return SeqRange(from: first, to: last)
        }
    }

    /// Appends a `store.compacted` marker for readings already gone (e.g. deleted after an
    /// acknowledgement that a restored hub no longer has).
    public func appendCompactionMarker(_ marker: CompactedMarker, origin: NodeID, stamp: ClockStamp) async throws {
        try await appendEvent(origin: origin, stream: .control, type: SyncProtocol.compactedType,
                              payload: try EventPayload.encode(marker), stamp: stamp)
    }

    static func appendControl(_ db: Database, origin: NodeID, type: String, payload: Data, stamp: ClockStamp) throws {
        let last = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events WHERE origin = ? AND stream = 'control'",
                                      arguments: [Data(origin.bytes)]) ?? 0
        let event = Event(origin: origin, stream: .control, seq: last + 1, stamp: stamp, type: type, payload: payload)
        _ = try apply(db, event)
    }
}
