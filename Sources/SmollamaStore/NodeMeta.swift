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

    public func incarnation() async throws -> Int? {
        try await reader.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'incarnation'").flatMap { Int($0) }
        }
    }
}
