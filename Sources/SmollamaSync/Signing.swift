import Crypto
import Foundation
public import SmollamaCore

/// A node's signing key: Ed25519 whose 32-byte seed is the node's `node.key`. Only the public
/// half ever leaves the node (at enrollment), so the hub never holds a secret that could sign
/// for a node, and a stolen hub database cannot impersonate anyone.
public struct SyncKey: Sendable {
    let privateKey: Curve25519.Signing.PrivateKey

    public struct Invalid: Error, CustomStringConvertible, Hashable {
        public var description: String
    }

    public init(seed: [UInt8]) throws {
        guard seed.count == 32 else {
            throw Invalid(description: "a node key is 32 bytes (64 hex digits), got \(seed.count) bytes")
        }
        privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
    }

    /// Reads `node.key` (64 hex digits and a newline, mode 0600).
    public init(file path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(description: "cannot read the node key at \(path); it is created by `smollama init`")
        }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = [UInt8](hexString: text), bytes.count == 32 else {
            throw Invalid(description: "the node key at \(path) is not 64 hex digits; restore it from a backup")
        }
        try self.init(seed: bytes)
    }

    public var publicKey: [UInt8] { [UInt8](privateKey.publicKey.rawRepresentation) }
    public var publicKeyHex: String { publicKey.hexString }

    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        [UInt8](try privateKey.signature(for: message))
    }
}

public enum SyncSigning {
    /// What a node signs: everything that gives a request its meaning, and the body's digest.
    public static func requestMessage(path: String, node: String, time: UTCMillis, nonce: String, encoding: String,
                                      rawLength: String, body: [UInt8]) -> [UInt8] {
        let digest = [UInt8](SHA256.hash(data: body)).hexString
        return Array("smollama-sync-v\(SyncProtocol.version)\n\(path)\n\(node)\n\(time)\n\(nonce)\n\(encoding)\n\(rawLength)\n\(digest)".utf8)
    }

    /// What a node signs when it enrolls: the one-time token (so the proof cannot be replayed
    /// with another), its id and the key it registers.
    public static func enrollMessage(token: String, node: NodeID, publicKey: String) -> [UInt8] {
        Array("smollama-enroll-v\(SyncProtocol.version)\n\(token)\n\(node.hex)\n\(publicKey.lowercased())".utf8)
    }

    public static func timeMessage(hubNode: NodeID, hubTime: UTCMillis) -> [UInt8] {
        Array("smollama-hub-time\n\(hubNode.hex)\n\(hubTime)".utf8)
    }

    public static func verify(publicKey: [UInt8], signature: [UInt8], message: [UInt8]) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        return key.isValidSignature(signature, for: message)
    }

    public static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hexString
    }

    /// Bodies longer than this are deflated.
    public static let compressAbove = 512

    /// Builds a signed request: body deflated when that helps, headers naming node, time, nonce.
    /// `deflated`: the body already deflated (a push prepared while the previous one was on the wire).
    public static func request(path: String, body plain: [UInt8], node: NodeID, key: SyncKey, time: UTCMillis,
                               nonce: String = randomNonce(), compress: Bool = true, deflated: [UInt8]? = nil) throws -> SyncHTTPRequest {
        var body = plain
        var encoding = "identity"
        if let deflated {
            body = deflated
            encoding = "zlib"
        } else if compress && plain.count > compressAbove {
            body = try Deflate.compress(plain)
            encoding = "zlib"
        }
        let rawLength = String(plain.count)
        let message = requestMessage(path: path, node: node.hex, time: time, nonce: nonce, encoding: encoding,
                                     rawLength: rawLength, body: body)
        let headers = [
            SyncProtocol.Header.version: String(SyncProtocol.version),
            SyncProtocol.Header.node: node.hex,
            SyncProtocol.Header.time: String(time.rawValue),
            SyncProtocol.Header.nonce: nonce,
            SyncProtocol.Header.encoding: encoding,
            SyncProtocol.Header.rawLength: rawLength,
            SyncProtocol.Header.signature: try key.sign(message).hexString,
        ]
        return SyncHTTPRequest(path: path, headers: headers, body: body)
    }
}
