import Crypto
import Foundation
import SmollamaCore

// Issue 18, finding 5: the hub signs its answers to signed requests, so a spoofed hub (plain
// HTTP, a fake mDNS answer, a relay replaying the signed time) cannot claim to hold a node's
// data and let the node's retention delete readings the hub never received.
//
// The signature is over the request's path and nonce (fresh per request, chosen by the node) and
// the reply body's digest; it travels in a header, so the reply bodies keep their shapes. The
// key is pinned at enrollment from the token's fingerprint: `smollama hub token` prints
// `<secret>@<fingerprint>`, and the node refuses a hub whose key does not match it.

extension SyncProtocol.Header {
    /// The hub's Ed25519 signature (hex) over `SyncSigning.replyMessage`, on every 200 answer to
    /// `handshake`, `push` and `pull`.
    public static let replySignature = "x-smollama-reply-signature"
}

extension SyncSigning {
    /// What the hub signs in a reply: the request it answers (path and nonce) and the body's digest.
    public static func replyMessage(path: String, nonce: String, body: [UInt8]) -> [UInt8] {
        let digest = [UInt8](SHA256.hash(data: body)).hexString
        return Array("smollama-sync-reply-v\(SyncProtocol.version)\n\(path)\n\(nonce)\n\(digest)".utf8)
    }

    /// A public key's fingerprint as tokens carry it: the first 16 bytes of its SHA-256, hex.
    public static func fingerprint(publicKey: [UInt8]) -> String {
        Array(SHA256.hash(data: publicKey).prefix(16)).hexString
    }
}

/// An enrollment token as `smollama hub token` prints it: the one-time secret, `@`, and the
/// fingerprint of the hub's key. The hub stores only the secret's hash; the node checks the
/// enrolling hub's key against the fingerprint before it saves anything.
public struct EnrollmentToken: Sendable, Hashable, CustomStringConvertible {
    /// What the hub stored the hash of (`<random>` or `<node id>-<random>`).
    public var secret: String
    /// 32 hex digits; nil in a token printed before hubs signed their replies.
    public var hubFingerprint: String?

    public init(secret: String, hubFingerprint: String?) {
        self.secret = secret
        self.hubFingerprint = hubFingerprint
    }

    /// Splits at the last `@`; a token without one is an older token (no fingerprint).
    public init(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let at = trimmed.lastIndex(of: "@") else {
            self.init(secret: trimmed, hubFingerprint: nil)
            return
        }
        self.init(secret: String(trimmed[..<at]), hubFingerprint: String(trimmed[trimmed.index(after: at)...]).lowercased())
    }

    public var description: String { hubFingerprint.map { "\(secret)@\($0)" } ?? secret }

    /// Checks the key an enrolling hub answered with against this token's fingerprint.
    public func check(hubPublicKey: String) throws(EnrollmentTokenError) {
        guard let hubFingerprint else { throw .noFingerprint }
        guard let key = [UInt8](hexString: hubPublicKey), key.count == 32,
              SyncSigning.fingerprint(publicKey: key) == hubFingerprint
        else { throw .wrongHub(expected: hubFingerprint) }
    }
}

public enum EnrollmentTokenError: Error, Hashable, CustomStringConvertible {
    case noFingerprint
    case wrongHub(expected: String)

    public var description: String {
        switch self {
        case .noFingerprint:
            "this token has no hub key fingerprint (it ends in '@' and 32 hex digits when made by this version), so this node cannot tell the hub from an impostor; make a new one on the hub with `smollama hub token` (upgrade the hub first if it prints none)"
        case .wrongHub(let expected):
            "the server at this URL answered with a key that is not the one in the token (fingerprint \(expected)); nothing was saved. Check the URL (is it the hub that printed the token?) or make a new token there"
        }
    }
}

extension SyncHub {
    /// The fingerprint of this hub's key, as its enrollment tokens carry it.
    public var keyFingerprint: String { SyncSigning.fingerprint(publicKey: key.publicKey) }

    /// A 200 answer to a verified request: the value as the protocol's JSON, signed over the
    /// request's path and nonce.
    func signedReply(_ value: some Encodable, to request: VerifiedSyncRequest) throws -> SyncHTTPResponse {
        let body = try SyncJSON.encode(value)
        let signature = try key.sign(SyncSigning.replyMessage(path: request.path, nonce: request.nonce, body: body))
        return SyncHTTPResponse(status: 200, body: body, headers: [SyncProtocol.Header.replySignature: signature.hexString])
    }
}

extension SyncClient {
    /// Refuses a 200 answer not signed by the enrolled hub's key over this request's nonce.
    static func checkReply(_ response: SyncHTTPResponse, to request: SyncHTTPRequest, hubPublicKey: String) throws {
        guard let text = response.headers[SyncProtocol.Header.replySignature] else {
            throw SyncClientError.unsignedReply(path: request.path)
        }
        guard let publicKey = [UInt8](hexString: hubPublicKey), let signature = [UInt8](hexString: text),
              let nonce = request.headers[SyncProtocol.Header.nonce],
              SyncSigning.verify(publicKey: publicKey, signature: signature,
                                 message: SyncSigning.replyMessage(path: request.path, nonce: nonce, body: response.body))
        else { throw SyncClientError.badReplySignature(path: request.path) }
    }

    /// Events of a pulled page this node may apply: other nodes' events of the streams it asked
    /// for, which the hub shares. Anything else means the hub is not behaving; nothing is applied.
    static func checkPulled(_ events: [Event], node: NodeID, asked: [EventStream]) throws {
        let allowed = Set(asked).intersection(SyncProtocol.pullableStreams)
        if let stray = events.first(where: { $0.origin == node || !allowed.contains($0.stream) }) {
            throw SyncClientError.badResponse(
                path: SyncProtocol.Path.pull,
                detail: "the page holds \(stray.origin == node ? "this node's own event" : "an event of a stream not asked for") \(stray.origin)/\(stray.stream.rawValue)/\(stray.seq); nothing was applied")
        }
    }
}
