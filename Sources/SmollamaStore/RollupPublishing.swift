import Foundation
import GRDB
public import SmollamaCore

/// Rollups sent as events (`sync.raw_readings: false`). While publishing is on, every fold
/// (`rollUp`) notes the buckets it changed in `rollup_outbox`, in its own transaction;
/// `publishRollups` turns the noted buckets into one `rollup.snapshot` event holding their current
/// state and clears them, again in one transaction. So a change is either still noted or inside
/// an event of the log (nothing lost), a bucket is sent again only after it changed (a later
/// snapshot replaces the earlier one on the hub), and the event log's contiguous, acknowledged
/// pushes carry them across partial transfers.
extension ReadingStore {
    static let v10 = """
        -- Node: rollup buckets changed since they were last sent as a rollup.snapshot event.
        CREATE TABLE rollup_outbox (
            sensor INTEGER NOT NULL REFERENCES sensors(id),
            resolution INTEGER NOT NULL,
            bucket_start INTEGER NOT NULL,
            PRIMARY KEY (sensor, resolution, bucket_start)
        ) WITHOUT ROWID;

        -- Hub: rows held per node (raw readings, rollups), kept in the transactions that add or
        -- delete them, so disk use per node is read without scanning.
        CREATE TABLE foreign_usage (
            origin_ref INTEGER PRIMARY KEY NOT NULL REFERENCES sync_origins(ref),
            raw_readings INTEGER NOT NULL DEFAULT 0,
            rollups INTEGER NOT NULL DEFAULT 0
        );
        -- Hub: each node's wall clock against the hub's at its last handshake (issue 16).
        ALTER TABLE sync_nodes ADD COLUMN clock_offset_ms INTEGER;

        INSERT INTO foreign_usage (origin_ref, raw_readings, rollups)
            SELECT o.ref, (SELECT count(*) FROM foreign_readings r WHERE r.origin_ref = o.ref),
                (SELECT count(*) FROM foreign_rollups f WHERE f.origin_ref = o.ref)
            FROM sync_origins o;
        """

    static func publishesRollups(_ db: Database) throws -> Bool {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'rollup_events'") == "1"
    }

    /// Turns rollup events on or off (a node's `sync.enabled && !sync.raw_readings`). Turning
    /// them on notes every stored bucket, so the hub gets the node's history too; turning them
    /// off forgets what was noted. Writes nothing when the setting is unchanged.
    public func setRollupPublishing(_ on: Bool) async throws {
        let current = try await reader.read { db in try Self.publishesRollups(db) }
        guard current != on else { return }
        try await writer.write { db in
            if on {
                try db.execute(sql: "INSERT OR IGNORE INTO rollup_outbox SELECT sensor, resolution, bucket_start FROM rollups")
            } else {
                try db.execute(sql: "DELETE FROM rollup_outbox")
            }
            try db.execute(
                sql: "INSERT INTO meta (key, value) VALUES ('rollup_events', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [on ? "1" : "0"])
        }
    }

    /// Buckets changed and not yet sent as an event.
    public func unpublishedRollups() async throws -> Int {
        try await reader.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM rollup_outbox") ?? 0 }
    }

    /// Appends one `rollup.snapshot` event with the current state of up to
    /// `RollupSnapshot.maxBuckets` noted buckets (oldest first) and clears them, in one
    /// transaction. Returns how many buckets it sent (0: nothing was noted, no event).
    @discardableResult
    public func publishRollups(origin: NodeID, stamp: ClockStamp, limit: Int = RollupSnapshot.maxBuckets) async throws -> Int {
        try await writer.write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT o.sensor AS sensor_row, s.key, o.resolution, o.bucket_start, r.count, r.min, r.max, r.sum, r.last,
                        r.last_time, r.on_count, r.on_duration
                    FROM rollup_outbox o JOIN sensors s ON s.id = o.sensor
                    LEFT JOIN rollups r ON r.sensor = o.sensor AND r.resolution = o.resolution AND r.bucket_start = o.bucket_start
                    ORDER BY o.bucket_start, o.sensor, o.resolution LIMIT ?
                    """, arguments: [limit])
            guard !rows.isEmpty else { return 0 }
            var buckets: [RollupSnapshot.Bucket] = []
            let forget = try db.cachedStatement(
                sql: "DELETE FROM rollup_outbox WHERE sensor = ? AND resolution = ? AND bucket_start = ?")
            for row in rows {
                let resolutionValue: Int64 = row["resolution"]
                try forget.execute(arguments: [row["sensor_row"] as Int64, resolutionValue, row["bucket_start"] as Int64])
                guard let resolution = Rollup.Resolution(rawValue: resolutionValue), row["count"] as Int64? != nil else { continue }
                buckets.append(RollupSnapshot.Bucket(Self.rollup(row, sensor: SensorID(row["key"] as String), resolution: resolution)))
            }
            if !buckets.isEmpty {
                try EventStore.appendEvent(db, .rollups(RollupSnapshot(buckets: buckets)), origin: origin, stamp: stamp)
            }
            return rows.count
        }
    }

    /// Notes the buckets a fold changed, when rollup events are on (inside the fold's transaction).
    static func noteForPublishing(_ db: Database, _ keys: [(Int64, RollupBuilder.Key)]) throws {
        guard try publishesRollups(db) else { return }
        let note = try db.cachedStatement(sql: "INSERT OR IGNORE INTO rollup_outbox (sensor, resolution, bucket_start) VALUES (?, ?, ?)")
        for (sensorRow, key) in keys {
            try note.execute(arguments: [sensorRow, key.resolution.rawValue, key.bucketStart])
        }
    }
}
