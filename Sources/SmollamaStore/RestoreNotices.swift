import GRDB
public import SmollamaCore

// Restores (issue 17): on the hub, a node that came back holding less of a stream than the hub
// (restored from an older backup, or a power cut) is a notice, not a collision: nothing was
// reused, and the node numbers past the hub's mark from then on. On the node, `smollama
// restore` leaves a mark until a sync round has moved the counters past the hub's marks; the
// daemon does not write while it is there. Migration `v13-ops-restore-notices`.

/// One "node came back behind the hub" notice, as `smollama hub nodes` shows it.
public struct HubRestoreNotice: Codable, Sendable, Hashable {
    public var node: String
    public var stream: String
    /// What the node held of the stream when it came back.
    public var localMax: Int64
    public var detail: String
    public var seenAt: UTCMillis
}

extension HubSyncStore {
    /// Moves the "store is behind the hub" rows the handshake used to write into
    /// `sync_collisions` to `sync_restores`, and takes them off the nodes' collision counts.
    static let v13RestoreNotices = """
        CREATE TABLE sync_restores (
            id INTEGER PRIMARY KEY,
            origin BLOB NOT NULL CHECK (length(origin) = 16),
            stream TEXT NOT NULL,
            local_max INTEGER NOT NULL,
            detail TEXT NOT NULL,
            seen_at INTEGER NOT NULL
        );
        INSERT INTO sync_restores (origin, stream, local_max, detail, seen_at)
            SELECT origin, stream, seq, detail, seen_at FROM sync_collisions
            WHERE detail LIKE 'node store is behind the hub%' ORDER BY id;
        UPDATE sync_nodes SET collisions = max(0, collisions - (
            SELECT count(*) FROM sync_collisions c
            WHERE c.origin = sync_nodes.node AND c.detail LIKE 'node store is behind the hub%'));
        DELETE FROM sync_collisions WHERE detail LIKE 'node store is behind the hub%';
        """

    /// Records that `origin` came back holding `stream` only up to `localMax`, below the hub's
    /// `mark` (once per node, stream and local max).
    static func recordRestore(_ db: Database, origin: NodeID, stream: SyncStream, localMax: Int64, mark: Int64,
                              now: UTCMillis) throws
    {
        let known = try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM sync_restores WHERE origin = ? AND stream = ? AND local_max = ?)
            """, arguments: [origin, stream.rawValue, localMax]) ?? false
        guard !known else { return }
        let detail = "came back holding \(stream) up to \(localMax), the hub already had up to \(mark) "
            + "(restored from a backup, or a power cut); it numbers past the hub's mark from now on"
        try db.execute(sql: "INSERT INTO sync_restores (origin, stream, local_max, detail, seen_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [origin, stream.rawValue, localMax, detail, now])
    }

    /// The newest restore notices, newest first.
    public func restoreNotices(limit: Int = 100) async throws -> [HubRestoreNotice] {
        try await reader.read { db in
            try Row.fetchAll(db, sql: "SELECT origin, stream, local_max, detail, seen_at FROM sync_restores ORDER BY id DESC LIMIT ?",
                             arguments: [limit]).map { row in
                let origin: NodeID = row["origin"]
                return HubRestoreNotice(node: origin.hex, stream: row["stream"], localMax: row["local_max"], detail: row["detail"],
                                        seenAt: row["seen_at"])
            }
        }
    }
}

extension MetaStore {
    /// When `smollama restore` put this store in place on an enrolled node, until a sync round
    /// moved its counters past the hub's marks (nil: nothing pending). The daemon does not
    /// write while it is set (`Daemon.awaitRestoreRecovery`).
    public func restorePending() async throws -> UTCMillis? {
        try await reader.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'restore_pending'")
                .flatMap { Int64($0) }.map(UTCMillis.init(rawValue:))
        }
    }

    /// Sets the mark (`since`: when the restore happened) or clears it (nil; no write when
    /// already clear, since every sync round calls this).
    public func setRestorePending(_ since: UTCMillis?) async throws {
        guard let since else {
            guard try await restorePending() != nil else { return }
            try await writer.write { db in try db.execute(sql: "DELETE FROM meta WHERE key = 'restore_pending'") }
            return
        }
        try await writer.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('restore_pending', ?)",
                           arguments: [String(since.rawValue)])
        }
    }
}
