import GRDB
public import SmollamaCore

/// What the hub holds of one node on disk: its raw readings and rollups, as rows (counted in the
/// transactions that add and delete them) and as an estimate of bytes: rows × the average row
/// size SQLite's dbstat gave for 30 days of one node's 1-minute readings of 13 sensors (561 600
/// raw readings, 121 680 rollups, inserted in id order as pushes arrive): 31.8 and 71.6 bytes,
/// b-tree pages with their free space. Counting pages per node would scan them (the tables are
/// shared by every node), so the estimate is what `hub nodes` and the nodes API show.
public struct NodeDiskUse: Codable, Sendable, Hashable {
    public var rawReadings: Int64
    public var rollups: Int64
    public var bytes: Int64

    /// Bytes per stored row (WITHOUT ROWID b-tree pages, with their free space).
    public static let rawReadingBytes: Int64 = 32
    public static let rollupBytes: Int64 = 72

    public init(rawReadings: Int64, rollups: Int64) {
        self.rawReadings = rawReadings
        self.rollups = rollups
        bytes = rawReadings * Self.rawReadingBytes + rollups * Self.rollupBytes
    }
}

extension HubReadingStore {
    /// Counts rows added (or, negative, deleted) for a node, in the caller's transaction.
    static func addUsage(_ db: Database, originRef: Int64, raw: Int64 = 0, rollups: Int64 = 0) throws {
        guard raw != 0 || rollups != 0 else { return }
        try db.execute(sql: "INSERT OR IGNORE INTO foreign_usage (origin_ref) VALUES (?)", arguments: [originRef])
        try db.execute(
            sql: "UPDATE foreign_usage SET raw_readings = max(0, raw_readings + ?), rollups = max(0, rollups + ?) WHERE origin_ref = ?",
            arguments: [raw, rollups, originRef])
    }

    /// What the hub holds of each node that sent readings or rollups.
    static func diskUse(_ db: Database) throws -> [NodeID: NodeDiskUse] {
        var use: [NodeID: NodeDiskUse] = [:]
        for row in try Row.fetchAll(db.cachedStatement(
            sql: "SELECT o.origin, u.raw_readings, u.rollups FROM foreign_usage u JOIN sync_origins o ON o.ref = u.origin_ref"))
        {
            use[row[0] as NodeID] = NodeDiskUse(rawReadings: row[1], rollups: row[2])
        }
        return use
    }

    /// What the hub holds of each node that sent readings or rollups.
    public func diskUse() async throws -> [NodeID: NodeDiskUse] {
        try await reader.read { db in try Self.diskUse(db) }
    }

    /// Stores the buckets of a node's `rollup.snapshot` event as given (replacing what the hub
    /// held for them), inside the push's transaction. The node sends a bucket again whenever it
    /// changes, and events apply in seq order, so the hub ends with the node's own rollups.
    /// Bucket times are the node's (a node that sends rollups is not re-timed: its buckets cannot
    /// be split at a repaired offset).
    static func apply(_ db: Database, originRef: Int64, snapshot: RollupSnapshot) throws {
        var sensorRows: [SensorID: Int64] = [:]
        let stored = try db.cachedStatement(
            sql: "SELECT 1 FROM foreign_rollups WHERE origin_ref = ? AND sensor = ? AND resolution = ? AND bucket_start = ?")
        let store = try db.cachedStatement(sql: ReadingStore.storeSQL(table: "foreign_rollups", key: ["origin_ref", "sensor"]))
        var created: Int64 = 0
        for bucket in snapshot.buckets {
            let sensorRow: Int64
            if let known = sensorRows[bucket.sensor] {
                sensorRow = known
            } else {
                try db.execute(sql: "INSERT OR IGNORE INTO foreign_sensors (origin_ref, key) VALUES (?, ?)",
                               arguments: [originRef, bucket.sensor.rawValue])
                guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM foreign_sensors WHERE origin_ref = ? AND key = ?",
                                                  arguments: [originRef, bucket.sensor.rawValue])
                else { throw StoreError.unknownSensor(bucket.sensor) }
                sensorRows[bucket.sensor] = id
                sensorRow = id
            }
            if try Int64.fetchOne(stored, arguments: [originRef, sensorRow, bucket.resolution.rawValue, bucket.start]) == nil {
                created += 1
            }
            let key = RollupBuilder.Key(sensor: bucket.sensor, resolution: bucket.resolution, bucketStart: bucket.start)
            try store.execute(arguments: StatementArguments([originRef, sensorRow] + ReadingStore.values(key, bucket.rollup)))
        }
        try addUsage(db, originRef: originRef, rollups: created)
    }
}
