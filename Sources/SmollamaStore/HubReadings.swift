import GRDB
public import SmollamaCore

/// Other nodes' readings on the hub: their rollups (the same 5-minute and hourly buckets as this
/// node's own, keyed by node and sensor), the sensors they synced, and the retention of their raw
/// readings. A pushed batch is folded in the push's own transaction (`HubSyncStore.pushReadings`),
/// so whatever the hub acknowledged is rolled up; `rollUpAll` catches up what a hub held before
/// migration v8, and anything a push left over (more than `foldBatch` behind).
///
/// The hub knows a foreign sensor by its key only (sync carries keys, not descriptors), so every
/// foreign sensor is rolled up as numeric: a binary sensor's mean is the share of its samples that
/// were on, and it gets no on-count or on-duration. Times are the repaired ones
/// (`foreign_readings_timed`): the node's stamps, except those taken under an untrusted clock.
public struct HubReadingStore: FeatureStore {
    let database: SmollamaDatabase

    /// At most this many readings are folded in one transaction.
    public static let foldBatch = 50_000

    /// What one retention pass deleted.
    public struct RetentionOutcome: Hashable, Sendable {
        public var readings = 0
        public var fiveMinuteRollups = 0
    }

    static let v8 = """
        -- Hub: other nodes' rollups, the same buckets as `rollups`, keyed by (node, sensor).
        CREATE TABLE foreign_rollups (
            origin_ref INTEGER NOT NULL REFERENCES sync_origins(ref),
            sensor INTEGER NOT NULL REFERENCES foreign_sensors(id),
            resolution INTEGER NOT NULL,
            bucket_start INTEGER NOT NULL,
            count INTEGER NOT NULL,
            min REAL,
            max REAL,
            sum REAL NOT NULL,
            last REAL,
            last_time INTEGER,
            on_count INTEGER NOT NULL DEFAULT 0,
            on_duration INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (origin_ref, sensor, resolution, bucket_start)
        ) WITHOUT ROWID;

        -- Hub: per node, the largest reading id folded into foreign_rollups (every smaller one is
        -- too). Hub retention deletes raw readings only at or below it.
        CREATE TABLE foreign_rollup_cursors (
            origin_ref INTEGER PRIMARY KEY NOT NULL REFERENCES sync_origins(ref),
            rolled_up INTEGER NOT NULL
        );
        """

    // MARK: folding

    /// Folds one node's next readings (after its cursor, in id order) into its rollups and moves
    /// the cursor, inside the caller's transaction. Readings are placed at their repaired times
    /// (`foreign_readings_timed`: a stamp taken under an untrusted clock is re-timed from the
    /// boot's clock anchor). Returns how many readings were folded.
    @discardableResult
    static func fold(_ db: Database, originRef: Int64, limit: Int = foldBatch) throws -> Int {
        let cursor = try Int64.fetchOne(
            db, sql: "SELECT rolled_up FROM foreign_rollup_cursors WHERE origin_ref = ?", arguments: [originRef]) ?? 0
        guard let origin = try NodeID.fetchOne(db, sql: "SELECT origin FROM sync_origins WHERE ref = ?", arguments: [originRef])
        else { return 0 }
        var sensorRows: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, key FROM foreign_sensors WHERE origin_ref = ?", arguments: [originRef]) {
            sensorRows[row[1]] = row[0]
        }
        // Positional columns and one pass over a cursor: this runs inside every push transaction.
        // Each bucket continues from its stored rollup, as the node's own fold does.
        let stored = try db.cachedStatement(
            sql: "SELECT * FROM foreign_rollups WHERE origin_ref = ? AND sensor = ? AND resolution = ? AND bucket_start = ?")
        var builder = RollupBuilder()
        var count = 0
        var created = 0
        var last: Int64 = cursor
        let rows = try Row.fetchCursor(
            db, sql: "SELECT id, sensor, corrected_time, value FROM foreign_readings_timed WHERE origin = ? AND id > ? ORDER BY id LIMIT ?",
            arguments: [origin, cursor, limit])
        while let row = try rows.next() {
            let key: String = row[1]
            guard let sensorRow = sensorRows[key] else { throw StoreError.unknownSensor(SensorID(key)) }
            let sensor = SensorID(key)
            try builder.add(Reading(sensor: sensor, time: UTCMillis(rawValue: row[2]), value: row[3]), kind: .numeric) { bucket in
                guard let existing = try Row.fetchOne(stored, arguments: [originRef, sensorRow, bucket.resolution.rawValue,
                                                                          bucket.bucketStart])
                else {
                    created += 1
                    return nil
                }
                return ReadingStore.rollup(existing, sensor: sensor, resolution: bucket.resolution)
            }
            last = row[0]
            count += 1
        }
        guard count > 0 else { return 0 }
        try store(db, builder, originRef: originRef, sensorRows: { sensorRows[$0.rawValue] }, cursor: last, created: created)
        return count
    }

    /// Writes a fold's rollups and moves the node's cursor to `cursor`.
    static func store(_ db: Database, _ builder: RollupBuilder, originRef: Int64, sensorRows: (SensorID) -> Int64?, cursor: Int64,
                      created: Int) throws {
        let store = try db.cachedStatement(sql: ReadingStore.storeSQL(table: "foreign_rollups", key: ["origin_ref", "sensor"]))
        for (key, rollup) in builder.rollups {
            try store.execute(arguments: StatementArguments([originRef, sensorRows(key.sensor)] + ReadingStore.values(key, rollup)))
        }
        try db.execute(
            sql: """
                INSERT INTO foreign_rollup_cursors (origin_ref, rolled_up) VALUES (?, ?)
                ON CONFLICT(origin_ref) DO UPDATE SET rolled_up = excluded.rolled_up
                """, arguments: [originRef, cursor])
        try addUsage(db, originRef: originRef, rollups: Int64(created))
    }

    /// Folds every node's readings that are not rolled up yet. Returns how many were folded.
    @discardableResult
    public func rollUpAll() async throws -> Int {
        let refs = try await reader.read { db in
            try Int64.fetchAll(
                db,
                sql: """
                    SELECT o.ref FROM sync_origins o LEFT JOIN foreign_rollup_cursors c ON c.origin_ref = o.ref
                    WHERE EXISTS (SELECT 1 FROM foreign_readings r WHERE r.origin_ref = o.ref AND r.id > coalesce(c.rolled_up, 0))
                    ORDER BY o.ref
                    """)
        }
        var total = 0
        for ref in refs {
            while true {
                let folded = try await writer.write { db in try Self.fold(db, originRef: ref) }
                total += folded
                if folded == 0 { break }
            }
        }
        return total
    }

    // MARK: reading

    static func originRef(_ db: Database, node: NodeID) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT ref FROM sync_origins WHERE origin = ?"), arguments: [node])
    }

    /// A node's sensors as it synced them (by key), each with its newest value and its last hour
    /// before `now`, from the node's 5-minute rollups, and marked simulated as the node reported
    /// at its handshake. Empty for a node that sent no readings. The node page reads this on
    /// every load: its statements are prepared once per connection.
    public func sensorSummaries(node: NodeID, now: UTCMillis) async throws -> [SensorSummary] {
        try await reader.read { db in
            guard let ref = try Self.originRef(db, node: node) else { return [] }
            let fiveMinutes = Rollup.Resolution.fiveMinutes.rawValue
            let hourStart = Rollup.Resolution.fiveMinutes.bucketStart(now - .seconds(3600))
            let simulated = Set(try String.fetchAll(
                db.cachedStatement(sql: "SELECT sensor FROM foreign_simulated_sensors WHERE origin = ?"), arguments: [node]))
            let latest = try db.cachedStatement(sql: """
                SELECT last, last_time FROM foreign_rollups
                WHERE origin_ref = ? AND sensor = ? AND resolution = ? AND count > 0 ORDER BY bucket_start DESC LIMIT 1
                """)
            let hour = try db.cachedStatement(sql: """
                SELECT min(min), sum(sum) / sum(count), max(max) FROM foreign_rollups
                WHERE origin_ref = ? AND sensor = ? AND resolution = ? AND bucket_start >= ? AND count > 0
                """)
            return try Row.fetchAll(db.cachedStatement(sql: "SELECT id, key FROM foreign_sensors WHERE origin_ref = ? ORDER BY key"),
                                    arguments: [ref]).map { sensor in
                let id: Int64 = sensor[0]
                let last = try Row.fetchOne(latest, arguments: [ref, id, fiveMinutes])
                let range = try Row.fetchOne(hour, arguments: [ref, id, fiveMinutes, hourStart])
                let key = SensorID(sensor[1] as String)
                return SensorSummary(
                    sensor: SensorDescriptor(id: key, name: key.rawValue), driver: "sync", status: "ok",
                    lastValue: last?[0], lastTime: last?[1], consecutiveFailures: 0, faultCount: 0,
                    rejectedCount: 0, lastError: nil, lastErrorTime: nil, hourMin: range?[0], hourMean: range?[1],
                    hourMax: range?[2], simulated: simulated.contains(key.rawValue))
            }
        }
    }

    /// A node's sensors as it synced them: by key (sync carries no descriptors), as numeric.
    public func sensors(node: NodeID) async throws -> [SensorDescriptor] {
        try await reader.read { db in
            guard let ref = try Self.originRef(db, node: node) else { return [] }
            return try String.fetchAll(db, sql: "SELECT key FROM foreign_sensors WHERE origin_ref = ? ORDER BY key", arguments: [ref])
                .map { SensorDescriptor(id: SensorID($0), name: $0) }
        }
    }

    /// How many sensors each node synced readings of.
    public func sensorCounts() async throws -> [NodeID: Int] {
        try await reader.read { db in
            var counts: [NodeID: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql: "SELECT o.origin, count(*) AS n FROM foreign_sensors s JOIN sync_origins o ON o.ref = s.origin_ref GROUP BY o.origin")
            {
                counts[row["origin"] as NodeID] = row["n"]
            }
            return counts
        }
    }

    /// Rollups of one sensor of another node, oldest first.
    public func rollups(node: NodeID, sensor: SensorID, resolution: Rollup.Resolution, from: UTCMillis = .distantPast,
                        to: UTCMillis = .distantFuture) async throws -> [Rollup] {
        try await reader.read { db in
            guard let ref = try Self.originRef(db, node: node),
                  let id = try Int64.fetchOne(db, sql: "SELECT id FROM foreign_sensors WHERE origin_ref = ? AND key = ?",
                                              arguments: [ref, sensor.rawValue])
            else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM foreign_rollups
                    WHERE origin_ref = ? AND sensor = ? AND resolution = ? AND bucket_start >= ? AND bucket_start < ?
                    ORDER BY bucket_start
                    """, arguments: [ref, id, resolution.rawValue, from, to]
            ).map { ReadingStore.rollup($0, sensor: sensor, resolution: resolution) }
        }
    }

    // MARK: retention

    /// Deletes other nodes' raw readings older than `rawCutoff` that are rolled up (at or below
    /// the node's cursor), and 5-minute rollups of buckets starting before `rollupCutoff`. Hourly
    /// rollups are never deleted. Works through each node's ids in chunks, so the write lock is
    /// never held long; times are not assumed to grow with ids (a node's imported history does
    /// not), so every rolled-up id is looked at.
    @discardableResult
    public func deleteExpired(rawOlderThan rawCutoff: UTCMillis, fiveMinuteRollupsOlderThan rollupCutoff: UTCMillis,
                              chunk: Int64 = 50_000) async throws -> RetentionOutcome {
        let ranges = try await reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT c.origin_ref AS ref, c.rolled_up AS high,
                        (SELECT min(id) FROM foreign_readings r WHERE r.origin_ref = c.origin_ref) AS low
                    FROM foreign_rollup_cursors c ORDER BY c.origin_ref
                    """
            ).map { (ref: $0["ref"] as Int64, low: $0["low"] as Int64?, high: $0["high"] as Int64) }
        }
        var outcome = RetentionOutcome()
        for range in ranges {
            guard var start = range.low.map({ $0 - 1 }) else { continue }
            while start < range.high {
                let (from, end) = (start, min(start + chunk, range.high))
                outcome.readings += try await writer.write { db in
                    try db.execute(
                        sql: "DELETE FROM foreign_readings WHERE origin_ref = ? AND id > ? AND id <= ? AND time < ?",
                        arguments: [range.ref, from, end, rawCutoff])
                    let deleted = db.changesCount
                    try Self.addUsage(db, originRef: range.ref, raw: -Int64(deleted))
                    return deleted
                }
                start = end
            }
        }
        outcome.fiveMinuteRollups = try await writer.write { db in
            var deleted = 0
            for row in try Row.fetchAll(db, sql: "SELECT id, origin_ref FROM foreign_sensors") {
                try db.execute(
                    sql: """
                        DELETE FROM foreign_rollups
                        WHERE origin_ref = ? AND sensor = ? AND resolution = ? AND bucket_start < ?
                        """,
                    arguments: [row["origin_ref"] as Int64, row["id"] as Int64, Rollup.Resolution.fiveMinutes.rawValue,
                                rollupCutoff])
                deleted += db.changesCount
                try Self.addUsage(db, originRef: row["origin_ref"], rollups: -Int64(db.changesCount))
            }
            return deleted
        }
        return outcome
    }
}

extension SmollamaDatabase {
    public var hubReadings: HubReadingStore { HubReadingStore(database: self) }
}
