import Foundation
import GRDB
import GRDBSQLite
public import SmollamaCore

/// Per-stream sync state of this node, as `smollama sync --status` shows it.
public struct SyncStreamStatus: Codable, Sendable, Hashable {
    public var stream: SyncStream
    public var localMax: Int64
    public var hubMark: Int64
    public var backlog: Int64
    public var lastSuccess: UTCMillis?
    public var lastError: String?
    public var lastErrorAt: UTCMillis?
}

/// Raw readings in the order of their ids, with the sensors and clock epochs they refer to by
/// index: what a node sends and what the hub stores of it.
public struct ReadingBatch: Hashable, Sendable {
    /// One sensor-time epoch of the node (boot id + clock quality), as readings refer to it;
    /// sent as is on the wire (`WireEpoch`).
    public struct Epoch: Codable, Hashable, Sendable {
        public var id: Int64
        public var bootID: String
        public var quality: String
        public var startedHLC: Int64
        public var startedMonotonicNanoseconds: Int64
        public init(id: Int64, bootID: String, quality: String, startedHLC: Int64, startedMonotonicNanoseconds: Int64) {
            self.id = id
            self.bootID = bootID
            self.quality = quality
            self.startedHLC = startedHLC
            self.startedMonotonicNanoseconds = startedMonotonicNanoseconds
        }
    }

    public struct Row: Hashable, Sendable {
        public var id: Int64
        /// Index into `sensors`.
        public var sensor: Int
        public var time: Int64
        public var value: Double
        /// Index into `epochs`.
        public var epoch: Int
        public init(id: Int64, sensor: Int, time: Int64, value: Double, epoch: Int) {
            self.id = id
            self.sensor = sensor
            self.time = time
            self.value = value
            self.epoch = epoch
        }
    }

    public var sensors: [String] = []
    public var epochs: [Epoch] = []
    public var rows: [Row] = []

    public init(sensors: [String] = [], epochs: [Epoch] = [], rows: [Row] = []) {
        self.sensors = sensors
        self.epochs = epochs
        self.rows = rows
    }
}

/// This node's side of sync state: what the hub acknowledged, per-stream status, clock anchors,
/// the batches to send and the events pulled from others. Every statement against
/// `sync_status`, `peer_checkpoints` and `clock_anchors` for a node is here.
public struct NodeSyncStore: FeatureStore {
    /// The name under which the hub's acknowledgements are kept in `peer_checkpoints`
    /// (retention trusts it).
    public static let hubPeer = "hub"

    let database: SmollamaDatabase

    init(_ database: SmollamaDatabase) { self.database = database }

    /// The largest seq of this node's stream (for readings: the largest id ever assigned,
    /// even if retention deleted it since).
    public func localMax(origin: NodeID, stream: SyncStream) async throws -> Int64 {
        try await writer.read { db in try Self.localMax(db, origin: origin, stream: stream) }
    }

    static func localMax(_ db: Database, origin: NodeID, stream: SyncStream) throws -> Int64 {
        guard let stream = stream.eventStream else {
            let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'readings'") ?? 0
            let max = try Int64.fetchOne(db, sql: "SELECT max(id) FROM readings") ?? 0
            return Swift.max(sequence, max)
        }
        return max(try EventRow.lastSeq(db, origin, stream), try EventStore.seqFloor(db, stream))
    }

    /// The oldest reading id still stored (nil when none).
    public func oldestReadingID() async throws -> Int64? {
        try await writer.read { db in try Int64.fetchOne(db, sql: "SELECT min(id) FROM readings") }
    }

    /// Readings after `after`, at most `limit`; nil when there are none.
    public func readingBatch(after: Int64, limit: Int) async throws -> ReadingBatch? {
        try await writer.read { db in
            // Stepped by hand into the batch's arrays: no row object per reading (issue 21).
            let statement = try db.cachedStatement(
                sql: "SELECT id, sensor, time, value, epoch FROM readings WHERE id > ? ORDER BY id LIMIT ?")
            let handle = statement.sqliteStatement
            sqlite3_reset(handle)
            defer { sqlite3_reset(handle) }
            sqlite3_bind_int64(handle, 1, after)
            sqlite3_bind_int64(handle, 2, Int64(limit))
            var batch = ReadingBatch()
            batch.rows.reserveCapacity(min(limit, 100_000))
            var sensorIndex: [Int64: Int] = [:]
            var epochIndex: [Int64: Int] = [:]
            // The previous row's sensor and epoch: a run of one sensor looks neither up again.
            var previous: (sensor: Int64, sensorIndex: Int, epoch: Int64, epochIndex: Int)?
            while true {
                let code = sqlite3_step(handle)
                if code == SQLITE_DONE { break }
                guard code == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                let id = sqlite3_column_int64(handle, 0), sensor = sqlite3_column_int64(handle, 1)
                let time = sqlite3_column_int64(handle, 2), value = sqlite3_column_double(handle, 3)
                let epoch = sqlite3_column_int64(handle, 4)
                if let last = previous, last.sensor == sensor, last.epoch == epoch {
                    batch.rows.append(ReadingBatch.Row(id: id, sensor: last.sensorIndex, time: time, value: value, epoch: last.epochIndex))
                    continue
                }
                if sensorIndex[sensor] == nil {
                    let key = try String.fetchOne(db, sql: "SELECT key FROM sensors WHERE id = ?", arguments: [sensor]) ?? "unknown"
                    sensorIndex[sensor] = batch.sensors.count
                    batch.sensors.append(key)
                }
                if epochIndex[epoch] == nil, let epochRow = try Row.fetchOne(
                    db, sql: "SELECT * FROM clock_epochs WHERE id = ?", arguments: [epoch]) {
                    epochIndex[epoch] = batch.epochs.count
                    batch.epochs.append(ReadingBatch.Epoch(
                        id: epoch, bootID: epochRow["boot_id"], quality: epochRow["quality"],
                        startedHLC: epochRow["started_hlc"], startedMonotonicNanoseconds: epochRow["started_monotonic_ns"]))
                }
                let row = ReadingBatch.Row(id: id, sensor: sensorIndex[sensor] ?? 0, time: time, value: value,
                                           epoch: epochIndex[epoch] ?? 0)
                previous = (sensor, row.sensor, epoch, row.epoch)
                batch.rows.append(row)
            }
            return batch.rows.isEmpty ? nil : batch
        }
    }

    /// This node's view of other origins' shared streams: the contiguous seq held per origin.
    public func versionVector(streams: [EventStream], excluding node: NodeID) async throws
        -> [(origin: NodeID, stream: EventStream, seq: Int64)]
    {
        try await writer.read { db in
            var entries: [(origin: NodeID, stream: EventStream, seq: Int64)] = []
            for stream in streams {
                for row in try Row.fetchAll(
                    db, sql: "SELECT origin, max(seq) AS seq FROM events WHERE stream = ? AND origin != ? GROUP BY origin",
                    arguments: [stream.rawValue, Data(node.bytes)])
                {
                    let origin: Data = row["origin"]
                    entries.append((NodeID(bytes: [UInt8](origin)), stream, row["seq"]))
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
                switch try EventStore.apply(db, event) {
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
    public func setHubAcknowledgement(stream: SyncStream, seq: Int64, now: UTCMillis) async throws {
        try await writer.write { db in
            try PeerCheckpointRow(peer: Self.hubPeer, stream: stream, ackedSeq: seq, updatedAt: now).insert(db, onConflict: .replace)
        }
    }

    public func hubAcknowledgement(stream: SyncStream) async throws -> Int64 {
        try await writer.read { db in try PeerCheckpointRow.acknowledged(db, peer: Self.hubPeer, stream: stream) }
    }

    public func recordAnchor(origin: NodeID, bootID: String, monotonicNanoseconds: UInt64, hubTime: UTCMillis, now: UTCMillis)
        async throws
    {
        try await writer.write { db in
            try ClockAnchorRow(
                origin: origin, bootID: bootID, monotonicNanoseconds: monotonicNanoseconds, hubTime: hubTime, recordedAt: now
            ).insert(db, onConflict: .replace)
        }
    }

    public func recordSyncSuccess(stream: SyncStream, hubMark: Int64, localMax: Int64, now: UTCMillis) async throws {
        try await writer.write { db in
            var row = try SyncStatusRow.of(stream, db)
            row.hubMark = hubMark
            row.localMax = localMax
            row.lastSuccess = now
            try row.save(db)
        }
    }

    public func recordSyncError(stream: SyncStream, error: String, now: UTCMillis) async throws {
        try await writer.write { db in
            var row = try SyncStatusRow.of(stream, db)
            row.lastError = error
            row.lastErrorAt = now
            try row.save(db)
        }
    }

    /// The state of each of `streams`, with the local max read now.
    public func status(origin: NodeID, streams: [SyncStream]) async throws -> [SyncStreamStatus] {
        try await writer.read { db in
            try streams.map { stream in
                let row = try SyncStatusRow.of(stream, db)
                let local = try Self.localMax(db, origin: origin, stream: stream)
                return SyncStreamStatus(stream: stream, localMax: local, hubMark: row.hubMark,
                                        backlog: max(0, local - row.hubMark), lastSuccess: row.lastSuccess,
                                        lastError: row.lastError, lastErrorAt: row.lastErrorAt)
            }
        }
    }

    /// Deletes raw readings up to `id` that the hub never acknowledged (disk pressure), and in
    /// the same transaction appends the `store.compacted` marker so the hub knows the gap is
    /// deliberate. Only rolled-up readings are deleted. Returns the range removed.
    @discardableResult
    public func compactUnsyncedReadings(upTo id: Int64, origin: NodeID, stamp: ClockStamp, reason: String) async throws
        -> ClosedRange<Int64>?
    {
        try await writer.write { db in
            guard let first = try Int64.fetchOne(db, sql: "SELECT min(id) FROM readings") else { return nil }
            let cursor = try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'rollup_cursor'") ?? 0
            let last = min(id, cursor)
            guard last >= first else { return nil }
            try db.execute(sql: "DELETE FROM readings WHERE id <= ?", arguments: [last])
            let marker = CompactedMarker(stream: .readings, fromSeq: first, toSeq: last, reason: reason)
            try EventStore.appendEvent(db, .compacted(marker), origin: origin, stamp: stamp)
            return first...last
        }
    }
}

extension SmollamaDatabase {
    /// This node's sync state in this store.
    public var nodeSync: NodeSyncStore { NodeSyncStore(self) }
}

extension NodeSyncStore {
    /// Appends a `store.compacted` marker for readings already gone (e.g. deleted after an
    /// acknowledgement that a restored hub no longer has).
    public func appendCompactionMarker(_ marker: CompactedMarker, origin: NodeID, stamp: ClockStamp) async throws {
        try await database.events.appendEvent(.compacted(marker), origin: origin, stamp: stamp)
    }
}
