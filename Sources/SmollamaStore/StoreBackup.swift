import Foundation
import GRDB
public import SmollamaCore

/// Copies of the store for `smollama backup` and `restore`: SQLite's online backup API, which
/// copies the pages of one read snapshot, so the copy is consistent while the daemon writes.
extension SmollamaDatabase {
    /// Pages copied so far and in all, for a progress line.
    public struct BackupProgress: Sendable, Hashable {
        public var copiedPages: Int
        public var totalPages: Int
    }

    /// Writes a consistent copy of the store to `path` (a new file; replaced if present), in
    /// steps of 256 pages so `progress` can report. The copy is a plain SQLite file (no WAL).
    public func backup(to path: String, progress: (@Sendable (BackupProgress) -> Void)? = nil) throws {
        for file in [path, path + "-wal", path + "-shm"] { try? FileManager.default.removeItem(atPath: file) }
        do {
            let destination = try DatabaseQueue(path: path)
            try writer.backup(to: destination, pagesPerStep: 256) { step in
                progress?(BackupProgress(copiedPages: step.completedPageCount, totalPages: step.totalPageCount))
            }
            try destination.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            try destination.close()
        } catch let error as DatabaseError {
            throw StoreError.cannotOpen(path: path, reason: "backup failed: \(error.message ?? "\(error.resultCode)")")
        }
    }

    /// Checks a store file (a backup's copy) without migrating it: SQLite's `quick_check`, and
    /// the node id it belongs to (`meta.node_id`, nil for a store never claimed).
    public static func inspect(path: String) throws -> (nodeID: NodeID?, problem: String?) {
        var configuration = Configuration()
        configuration.readonly = true
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in
                let check = try String.fetchAll(db, sql: "PRAGMA quick_check")
                let problem = check == ["ok"] ? nil : check.prefix(3).joined(separator: "; ")
                let hasMeta = try db.tableExists("meta")
                let owner = hasMeta ? try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'node_id'") : nil
                return (owner.flatMap(NodeID.init(hex:)), problem)
            }
        } catch let error as DatabaseError {
            return (nil, error.message ?? "\(error.resultCode)")
        }
    }

    /// Each table's row count and a SHA-256 over its rows in rowid order (tables without rowid
    /// in primary-key order, as SQLite scans them), for checking that a restore lost nothing. Internal SQLite tables
    /// and the vector index's shadow tables are left out; `sqlite_sequence` is kept.
    public func tableDigests() async throws -> [String: TableDigest] {
        try await reader.read { db in
            let tables = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table'
                AND (name NOT LIKE 'sqlite_%' OR name = 'sqlite_sequence') ORDER BY name
                """)
            var digests: [String: TableDigest] = [:]
            for table in tables {
                let quoted = "\"" + table.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                let withoutRowID = try Bool.fetchOne(
                    db, sql: "SELECT sql LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE name = ?", arguments: [table]) ?? false
                let isVirtual = try Bool.fetchOne(
                    db, sql: "SELECT sql LIKE 'CREATE VIRTUAL%' FROM sqlite_master WHERE name = ?", arguments: [table]) ?? false
                if isVirtual { continue }
                var digest = ContentDigest()
                var rows = 0
                let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM \(quoted)" + (withoutRowID ? "" : " ORDER BY rowid"))
                while let row = try cursor.next() {
                    rows += 1
                    digest.update(Array(row.description.utf8))
                }
                digests[table] = TableDigest(rows: rows, sha256: digest.hex())
            }
            return digests
        }
    }
}

/// One table's content, summarised (`SmollamaDatabase.tableDigests`).
public struct TableDigest: Sendable, Hashable, Codable {
    public var rows: Int
    public var sha256: String
}
