import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import SmollamaCore

/// Who this node is: made once by `smollama init`, kept with the data.
public struct NodeIdentity: Codable, Sendable, Hashable {
    public var nodeID: NodeID
    /// Bumped when the store is re-created under the same identity, so the hub can tell a
    /// restored node from a continuing one.
    public var incarnation: Int
    public var createdAt: Int64

    enum CodingKeys: String, CodingKey {
        case nodeID = "node_id"
        case incarnation
        case createdAt = "created_at"
    }

    public init(nodeID: NodeID, incarnation: Int = 1, createdAt: Int64) {
        self.nodeID = nodeID
        self.incarnation = incarnation
        self.createdAt = createdAt
    }

    public static func load(paths: SmollamaPaths) throws -> NodeIdentity {
        guard let data = FileManager.default.contents(atPath: paths.identityFile) else {
            throw NodeError.notInitialised(home: paths.home)
        }
        do {
            return try JSONDecoder().decode(NodeIdentity.self, from: data)
        } catch {
            throw NodeError.corruptIdentity(path: paths.identityFile, reason: "\(error)")
        }
    }

    public func save(paths: SmollamaPaths) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try writeAtomically(try encoder.encode(self), to: paths.identityFile, permissions: 0o644)
    }

    /// The node's secret key (32 random bytes, hex), readable by its owner only. Used to sign
    /// sync requests once enrolled with a hub.
    public static func createKey(paths: SmollamaPaths) throws {
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        try writeAtomically(Data((key.hexString + "\n").utf8), to: paths.keyFile, permissions: 0o600)
    }
}

/// Writes via a temp file and rename, so a power cut never leaves half a file.
func writeAtomically(_ data: Data, to path: String, permissions: Int) throws {
    let temp = path + ".tmp"
    guard FileManager.default.createFile(atPath: temp, contents: data, attributes: [.posixPermissions: permissions])
    else { throw NodeError.cannotWrite(path: temp) }
    guard rename(temp, path) == 0 else { throw NodeError.cannotWrite(path: path) }
}
