import Foundation
import GRDB
import GRDBSQLite
public import SmollamaCore

extension HubSyncStore {
    /// Applies one contiguous range of a node's events (`from...to` of `stream`) in one
    /// transaction committed with `synchronous=FULL`, and returns the new durable mark.
    /// `beforeCommit` runs inside the transaction just before commit (tests: a full disk).
    public func pushEvents(_ events: [Event], origin node: NodeID, stream: SyncStream, from: Int64, to: Int64, now: UTCMillis,
                           beforeCommit: @escaping @Sendable () throws -> Void = {}) async throws -> PushOutcome {
        let origin = node
        return try await durably(beforeCommit) { db in
            let mark = try Self.checkContinuity(db, origin: origin, stream: stream, from: from)
            var outcome = PushOutcome(mark: mark)
            for event in events {
                switch try EventStore.apply(db, event) {
                case .inserted:
                    outcome.inserted += 1
                    switch try? event.body {
                    case .compacted(let marker):
                        try Self.recordCompaction(db, origin: origin, marker: marker, now: now)
                    case .rollups(let snapshot):
                        // A node that sends rollups instead of raw readings: charted like any other.
                        try HubReadingStore.apply(db, originRef: try Self.originRef(db, origin: origin), snapshot: snapshot)
                    default:
                        break
                    }
                case .duplicate:
                    outcome.duplicates += 1
                case .collision:
                    outcome.collisions += 1
                    try Self.recordCollision(db, origin: origin, stream: stream, seq: event.seq,
                                             detail: "same event id, different content (restored or cloned node store)", now: now)
                }
            }
            try Self.setMark(db, origin: origin, stream: stream, mark: max(mark, to), now: now)
            try Self.reduceBacklog(db, origin: origin, by: outcome.inserted)
            outcome.mark = try Self.mark(db, origin: origin, stream: stream)
            return outcome
        }
    }

    /// Applies one contiguous range of a node's raw readings (`from...to` of the readings
    /// stream named `stream`) like `pushEvents`.
    public func pushReadings(_ batch: ReadingBatch, origin node: NodeID, stream: SyncStream, from: Int64, to: Int64,
                             now: UTCMillis, beforeCommit: @escaping @Sendable () throws -> Void = {}) async throws -> PushOutcome {
        let origin = node
        return try await durably(beforeCommit) { db in
            let mark = try Self.checkContinuity(db, origin: origin, stream: stream, from: from)
            let ref = try Self.originRef(db, origin: origin)
            var sensorIDs: [Int64] = []
            for key in batch.sensors {
                try db.execute(sql: "INSERT OR IGNORE INTO foreign_sensors (origin_ref, key) VALUES (?, ?)", arguments: [ref, key])
                guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM foreign_sensors WHERE origin_ref = ? AND key = ?",
                                                  arguments: [ref, key])
                else { throw StoreError.cannotRegister("sensor \(key) of node \(origin)") }
                sensorIDs.append(id)
            }
            for epoch in batch.epochs {
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO foreign_epochs (origin_ref, epoch, boot_id, quality, started_hlc, started_monotonic_ns)
                        VALUES (?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [ref, epoch.id, epoch.bootID, epoch.quality, epoch.startedHLC, epoch.startedMonotonicNanoseconds])
            }
            var outcome = PushOutcome(mark: mark)
            // A node whose readings are all rolled up has this batch folded as it is inserted,
            // without reading it back; otherwise the fold catches up from its cursor (issue 21).
            let foldsDirectly = try !HubReadingStore.holdsUnfolded(db, originRef: ref,
                                                                   after: HubReadingStore.cursor(db, originRef: ref))
            var inserted: [Int] = []
            if foldsDirectly { inserted.reserveCapacity(batch.rows.count) }
            let insert = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO foreign_readings (origin_ref, id, sensor, time, value, epoch) VALUES (?, ?, ?, ?, ?, ?)")
            let handle = insert.sqliteStatement
            for (index, row) in batch.rows.enumerated() {
                if row.id <= mark {
                    // Already here: the same reading is a duplicate, another one a collision.
                    let existing = try GRDB.Row.fetchOne(
                        db, sql: "SELECT sensor, time, value FROM foreign_readings WHERE origin_ref = ? AND id = ?",
                        arguments: [ref, row.id])
                    if let existing, existing["sensor"] == sensorIDs[row.sensor], existing["time"] == row.time,
                       existing["value"] == row.value
                    {
                        outcome.duplicates += 1
                    } else if existing != nil {
                        outcome.collisions += 1
                        try Self.recordCollision(db, origin: origin, stream: stream, seq: row.id,
                                                 detail: "same reading id, different reading (restored or cloned node store)", now: now)
                    }
                    continue
                }
                sqlite3_bind_int64(handle, 1, ref)
                sqlite3_bind_int64(handle, 2, row.id)
                sqlite3_bind_int64(handle, 3, sensorIDs[row.sensor])
                sqlite3_bind_int64(handle, 4, row.time)
                sqlite3_bind_double(handle, 5, row.value)
                sqlite3_bind_int64(handle, 6, batch.epochs[row.epoch].id)
                let code = sqlite3_step(handle)
                sqlite3_reset(handle)
                guard code == SQLITE_DONE else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                if sqlite3_changes(db.sqliteConnection) > 0 {
                    outcome.inserted += 1
                    if foldsDirectly { inserted.append(index) }
                } else {
                    outcome.duplicates += 1
                }
            }
            try HubReadingStore.addUsage(db, originRef: ref, raw: Int64(outcome.inserted))
            // Roll the new readings up in the same transaction: what the hub acknowledges is charted.
            if foldsDirectly {
                try HubReadingStore.fold(db, originRef: ref, origin: origin, batch: batch, inserted: inserted, sensorRows: sensorIDs)
            } else {
                try HubReadingStore.fold(db, originRef: ref)
            }
            try Self.setMark(db, origin: origin, stream: stream, mark: max(mark, to), now: now)
            try Self.reduceBacklog(db, origin: origin, by: outcome.inserted)
            outcome.mark = try Self.mark(db, origin: origin, stream: stream)
            return outcome
        }
    }

    /// One transaction with `synchronous=FULL`: the acknowledgement is sent only after an fsync.
    func durably<T: Sendable>(_ hook: @escaping @Sendable () throws -> Void,
                              _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
            var result: T?
            try db.inTransaction {
                result = try body(db)
                try hook()
                return .commit
            }
            guard let result else { throw StoreError.cannotRegister("the result of a sync transaction") }
            return result
        }
    }

    static func checkContinuity(_ db: Database, origin: NodeID, stream: SyncStream, from: Int64) throws -> Int64 {
        let mark = try mark(db, origin: origin, stream: stream)
        guard try mayContinue(db, origin: origin, stream: stream, mark: mark, from: from) else {
            throw Refusal.gap(mark: mark)
        }
        return mark
    }

    /// Whether `from` may follow `mark`: directly, or across a range the node declared compacted.
    static func mayContinue(_ db: Database, origin: NodeID, stream: SyncStream, mark: Int64, from: Int64) throws -> Bool {
        if from <= mark + 1 { return true }
        return try SyncGapRow.of(origin, stream)
            .filter(SyncGapRow.Columns.fromSeq <= mark + 1 && SyncGapRow.Columns.toSeq >= from - 1).isEmpty(db) == false
    }

    /// The backlog reported at handshake, less what arrived since.
    static func reduceBacklog(_ db: Database, origin: NodeID, by count: Int) throws {
        guard count > 0 else { return }
        if var enrolled = try SyncNodeRow.fetchOne(db, key: origin) {
            enrolled.backlog = max(0, enrolled.backlog - Int64(count))
            try enrolled.update(db)
        }
    }

    /// A `store.compacted` marker: the range is a deliberate gap, and the mark may cross it.
    static func recordCompaction(_ db: Database, origin: NodeID, marker: CompactedMarker, now: UTCMillis) throws {
        guard marker.fromSeq >= 1, marker.toSeq >= marker.fromSeq else { return }
        try SyncGapRow(origin: origin, stream: marker.stream.rawValue, fromSeq: marker.fromSeq, toSeq: marker.toSeq, recordedAt: now)
            .insert(db, onConflict: .ignore)
        let current = try mark(db, origin: origin, stream: marker.stream)
        if current + 1 >= marker.fromSeq {
            try setMark(db, origin: origin, stream: marker.stream, mark: max(current, marker.toSeq), now: now)
        }
    }

    static func originRef(_ db: Database, origin: NodeID) throws -> Int64 {
        try db.execute(sql: "INSERT OR IGNORE INTO sync_origins (origin) VALUES (?)", arguments: [origin])
        guard let ref = try Int64.fetchOne(db, sql: "SELECT ref FROM sync_origins WHERE origin = ?", arguments: [origin]) else {
            throw StoreError.cannotRegister("origin \(origin)")
        }
        return ref
    }
}
