import Foundation
public import SmollamaCore
public import SmollamaLLM
import SmollamaStore

/// `smollama init`: the config, the data directory, the node's identity and key.
public enum NodeSetup {
    public struct Result: Sendable, Codable {
        public var home: String
        public var configFile: String
        public var dataDirectory: String
        public var nodeID: NodeID
        public var createdIdentity: Bool
    }

    /// Creates a node. An existing identity is never replaced (that would make a new node out
    /// of an old one and orphan its data on the hub); `force` rewrites only the config.
    public static func initialise(
        paths: SmollamaPaths, name: String, role: NodeConfig.Role, sensors: ConfigTemplate.Sensors,
        backend: LLMBackend = .openai, force: Bool, now: Int64
    )
        async throws -> Result
    {
        let fm = FileManager.default
        let hasIdentity = fm.fileExists(atPath: paths.identityFile)
        if (hasIdentity || fm.fileExists(atPath: paths.configFile)) && !force {
            throw NodeError.alreadyInitialised(home: paths.home)
        }
        do {
            try fm.createDirectory(atPath: paths.home, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: paths.dataDirectory, withIntermediateDirectories: true,
                                   attributes: [.posixPermissions: 0o700])
        } catch {
            throw NodeError.dataDirectoryNotWritable(path: paths.dataDirectory, reason: error.localizedDescription)
        }
        guard fm.isWritableFile(atPath: paths.dataDirectory) else {
            throw NodeError.dataDirectoryNotWritable(path: paths.dataDirectory, reason: "not writable by this user")
        }
        // The hub serves the mem0 API: it gets its keys now, so it is usable (and guarded) from the start.
        let mem0Keys = role == .llama ? (api: NodeID.randomHex(bytes: 32),
                                         admin: NodeID.randomHex(bytes: 32)) : nil
        let config = ConfigTemplate.render(name: name, role: role, sensors: sensors, backend: backend, mem0Keys: mem0Keys)
        // The hub's config holds its mem0 keys: readable by its owner only.
        try writeAtomically(Data(config.utf8), to: paths.configFile, permissions: role == .llama ? 0o600 : 0o644)

        let identity: NodeIdentity
        if hasIdentity {
            identity = try NodeIdentity.load(paths: paths)
        } else {
            identity = NodeIdentity(nodeID: .random(), createdAt: now)
            try NodeIdentity.createKey(paths: paths)
            try identity.save(paths: paths)
        }
        let database = try SmollamaDatabase.open(path: paths.databaseFile)
        try await database.meta.claim(for: identity.nodeID, incarnation: identity.incarnation)
        return Result(home: paths.home, configFile: paths.configFile, dataDirectory: paths.dataDirectory,
                      nodeID: identity.nodeID, createdIdentity: !hasIdentity)
    }

    /// The data directory named by the config, resolved against the home directory.
    public static func paths(home: String, configFile: String?, config: NodeConfig) -> SmollamaPaths {
        let dataDir = config.node.dataDir.hasPrefix("/") ? config.node.dataDir : home + "/" + config.node.dataDir
        return SmollamaPaths(home: home, configFile: configFile, dataDirectory: dataDir)
    }
}
