import GRDB
public import SmollamaCore

/// One sensor's current state as `smollama sensors` and `status` show it.
public struct SensorSummary: Hashable, Sendable, Codable {
    public var sensor: SensorDescriptor
    public var driver: String
    public var status: String
    public var lastValue: Double?
    public var lastTime: UTCMillis?
    public var consecutiveFailures: Int
    public var faultCount: Int
    public var rejectedCount: Int
    public var lastError: String?
    public var lastErrorTime: UTCMillis?
    /// Over the last hour, from 5-minute rollups.
    public var hourMin: Double?
    public var hourMean: Double?
    public var hourMax: Double?
    /// Registered by a simulated driver (issue 17). Not in the JSON (the contract snapshots pin
    /// its shape); `driver` names the driver there.
    public var simulated = false

    enum CodingKeys: String, CodingKey {
        case sensor, driver, status, lastValue, lastTime, consecutiveFailures, faultCount, rejectedCount, lastError,
             lastErrorTime, hourMin, hourMean, hourMax
    }
}

/// Facts about the store for `smollama status`.
public struct StoreStatus: Hashable, Sendable, Codable {
    public var readingCount: Int64
    public var oldestReadingTime: UTCMillis?
    public var newestReadingTime: UTCMillis?
    /// Readings not yet folded into rollups.
    public var rollupLag: Int64
    public var eventCount: Int64
    public var clockQuality: ClockQuality?
    public var maxIssuedTimestamp: HLCTimestamp?
}

extension SmollamaDatabase {
    public func sensorSummaries(now: UTCMillis) async throws -> [SensorSummary] {
        try await reader.read { db in
            let sensors = try ReadingStore.fetchSensors(db)
            let hourStart = Rollup.Resolution.fiveMinutes.bucketStart(now - .seconds(3600))
            // Prepared once per connection (every page asks): two primary-key lookups per sensor.
            let stateStatement = try db.cachedStatement(sql: "SELECT * FROM sensor_state WHERE sensor = ?")
            let hourStatement = try db.cachedStatement(
                sql: """
                    SELECT min(min) AS lo, sum(sum) / sum(count) AS mean, max(max) AS hi FROM rollups
                    WHERE sensor = ? AND resolution = ? AND bucket_start >= ? AND count > 0
                    """)
            return try sensors.map { registered in
                let state = try Row.fetchOne(stateStatement, arguments: [registered.rowID])
                let hour = try Row.fetchOne(
                    hourStatement, arguments: [registered.rowID, Rollup.Resolution.fiveMinutes.rawValue, hourStart])
                return SensorSummary(
                    sensor: registered.descriptor, driver: registered.driver, status: state?["status"] ?? "ok",
                    lastValue: state?["last_value"], lastTime: state?["last_time"],
                    consecutiveFailures: state?["consecutive_failures"] ?? 0, faultCount: state?["fault_count"] ?? 0,
                    rejectedCount: state?["rejected_count"] ?? 0, lastError: state?["last_error"],
                    lastErrorTime: state?["last_error_at"], hourMin: hour?["lo"], hourMean: hour?["mean"],
                    hourMax: hour?["hi"], simulated: registered.simulated)
            }
        }
    }

    /// The last stored value per sensor: the scheduler resumes on-change suppression from it.
    public func lastStoredValues() async throws -> [SensorID: (value: Double, time: UTCMillis)] {
        try await reader.read { db in
            var values: [SensorID: (value: Double, time: UTCMillis)] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT s.key, st.last_value, st.last_time FROM sensor_state st JOIN sensors s ON s.id = st.sensor
                    WHERE st.last_time IS NOT NULL
                    """)
            {
                values[SensorID(row["key"] as String)] = (row["last_value"], row["last_time"])
            }
            return values
        }
    }

    public func storeStatus() async throws -> StoreStatus {
        let maxIssued = try await meta.maxIssuedTimestamp()
        return try await reader.read { db in
            // Readings are deleted only as a prefix, so max(id) - min(id) + 1 is the exact count
            // without scanning millions of rows.
            // Two subqueries: SQLite answers a lone min() or max() from the b-tree's ends, but
            // `SELECT min(id), max(id)` in one query scans the whole table (25 ms at 390 k rows).
            let bounds = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT (SELECT min(id) FROM readings) AS lo, (SELECT max(id) FROM readings) AS hi"))
            let low: Int64? = bounds?["lo"]
            let high: Int64? = bounds?["hi"]
            let count = low.flatMap { low in high.map { $0 - low + 1 } } ?? 0
            let oldest = try UTCMillis.fetchOne(db.cachedStatement(sql: "SELECT time FROM readings ORDER BY id LIMIT 1"))
            let newest = try UTCMillis.fetchOne(db.cachedStatement(sql: "SELECT time FROM readings ORDER BY id DESC LIMIT 1"))
            let cursor = try ReadingStore.rollupCursor(db)
            let quality = try String.fetchOne(db.cachedStatement(sql: "SELECT quality FROM clock_epochs ORDER BY id DESC LIMIT 1"))
            return StoreStatus(
                readingCount: count, oldestReadingTime: oldest, newestReadingTime: newest,
                rollupLag: max(0, (high ?? 0) - max(cursor, (low ?? 1) - 1)),
                eventCount: try Int64.fetchOne(db.cachedStatement(sql: "SELECT coalesce(sum(count), 0) FROM event_counts")) ?? 0,
                clockQuality: quality.flatMap(ClockQuality.init(rawValue:)), maxIssuedTimestamp: maxIssued)
        }
    }
}

extension SmollamaDatabase {
    /// `PRAGMA quick_check`: the problems SQLite finds in the store's structure (empty: none).
    /// Reads every page once (~1 s per GB on an SD card).
    public func quickCheck() async throws -> [String] {
        try await reader.read { db in
            let lines = try String.fetchAll(db, sql: "PRAGMA quick_check")
            return lines == ["ok"] ? [] : lines
        }
    }
}
