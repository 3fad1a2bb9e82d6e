import GRDB
public import SmollamaCore

extension MetaStore {
    /// Binds a new store to the node, or checks that an existing one belongs to it. A store of
    /// another node is refused: mixing two nodes' logs under one id would corrupt sync.
    public func claim(for node: NodeID, incarnation: Int) async throws {
        try await writer.write { db in
            if let owner = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'node_id'") {
                guard owner == node.hex else { throw StoreError.identityMismatch(store: owner, identity: node.hex) }
                return
            }
            try db.execute(
                sql: "INSERT INTO meta (key, value) VALUES ('node_id', ?), ('incarnation', ?)",
                arguments: [node.hex, String(incarnation)])
        }
    }

    /// Records which node is the hub (this node, on the hub): the one node besides a memory's
    /// creator whose versions of it count (mem0 edits). Nil forgets it (a node not enrolled).
    public func setHub(_ hub: NodeID?) async throws {
        // Every command opens the store: write only when it changes (no write for a `status`).
        guard try await reader.read({ db in try Self.hubNode(db) }) != hub else { return }
        try await writer.write { db in
            if let hub {
                try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES ('hub_node', ?)", arguments: [hub.hex])
            } else {
                try db.execute(sql: "DELETE FROM meta WHERE key = 'hub_node'")
            }
        }
    }

    static func hubNode(_ db: Database) throws -> NodeID? {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'hub_node'").flatMap(NodeID.init(hex:))
    }

    public func incarnation() async throws -> Int? {
        try await reader.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'incarnation'").flatMap { Int($0) }
        }
    }
}
