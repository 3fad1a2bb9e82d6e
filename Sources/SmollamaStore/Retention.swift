import GRDB
public import SmollamaCore

extension SmollamaDatabase {
    /// Deletes raw readings older than `cutoff` that are already rolled up and, when
    /// `acknowledgedBy` names a peer, acknowledged by it. Nothing else is ever deleted here.
    /// Returns the number of rows deleted.
    ///
    /// Live reading times never decrease in id order (the node clock is monotonic), so the cut is
    /// found by binary search on ids instead of scanning the table (imported blocks aside).
    @discardableResult
    public func deleteExpiredReadings(olderThan cutoff: UTCMillis, acknowledgedBy peer: String?, chunk: Int = 20_000)
        async throws -> Int
    {
        let limit: Int64 = try await reader.read { db in
            var limit = try ReadingStore.rollupCursor(db)
            if let peer {
                limit = min(limit, try PeerCheckpointRow.acknowledged(db, peer: peer, stream: .readings))
            }
            return min(limit, try Self.lastReadingBefore(db, cutoff: cutoff.rawValue, upTo: limit))
        }
        var deleted = 0
        while true {
            let count = try await writer.write { db in
                try db.execute(
                    sql: """
                        DELETE FROM readings WHERE id IN (SELECT id FROM readings WHERE id <= ? ORDER BY id LIMIT ?)
                        """, arguments: [limit, chunk])
                return db.changesCount
            }
            deleted += count
            if count < chunk { return deleted }
        }
    }

    /// The largest reading id ≤ `upTo` whose time is before `cutoff` (0 if none).
    private static func lastReadingBefore(_ db: Database, cutoff: Int64, upTo: Int64) throws -> Int64 {
        let first = try Int64.fetchOne(db, sql: "SELECT min(id) FROM readings") ?? 1
        var low = first - 1  // invariant: ids ≤ low are before the cutoff (or absent)
        var high = upTo  // candidate upper bound
        while low < high {
            let mid = low + (high - low + 1) / 2
            // Imported history breaks time order inside its id blocks; see `allReadingsBefore`.
            if try ImportStore.allReadingsBefore(db, cutoff: cutoff, through: mid) { low = mid } else { high = mid - 1 }
        }
        return max(0, low)
    }

    /// Records that `peer` durably holds everything of `stream` up to `seq`.
    public func recordAcknowledgement(peer: String, stream: SyncStream, seq: Int64, now: UTCMillis) async throws {
        try await writer.write { db in
            // Never lowers an acknowledgement (setHubAcknowledgement does, for a restored hub).
            let acked = try PeerCheckpointRow.acknowledged(db, peer: peer, stream: stream)
            try PeerCheckpointRow(peer: peer, stream: stream, ackedSeq: max(acked, seq), updatedAt: now).insert(db, onConflict: .replace)
        }
    }
}
