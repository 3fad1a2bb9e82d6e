import Foundation
import GRDB
public import SmollamaCore

/// Small additions for the hub's mem0 API and bridge: named values in the `meta` table (the
/// bridge's progress survives restarts there) and the origins present in a stream.
extension MetaStore {
    /// The value stored under `key`, or nil.
    public func metaValue(_ key: String) async throws -> String? {
        try await reader.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])
        }
    }

    /// Every `meta` value whose key starts with `prefix`, by key.
    public func metaValues(prefix: String) async throws -> [String: String] {
        try await reader.read { db in
            var values: [String: String] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?", arguments: [prefix.count, prefix])
            {
                values[row["key"]] = row["value"]
            }
            return values
        }
    }

    /// Sets (or, with a nil value, removes) several `meta` values in one transaction.
    public func setMetaValues(_ values: [String: String?]) async throws {
        try await writer.write { db in
            for (key, value) in values {
                if let value {
                    try db.execute(
                        sql: "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        arguments: [key, value])
                } else {
                    try db.execute(sql: "DELETE FROM meta WHERE key = ?", arguments: [key])
                }
            }
        }
    }
}

extension EventStore {
    /// The nodes that have events in `stream`, in a stable order.
    public func eventOrigins(stream: EventStream) async throws -> [NodeID] {
        try await reader.read { db in
            try EventRow.origins(of: stream).fetchAll(db)
        }
    }
}

extension HubSyncStore {
    /// Names of the nodes enrolled with this hub (the sync registry, `sync_nodes`), by id. Empty
    /// on a store without the registry (an edge node, or before the sync schema exists).
    public func enrolledNodeNames() async throws -> [NodeID: String] {
        try await reader.read { db in
            guard try db.tableExists("sync_nodes") else { return [:] }
            var names: [NodeID: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT node, name FROM sync_nodes") {
                if let id = row["node"] as NodeID? { names[id] = row["name"] }
            }
            return names
        }
    }
}
