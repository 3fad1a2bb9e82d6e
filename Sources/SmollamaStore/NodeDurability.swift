import Foundation
import GRDB
public import SmollamaCore

/// Issue 18, finding 7: with WAL and `synchronous=NORMAL` a power cut can lose commits made since
/// the last fsync, also ones the hub already acknowledged. Sync therefore makes a durable point
/// before every batch it sends, and when the store comes back holding less than the hub's mark,
/// moves this node's counters past it so new items never reuse numbers the hub holds.
extension NodeSyncStore {
    /// Commits a small write with `synchronous=FULL`: the fsync of the WAL makes every earlier
    /// commit durable too. Whatever a batch read before this is on disk before the hub sees it.
    public func makeDurable(now: UTCMillis) async throws {
        try await writer.writeWithoutTransaction { db in
            let previous = try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? 1
            try db.execute(sql: "PRAGMA synchronous = FULL")
            defer { try? db.execute(sql: "PRAGMA synchronous = \(previous)") }
            try db.inTransaction {
                try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('sync_durable_point', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                               arguments: [String(now.rawValue)])
                return .commit
            }
        }
    }

    /// When this store holds `stream` only up to below `mark` (what the hub holds of this node),
    /// the next item gets a number above `mark`: readings through `sqlite_sequence`, events
    /// through a floor in `meta` (`seq_floor.<stream>`) that `appendEvent` respects. The numbers
    /// in between stay empty here (the hub has them). Returns whether the counter moved.
    public func moveCounters(pastHubMark mark: Int64, origin: NodeID, stream: SyncStream) async throws -> Bool {
        try await writer.write { db in
            guard try Self.localMax(db, origin: origin, stream: stream) < mark else { return false }
            guard let events = stream.eventStream else {
                try db.execute(sql: "UPDATE sqlite_sequence SET seq = ? WHERE name = 'readings'", arguments: [mark])
                if db.changesCount == 0 {
                    try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES ('readings', ?)", arguments: [mark])
                }
                return true
            }
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [EventStore.floorKey(events), String(mark)])
            return true
        }
    }

    /// Where this node's own events of `stream` first go missing below `mark` (what the hub holds
    /// of them): the seq after which to pull them back from the hub, or nil when every one of
    /// 1…mark is here. Missing ones are the numbers `moveCounters` skipped (a restored backup or
    /// a power cut): the hub holds them, and the node pulls them back (`SyncClient.recoverOwn`).
    public func ownRecoveryStart(origin: NodeID, stream: EventStream, mark: Int64) async throws -> Int64? {
        try await writer.read { db in
            let held = try EventRow.of(origin, stream).filter(EventRow.Columns.seq <= mark).fetchCount(db)
            guard held < mark else { return nil }
            // The end of the contiguous prefix 1…n held here.
            let end = try Int64.fetchOne(
                db, sql: """
                    SELECT min(e.seq) FROM events e WHERE e.origin = ? AND e.stream = ? AND e.seq < ?
                    AND NOT EXISTS (SELECT 1 FROM events n WHERE n.origin = e.origin AND n.stream = e.stream AND n.seq = e.seq + 1)
                    """, arguments: [origin, stream.rawValue, mark])
            let hasFirst = try EventRow.of(origin, stream).filter(EventRow.Columns.seq == 1).fetchCount(db) > 0
            return hasFirst ? (end ?? 0) : 0
        }
    }

    /// The seq below which this node's events of `stream` may be missing by design (see
    /// `moveCounters`); 0 when the counters were never moved.
    public func seqFloor(_ stream: SyncStream) async throws -> Int64 {
        guard let events = stream.eventStream else { return 0 }
        return try await writer.read { db in try EventStore.seqFloor(db, events) }
    }
}

extension EventStore {
    static func floorKey(_ stream: EventStream) -> String { "seq_floor.\(stream.rawValue)" }

    static func seqFloor(_ db: Database, _ stream: EventStream) throws -> Int64 {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [floorKey(stream)]).flatMap { Int64($0) } ?? 0
    }
}
