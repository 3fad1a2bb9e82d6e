import GRDB
public import SmollamaCore

extension ReadingStore {
    /// Records a failed read. Returns the consecutive failure count after this one.
    @discardableResult
    public func recordFailure(sensorRowIDs: [Int64], reason: String, now: UTCMillis, markFaulty: Bool) async throws -> Int {
        try await writer.write { db in
            var consecutive = 0
            for sensor in sensorRowIDs {
                try db.execute(
                    sql: """
                        UPDATE sensor_state SET consecutive_failures = consecutive_failures + 1,
                            fault_count = fault_count + 1, last_error = ?, last_error_at = ?,
                            status = CASE WHEN ? THEN 'faulty' ELSE status END
                        WHERE sensor = ?
                        """, arguments: [reason, now, markFaulty, sensor])
                consecutive = max(
                    consecutive,
                    try Int.fetchOne(
                        db, sql: "SELECT consecutive_failures FROM sensor_state WHERE sensor = ?",
                        arguments: [sensor]) ?? 0)
            }
            return consecutive
        }
    }

    /// Records a good read after failures: the sensors are healthy again.
    public func recordRecovery(sensorRowIDs: [Int64]) async throws {
        try await writer.write { db in
            for sensor in sensorRowIDs {
                try db.execute(
                    sql: "UPDATE sensor_state SET consecutive_failures = 0, status = 'ok' WHERE sensor = ?",
                    arguments: [sensor])
            }
        }
    }

    /// Counts a refused value (NaN, out of range) with its reason.
    public func recordRejection(sensorRowID: Int64, reason: String, now: UTCMillis) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    UPDATE sensor_state SET rejected_count = rejected_count + 1, last_error = ?, last_error_at = ?
                    WHERE sensor = ?
                    """, arguments: [reason, now, sensorRowID])
        }
    }
}
