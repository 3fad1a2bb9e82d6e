import Foundation
public import SmollamaCore
import SmollamaStore

/// `smollama backup` and `smollama restore`: the store (SQLite's online backup API, consistent
/// while the daemon writes), the identity, key, hub enrollment and config, in one compressed
/// archive (`BackupArchive.swift` describes the format).
public enum NodeBackup {
    /// What `backup` wrote.
    public struct Report: Sendable, Codable, Hashable {
        public var file: String
        public var nodeID: NodeID
        public var role: String
        /// The archive's size, compressed.
        public var bytes: Int64
        /// The store copy's size, uncompressed.
        public var storeBytes: Int64
        public var members: [BackupManifest.Member]

        enum CodingKeys: String, CodingKey {
            case file, role, bytes, members
            case nodeID = "node_id"
            case storeBytes = "store_bytes"
        }
    }

    /// Progress of a backup: the store copy, then compression.
    public enum Progress: Sendable, Hashable {
        case copyingStore(pages: Int, of: Int)
        case compressing(bytes: Int64, of: Int64)
    }

    /// Writes the backup of `runtime`'s node to `file` (through `file.tmp`, renamed when complete).
    public static func create(runtime: NodeRuntime, to file: String, now: Int64,
                              progress: @escaping @Sendable (Progress) -> Void = { _ in }) throws -> Report {
        let paths = runtime.paths
        let temporary = file + ".tmp"
        let storeCopy = file + ".sqlite.tmp"
        defer { for path in [storeCopy, storeCopy + "-journal", temporary] { try? FileManager.default.removeItem(atPath: path) } }
        try runtime.database.backup(to: storeCopy) { step in
            progress(.copyingStore(pages: step.copiedPages, of: step.totalPages))
        }
        let writer = try BackupArchiveWriter(path: temporary)
        var members: [BackupManifest.Member] = []
        do {
            var sources: [(name: String, path: String)] = [("config.yaml", paths.configFile),
                                                           ("data/identity.json", paths.identityFile),
                                                           ("data/node.key", paths.keyFile)]
            if FileManager.default.fileExists(atPath: paths.hubFile) { sources.append(("data/hub.json", paths.hubFile)) }
            for source in sources { members.append(try writer.add(name: source.name, from: source.path)) }
            let storeBytes = fileSize(storeCopy)
            members.append(try writer.add(name: storeMember, from: storeCopy) { written in
                progress(.compressing(bytes: written, of: storeBytes))
            })
            let manifest = BackupManifest(format: BackupManifest.currentFormat, nodeID: runtime.identity.nodeID,
                                          name: runtime.config.node.name, role: runtime.config.node.role.rawValue,
                                          createdAt: now, members: members)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writer.add(name: BackupManifest.fileName, bytes: [UInt8](try encoder.encode(manifest)))
            try writer.finish()
        } catch {
            writer.abandon()
            throw error
        }
        guard rename(temporary, file) == 0 else { throw BackupError.cannotWrite(path: file, reason: String(cString: strerror(errno))) }
        return Report(file: file, nodeID: runtime.identity.nodeID, role: runtime.config.node.role.rawValue,
                      bytes: fileSize(file), storeBytes: members.last?.size ?? 0, members: members)
    }

    static let storeMember = "data/smollama.sqlite"
    static let requiredMembers = ["config.yaml", "data/identity.json", "data/node.key", storeMember]
    static let knownMembers = Set(requiredMembers + ["data/hub.json"])

    static func fileSize(_ path: String) -> Int64 {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
    }

    // MARK: restore

    /// What `restore` put in place.
    public struct Restored: Sendable, Codable, Hashable {
        public var home: String
        public var nodeID: NodeID
        public var name: String
        public var role: String
        /// When the backup was taken (ms since 1970).
        public var createdAt: Int64
        public var enrolled: Bool

        enum CodingKeys: String, CodingKey {
            case home, name, role, enrolled
            case nodeID = "node_id"
            case createdAt = "created_at"
        }
    }

    /// Checks the archive completely (every member's size and SHA-256, the store's integrity,
    /// one node throughout), then puts its files in place under `home`. Refuses while a daemon
    /// runs there, and over an existing node unless `force`.
    public static func restore(archive: String, home: String, environment: [String: String], force: Bool) throws -> Restored {
        let fm = FileManager.default
        let current = currentPaths(home: home, environment: environment)
        if let pid = DaemonLock.holder(paths: current) { throw BackupError.running(pid: pid, home: home) }
        if !force, fm.fileExists(atPath: current.identityFile) || fm.fileExists(atPath: current.configFile) {
            throw BackupError.wouldReplace(home: home, node: (try? NodeIdentity.load(paths: current))?.nodeID)
        }
        try fm.createDirectory(atPath: home, withIntermediateDirectories: true)
        let staging = home + "/.restore-\(getpid())"
        try? fm.removeItem(atPath: staging)
        try fm.createDirectory(atPath: staging + "/data", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? fm.removeItem(atPath: staging) }
        let manifest = try unpack(archive: archive, into: staging)

        let identity = try JSONDecoder().decode(NodeIdentity.self, from: Data(contentsOf: URL(fileURLWithPath: staging + "/data/identity.json")))
        let store = try SmollamaDatabase.inspect(path: staging + "/" + storeMember)
        if let problem = store.problem {
            throw BackupError.archive(path: archive, problem: "the store in it fails SQLite's integrity check (\(problem))")
        }
        guard identity.nodeID == manifest.nodeID, store.nodeID == nil || store.nodeID == manifest.nodeID else {
            throw BackupError.archive(path: archive, problem: "its identity (\(identity.nodeID)) and store (\(store.nodeID.map { "\($0)" } ?? "none")) do not belong to node \(manifest.nodeID) named by its manifest")
        }
        let config: NodeConfig
        do {
            config = try ConfigLoader.load(file: staging + "/config.yaml", environment: environment)
        } catch {
            throw BackupError.archive(path: archive, problem: "its config.yaml does not load here (\(error))")
        }
        let target = NodeSetup.paths(home: home, configFile: nil, config: config)
        try fm.createDirectory(atPath: target.dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if let pid = DaemonLock.holder(paths: target) { throw BackupError.running(pid: pid, home: home) }
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: target.databaseFile + suffix) }
        if !manifest.members.contains(where: { $0.name == "data/hub.json" }) { try? fm.removeItem(atPath: target.hubFile) }
        let places: [(member: String, path: String, mode: Int)] = [
            (storeMember, target.databaseFile, 0o600), ("data/identity.json", target.identityFile, 0o644),
            ("data/node.key", target.keyFile, 0o600), ("data/hub.json", target.hubFile, 0o600),
            ("config.yaml", target.configFile, config.node.role == .llama ? 0o600 : 0o644),
        ]
        for place in places where fm.fileExists(atPath: staging + "/" + place.member) {
            try? fm.removeItem(atPath: place.path)
            try fm.moveItem(atPath: staging + "/" + place.member, toPath: place.path)
            try fm.setAttributes([.posixPermissions: place.mode], ofItemAtPath: place.path)
        }
        return Restored(home: home, nodeID: manifest.nodeID, name: manifest.name, role: manifest.role,
                        createdAt: manifest.createdAt, enrolled: fm.fileExists(atPath: target.hubFile))
    }

    /// The paths of the node now at `home` (its config's data directory when it loads).
    static func currentPaths(home: String, environment: [String: String]) -> SmollamaPaths {
        let paths = SmollamaPaths(home: home)
        guard let config = try? ConfigLoader.load(file: paths.configFile, environment: environment) else { return paths }
        return NodeSetup.paths(home: home, configFile: nil, config: config)
    }

    /// Reads every member of `archive` into `directory`, checking each against the manifest.
    static func unpack(archive: String, into directory: String) throws -> BackupManifest {
        let reader = try BackupArchiveReader(path: archive)
        try FileManager.default.createDirectory(atPath: directory + "/data", withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        defer { reader.close() }
        var hashes: [String: (size: Int64, sha256: String)] = [:]
        var manifest: BackupManifest?
        while let member = try reader.next() {
            if member.name == BackupManifest.fileName {
                let bytes = try reader.bytes(size: member.size, name: member.name)
                do {
                    manifest = try JSONDecoder().decode(BackupManifest.self, from: Data(bytes))
                } catch {
                    throw BackupError.archive(path: archive, problem: "its manifest \(BackupManifest.fileName) is unreadable (\(error))")
                }
                continue
            }
            guard knownMembers.contains(member.name), hashes[member.name] == nil else {
                throw BackupError.archive(path: archive, problem: "it holds an unexpected member '\(member.name)'; this is not a smollama backup")
            }
            hashes[member.name] = (member.size, try reader.extract(size: member.size, name: member.name, to: directory + "/" + member.name))
        }
        try reader.finishCheck()
        guard let manifest else {
            throw BackupError.archive(path: archive, problem: "it has no manifest (\(BackupManifest.fileName)); the file is truncated or not a smollama backup")
        }
        guard manifest.format == BackupManifest.currentFormat else {
            throw BackupError.archive(path: archive, problem: "its format is \(manifest.format); this smollama reads format \(BackupManifest.currentFormat) (restore with the version that made it)")
        }
        for name in requiredMembers where !manifest.members.contains(where: { $0.name == name }) {
            throw BackupError.archive(path: archive, problem: "it lacks \(name)")
        }
        for member in manifest.members {
            guard let held = hashes[member.name] else { throw BackupError.archive(path: archive, problem: "it lacks \(member.name), which its manifest lists") }
            guard held.size == member.size, held.sha256 == member.sha256 else {
                throw BackupError.archive(path: archive, problem: "\(member.name) does not match its SHA-256 in the manifest (the file is damaged)")
            }
        }
        return manifest
    }
}

/// Why a backup or restore stopped.
public enum BackupError: Error, CustomStringConvertible, Hashable {
    case cannotWrite(path: String, reason: String)
    case cannotRead(path: String)
    /// The archive is damaged, truncated or not ours: `problem` says which.
    case archive(path: String, problem: String)
    case running(pid: Int32, home: String)
    case wouldReplace(home: String, node: NodeID?)

    public var description: String {
        switch self {
        case .cannotWrite(let path, let reason): "cannot write \(path): \(reason)"
        case .cannotRead(let path): "cannot read \(path); check that it exists and is readable by this user"
        case .archive(let path, let problem): "\(path) cannot be restored: \(problem). Nothing was changed."
        case .running(let pid, let home):
            "the node at \(home) is running (pid \(pid)); stop it first (`systemctl stop smollama` or Ctrl-C), then restore"
        case .wouldReplace(let home, let node):
            "\(home) already holds \(node.map { "node \($0)" } ?? "a node"); restore replaces its config, identity and store: add --force to do so"
        }
    }
}
