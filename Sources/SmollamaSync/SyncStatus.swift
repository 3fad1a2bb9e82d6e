public import SmollamaCore
public import SmollamaStore

extension SmollamaDatabase {
    /// Every sync stream's state on this node, in push order, with the local max read now.
    public func syncStatus(origin: NodeID) async throws -> [SyncStreamStatus] {
        try await nodeSync.status(origin: origin, streams: SyncProtocol.pushOrder)
    }
}
