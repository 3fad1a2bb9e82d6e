import GRDB
import GRDBSQLite
public import SmollamaCore

extension ReadingStore {
    /// Folds the next readings (after the rollup cursor, in id order) into 5-minute and hourly
    /// rollups, in one transaction with the cursor. Returns how many readings were folded.
    @discardableResult
    public func rollUp(batchSize: Int = 50_000) async throws -> Int {
        try await writer.write { db in
            let cursor = try Self.rollupCursor(db)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT r.id, r.time, r.value, s.key, s.kind, s.id AS sensor_row
                    FROM readings r JOIN sensors s ON s.id = r.sensor
                    WHERE r.id > ? ORDER BY r.id LIMIT ?
                    """, arguments: [cursor, batchSize])
            guard let lastID = rows.last?["id"] as Int64? else { return 0 }

            var rowIDs: [SensorID: Int64] = [:]
            var carry: [SensorID: RollupBuilder.BinaryCarry] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT s.key, c.value, c.time FROM rollup_carry c JOIN sensors s ON s.id = c.sensor")
            {
                carry[SensorID(row["key"] as String)] = .init(value: row["value"], time: row["time"])
            }
            var builder = RollupBuilder(carry: carry)
            // Each bucket continues from its stored rollup (see `RollupBuilder.add(_:kind:stored:)`).
            let stored = try db.cachedStatement(sql: "SELECT * FROM rollups WHERE sensor = ? AND resolution = ? AND bucket_start = ?")
            for row in rows {
                let sensor = SensorID(row["key"] as String)
                let rowID: Int64 = row["sensor_row"]
                rowIDs[sensor] = rowID
                let kind = SensorDescriptor.Kind(rawValue: row["kind"]) ?? .numeric
                try builder.add(Reading(sensor: sensor, time: row["time"], value: row["value"]), kind: kind) { key in
                    try Row.fetchOne(stored, arguments: [rowID, key.resolution.rawValue, key.bucketStart])
                        .map { Self.rollup($0, sensor: key.sensor, resolution: key.resolution) }
                }
            }

            let store = try db.cachedStatement(sql: Self.storeSQL(table: "rollups", key: ["sensor"]))
            for (key, rollup) in builder.rollups {
                try store.execute(arguments: StatementArguments([rowIDs[key.sensor]] + Self.values(key, rollup)))
            }
            try Self.noteForPublishing(db, builder.rollups.keys.compactMap { key in rowIDs[key.sensor].map { ($0, key) } })
            for (sensor, state) in builder.carry {
                guard let rowID = rowIDs[sensor] else { continue }
                try db.execute(
                    sql: """
                        INSERT INTO rollup_carry (sensor, value, time) VALUES (?, ?, ?)
                        ON CONFLICT(sensor) DO UPDATE SET value = excluded.value, time = excluded.time
                        """, arguments: [rowID, state.value, state.time])
            }
            try db.execute(
                sql: "INSERT INTO meta (key, value) VALUES ('rollup_cursor', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [String(lastID)])
            return rows.count
        }
    }

    /// Rolls up everything pending.
    public func rollUpAll(batchSize: Int = 50_000) async throws {
        while try await rollUp(batchSize: batchSize) > 0 {}
    }

    /// Writes a bucket's whole rollup (built on top of the stored one, so it replaces it). The
    /// node's own rollups and the hub's rollups of other nodes (`HubReadingStore`) are written the
    /// same way; `key` names the columns before `resolution, bucket_start` in the primary key.
    static func storeSQL(table: String, key: [String]) -> String {
        let columns = (key + ["resolution", "bucket_start", "count", "min", "max", "sum", "last", "last_time", "on_count",
                              "on_duration"]).joined(separator: ", ")
        let values = Array(repeating: "?", count: key.count + 10).joined(separator: ", ")
        let conflict = (key + ["resolution", "bucket_start"]).joined(separator: ", ")
        return """
            INSERT INTO \(table) (\(columns))
            VALUES (\(values))
            ON CONFLICT(\(conflict)) DO UPDATE SET
                count = excluded.count, min = excluded.min, max = excluded.max, sum = excluded.sum, last = excluded.last,
                last_time = excluded.last_time, on_count = excluded.on_count, on_duration = excluded.on_duration
            """
    }

    /// The values of `storeSQL` after the key columns; a bucket without samples stores NULL
    /// min, max, last and last time.
    static func values(_ key: RollupBuilder.Key, _ rollup: Rollup) -> [(any DatabaseValueConvertible)?] {
        let hasValues = rollup.count > 0
        return [
            key.resolution.rawValue, key.bucketStart, rollup.count, hasValues ? rollup.min : nil, hasValues ? rollup.max : nil,
            rollup.sum, hasValues ? rollup.last : nil, hasValues ? rollup.lastTime : nil, rollup.onCount, rollup.onDuration,
        ]
    }

    /// A stored rollup row (`rollups` or `foreign_rollups`) as a value.
    static func rollup(_ row: Row, sensor: SensorID, resolution: Rollup.Resolution) -> Rollup {
        Rollup(
            sensor: sensor, resolution: resolution, bucketStart: row["bucket_start"], count: row["count"],
            min: row["min"] ?? .infinity, max: row["max"] ?? -.infinity, sum: row["sum"],
            last: row["last"] ?? .nan, lastTime: row["last_time"] ?? .distantPast, onCount: row["on_count"],
            onDuration: row["on_duration"])
    }

    static func rollupCursor(_ db: Database) throws -> Int64 {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'rollup_cursor'").flatMap { Int64($0) } ?? 0
    }

    /// Rollups of one sensor, oldest first.
    public func rollups(sensor: SensorID, resolution: Rollup.Resolution, from: UTCMillis = .distantPast, to: UTCMillis = .distantFuture) async throws
        -> [Rollup]
    {
        try await rollups(sensors: [sensor], resolution: resolution, from: from, to: to)[sensor] ?? []
    }

    /// Rollups of several sensors (each oldest first), in one read: a page of charts is one
    /// trip to the reader, one prepared statement and a primary-key range per sensor.
    public func rollups(sensors: [SensorID], resolution: Rollup.Resolution, from: UTCMillis = .distantPast,
                        to: UTCMillis = .distantFuture) async throws -> [SensorID: [Rollup]] {
        try await reader.read { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT r.bucket_start, r.count, r.min, r.max, r.sum, r.last, r.last_time, r.on_count, r.on_duration
                    FROM rollups r JOIN sensors s ON s.id = r.sensor
                    WHERE s.key = ? AND r.resolution = ? AND r.bucket_start >= ? AND r.bucket_start < ?
                    ORDER BY r.bucket_start
                    """)
            // Columns straight from the statement: GRDB's generic row decoding cost more than
            // the query on a 30-day page (9 sensors × 720 rows).
            let handle = statement.sqliteStatement
            func double(_ column: Int32) -> Double? {
                sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_double(handle, column)
            }
            var all: [SensorID: [Rollup]] = [:]
            for sensor in sensors where all[sensor] == nil {
                var rollups: [Rollup] = []
                try statement.setArguments([sensor.rawValue, resolution.rawValue, from, to])
                var code = sqlite3_step(handle)
                while code == SQLITE_ROW {
                    let lastTime = sqlite3_column_type(handle, 6) == SQLITE_NULL
                        ? UTCMillis.distantPast : UTCMillis(rawValue: sqlite3_column_int64(handle, 6))
                    rollups.append(Rollup(
                        sensor: sensor, resolution: resolution, bucketStart: UTCMillis(rawValue: sqlite3_column_int64(handle, 0)),
                        count: sqlite3_column_int64(handle, 1), min: double(2) ?? .infinity, max: double(3) ?? -.infinity,
                        sum: sqlite3_column_double(handle, 4), last: double(5) ?? .nan, lastTime: lastTime,
                        onCount: sqlite3_column_int64(handle, 7), onDuration: sqlite3_column_int64(handle, 8)))
                    code = sqlite3_step(handle)
                }
                sqlite3_reset(handle)
                guard code == SQLITE_DONE else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: code),
                                        message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                all[sensor] = rollups
            }
            return all
        }
    }
}
