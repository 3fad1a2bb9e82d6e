import GRDB
import SmollamaCore

extension HubReadingStore {
    /// The node's fold cursor: every reading id at or below it is rolled up.
    static func cursor(_ db: Database, originRef: Int64) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT rolled_up FROM foreign_rollup_cursors WHERE origin_ref = ?"),
                           arguments: [originRef]) ?? 0
    }

    /// Whether the hub holds readings of the node that are not rolled up (after `cursor`).
    static func holdsUnfolded(_ db: Database, originRef: Int64, after cursor: Int64) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM foreign_readings WHERE origin_ref = ? AND id > ?)"),
            arguments: [originRef, cursor]) ?? false
    }

    /// Folds the readings a push just inserted (`inserted`: indexes into `batch.rows`, in id
    /// order) without reading them back (issue 21). Only for a node whose readings were all rolled
    /// up before the push (`holdsUnfolded` was false): then these are exactly the readings after
    /// the cursor, and the result is `fold(_:originRef:limit:)`'s to the bit. Times are repaired
    /// as `foreign_readings_timed` repairs them: one offset per epoch, computed by the same SQL.
    static func fold(_ db: Database, originRef: Int64, origin: NodeID, batch: ReadingBatch, inserted: [Int],
                     sensorRows: [Int64]) throws {
        guard let lastIndex = inserted.last else { return }
        let offsetOf = try db.cachedStatement(sql: """
            SELECT CASE WHEN a.hub_time IS NOT NULL AND (ep.quality = 'unsynced'
                    OR (ep.started_hlc >> 16) - ep.started_monotonic_ns / 1000000
                        > a.hub_time - a.monotonic_ns / 1000000 + 600000)
                THEN a.hub_time - a.monotonic_ns / 1000000 - (ep.started_hlc >> 16) + ep.started_monotonic_ns / 1000000
                ELSE 0 END
            FROM foreign_epochs ep LEFT JOIN clock_anchors a ON a.origin = ? AND a.boot_id = ep.boot_id
            WHERE ep.origin_ref = ? AND ep.epoch = ?
            """)
        let offsets = try batch.epochs.map { try Int64.fetchOne(offsetOf, arguments: [origin, originRef, $0.id]) ?? 0 }
        let sensors = batch.sensors.map { SensorID($0) }
        var rowOf: [SensorID: Int64] = [:]
        for (sensor, row) in zip(sensors, sensorRows) { rowOf[sensor] = row }
        let storedRollup = try db.cachedStatement(
            sql: "SELECT * FROM foreign_rollups WHERE origin_ref = ? AND sensor = ? AND resolution = ? AND bucket_start = ?")
        var builder = RollupBuilder()
        var created = 0
        for index in inserted {
            let row = batch.rows[index]
            let sensor = sensors[row.sensor]
            let reading = Reading(sensor: sensor, time: UTCMillis(rawValue: row.time &+ offsets[row.epoch]), value: row.value)
            try builder.add(reading, kind: .numeric) { bucket in
                guard let existing = try Row.fetchOne(storedRollup, arguments: [originRef, rowOf[bucket.sensor],
                                                                                bucket.resolution.rawValue, bucket.bucketStart])
                else {
                    created += 1
                    return nil
                }
                return ReadingStore.rollup(existing, sensor: bucket.sensor, resolution: bucket.resolution)
            }
        }
        try store(db, builder, originRef: originRef, sensorRows: { rowOf[$0] }, cursor: batch.rows[lastIndex].id, created: created)
    }
}
