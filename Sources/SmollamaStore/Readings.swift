import Foundation
import GRDB
import GRDBSQLite
public import SmollamaCore

/// A reading accepted by the node but not yet committed.
public struct PendingReading: Hashable, Sendable {
    public var sensorRowID: Int64
    public var value: Double
    public var stamp: ClockStamp

    public init(sensorRowID: Int64, value: Double, stamp: ClockStamp) {
        self.sensorRowID = sensorRowID
        self.value = value
        self.stamp = stamp
    }
}

/// A notice (fault, binary change, clock quality) to append in the same commit as readings.
public struct PendingNotice: Hashable, Sendable {
    public let body: EventBody
    public let stamp: ClockStamp

    /// Checks that the body can be written now, so a bad notice is refused by its producer
    /// instead of failing (and holding back) the writer's whole batch.
    public init(_ body: EventBody, stamp: ClockStamp) throws(EventBodyError) {
        _ = try body.payload()
        self.body = body
        self.stamp = stamp
    }
}

extension ReadingStore {
    /// Commits a batch of readings and notices in one transaction: one fsync for the lot,
    /// which is what keeps an SD card alive (DESIGN §3: ~63 B written per row at 1000 rows
    /// per commit against ~4 KB at one).
    public func commit(readings: [PendingReading], notices: [PendingNotice], origin: NodeID) async throws {
        guard !readings.isEmpty || !notices.isEmpty else { return }
        try await writer.write { db in
            var epoch = try Row.fetchOne(
                db, sql: "SELECT id, boot_id, quality FROM clock_epochs ORDER BY id DESC LIMIT 1"
            ).map { (id: $0["id"] as Int64, bootID: $0["boot_id"] as String, quality: $0["quality"] as String) }
            let insert = try db.cachedStatement(
                sql: "INSERT INTO readings (sensor, time, value, epoch) VALUES (?, ?, ?, ?)")
            var latest: [Int64: (time: Int64, value: Double)] = [:]
            var maxStamp: HLCTimestamp?
            for reading in readings {
                let stamp = reading.stamp
                if epoch == nil || epoch!.bootID != stamp.bootID || epoch!.quality != stamp.quality.rawValue {
                    try db.execute(
                        sql: """
                            INSERT INTO clock_epochs (boot_id, quality, started_hlc, started_monotonic_ns)
                            VALUES (?, ?, ?, ?)
                            """,
                        arguments: [
                            stamp.bootID, stamp.quality.rawValue, stamp.hlc.rawValue,
                            Int64(bitPattern: stamp.monotonicNanoseconds),
                        ])
                    epoch = (db.lastInsertedRowID, stamp.bootID, stamp.quality.rawValue)
                }
                let time = stamp.hlc.milliseconds
                // The hot path: bind straight into the prepared statement. GRDB's argument
                // arrays cost more per row than the insert itself at these batch sizes.
                let handle = insert.sqliteStatement
                sqlite3_bind_int64(handle, 1, reading.sensorRowID)
                sqlite3_bind_int64(handle, 2, time)
                sqlite3_bind_double(handle, 3, reading.value)
                sqlite3_bind_int64(handle, 4, epoch!.id)
                let code = sqlite3_step(handle)
                sqlite3_reset(handle)
                guard code == SQLITE_DONE else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                latest[reading.sensorRowID] = (time, reading.value)
                maxStamp = max(maxStamp ?? stamp.hlc, stamp.hlc)
            }
            let updateState = try db.cachedStatement(
                sql: "UPDATE sensor_state SET last_time = ?, last_value = ? WHERE sensor = ?")
            for (sensor, last) in latest {
                try updateState.execute(arguments: [last.time, last.value, sensor])
            }
            if let maxStamp { try MetaStore.raiseClock(db, to: maxStamp) }
            for notice in notices {
                try EventStore.appendEvent(db, notice.body, origin: origin, stamp: notice.stamp)
            }
        }
    }

    /// Raw readings of one sensor in a time range (oldest first). Scans: meant for exports,
    /// sync and tests, not for dashboards, which read rollups.
    public func fetch(sensor: SensorID, from: UTCMillis = .distantPast, to: UTCMillis = .distantFuture) async throws -> [Reading] {
        try await reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT r.time, r.value FROM readings r JOIN sensors s ON s.id = r.sensor
                    WHERE s.key = ? AND r.time >= ? AND r.time < ? ORDER BY r.id
                    """, arguments: [sensor.rawValue, from, to]
            ).map { Reading(sensor: sensor, time: $0["time"], value: $0["value"]) }
        }
    }

    public func readingCount() async throws -> Int {
        try await reader.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM readings") ?? 0 }
    }
}
