public import SmollamaCore
import Synchronization
public import SmollamaStore

/// Names of nodes, for mem0's `agent_id` (agent = node) and `smollama recall --node NAME`.
public protocol NodeDirectory: Sendable {
    /// The display name of a node (its hex id when the name is unknown).
    func name(of node: NodeID) async -> String
    /// The nodes a name or id stands for: a node name, a full hex id, or an id prefix of at least
    /// 6 hex digits. Empty when nothing matches.
    func nodes(matching nameOrID: String) async -> [NodeID]
}

/// The simple directory: the nodes whose names are known here (the hub itself, and whatever the
/// caller adds, e.g. from the sync registry), plus every origin found in the memories stream by id.
public struct StaticNodeDirectory: NodeDirectory {
    public var names: [NodeID: String]
    /// Every node known by id (names or not), e.g. the origins of the memories stream.
    public var known: @Sendable () async -> [NodeID]

    public init(names: [NodeID: String], known: @escaping @Sendable () async -> [NodeID] = { [] }) {
        self.names = names
        self.known = known
    }

    public func name(of node: NodeID) async -> String { names[node] ?? node.hex }

    public func nodes(matching nameOrID: String) async -> [NodeID] {
        let wanted = nameOrID.lowercased()
        let named = names.filter { $0.value.lowercased() == wanted }.map(\.key)
        if !named.isEmpty { return named.sorted { $0.hex < $1.hex } }
        guard wanted.count >= 6, wanted.allSatisfy(\.isHexDigit) else { return [] }
        let candidates = Set(Array(names.keys) + (await known()))
        return candidates.filter { $0.hex.hasPrefix(wanted) }.sorted { $0.hex < $1.hex }
    }
}

/// The hub's directory: its own name, the names nodes enrolled with (the sync registry), and the
/// origins of the memories stream for ids without a name. Read fresh on every call.
public struct DatabaseNodeDirectory: NodeDirectory {
    public let database: SmollamaDatabase
    public let node: NodeID
    public let nodeName: String
    /// Names read at most once a second: a listing names hundreds of memories.
    private let cache = Cache()

    final class Cache: Sendable {
        let state = Mutex<(names: [NodeID: String], read: ContinuousClock.Instant)?>(nil)
    }

    public init(database: SmollamaDatabase, node: NodeID, nodeName: String) {
        self.database = database
        self.node = node
        self.nodeName = nodeName
    }

    func names() async -> [NodeID: String] {
        let now = ContinuousClock.now
        if let cached = cache.state.withLock({ $0 }), now - cached.read < .seconds(1) { return cached.names }
        var names = (try? await database.hubSync.enrolledNodeNames()) ?? [:]
        names[node] = nodeName
        cache.state.withLock { [names] in $0 = (names, now) }
        return names
    }

    public func name(of node: NodeID) async -> String { await names()[node] ?? node.hex }

    public func nodes(matching nameOrID: String) async -> [NodeID] {
        let database = database
        return await StaticNodeDirectory(
            names: await names(), known: { (try? await database.events.eventOrigins(stream: .memories)) ?? [] }
        ).nodes(matching: nameOrID)
    }
}
