import Crypto
import Foundation
import GRDB
import HTTPTypes
public import Logging
public import SmollamaCore
public import SmollamaStore

/// The hub's side of sync: enrollment, authentication, handshake, push and pull, one typed
/// operation per endpoint. Transport-free (`SyncRoutes` and `InProcessSyncTransport` call the
/// same operations); all state is in the store, so a restarted hub continues exactly where its
/// durable marks say.
public struct SyncHub: Sendable {
    public let database: SmollamaDatabase
    public let hubNode: NodeID
    public let hubName: String
    let key: SyncKey
    let now: @Sendable () -> UTCMillis
    let logger: Logger
    /// Test hook: runs inside the push transaction just before commit (a full or busy disk).
    let beforeCommit: @Sendable () throws -> Void

    public init(database: SmollamaDatabase, hubNode: NodeID, hubName: String, key: SyncKey, logger: Logger,
                now: @escaping @Sendable () -> UTCMillis = { UTCMillis.now() },
                beforeCommit: @escaping @Sendable () throws -> Void = {}) {
        self.database = database
        self.hubNode = hubNode
        self.hubName = hubName
        self.key = key
        self.now = now
        self.logger = logger
        self.beforeCommit = beforeCommit
    }

    /// What a failed request answers: a refusal as it is (logged when the hub is at fault or a
    /// node is out of step), anything else a 503 that applied nothing.
    func refusal(for error: any Error, path: String) -> SyncRefusal {
        if let refusal = error as? SyncRefusal {
            if refusal.status.code >= 500 || refusal.status == .conflict {
                logger.notice("sync request refused", metadata: ["smollama.sync.path": "\(path)", "smollama.sync.error": "\(refusal)"])
            }
            return refusal
        }
        logger.error("sync request failed", metadata: ["smollama.sync.path": "\(path)", "smollama.error": "\(error)"])
        return SyncRefusal(503, "unavailable",
                           "the hub could not store the batch (\(Self.brief(error))); nothing was applied, retry later")
    }

    static func brief(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return "database: \(error.message ?? "\(error.resultCode)")" }
        return "\(type(of: error))"
    }

    // MARK: operations (one per endpoint)

    /// `POST /sync/v1/time`: the hub's clock, signed.
    public func time() throws -> TimeResponse { try timeResponse() }

    /// `POST /sync/v1/enroll`: the body holds the one-time token that authenticates it.
    public func enroll(body: [UInt8]) async throws -> EnrollResponse {
        try await enroll(try SyncJSON.decodeChecked(EnrollRequest.self, body))
    }

    /// `POST /sync/v1/handshake`.
    public func handshake(_ request: VerifiedSyncRequest) async throws -> HandshakeResponse {
        try await handshake(try request.decode(HandshakeRequest.self), from: request.node)
    }

    /// `POST /sync/v1/push`.
    public func push(_ request: VerifiedSyncRequest) async throws -> PushResponse {
        // A readings batch is read by hand (`PushJSON`); anything else, or anything it does not
        // take, by `JSONDecoder`, whose errors name the field.
        try await push(try PushJSON.decode(request.body) ?? request.decode(PushRequest.self), from: request.node)
    }

    /// `POST /sync/v1/pull`.
    public func pull(_ request: VerifiedSyncRequest) async throws -> PullResponse {
        try await pull(try request.decode(PullRequest.self), from: request.node)
    }

    // MARK: time and enrollment

    func timeResponse() throws -> TimeResponse {
        let time = now()
        let signature = try key.sign(SyncSigning.timeMessage(hubNode: hubNode, hubTime: time))
        return TimeResponse(version: SyncProtocol.version, hubNode: hubNode, hubTime: time, signature: signature.hexString)
    }

    /// Creates a one-time enrollment token (only its secret's hash is stored), printed as
    /// `<secret>@<fingerprint of this hub's key>` (`EnrollmentToken`). A token minted `for` a node
    /// id has the secret `<id>-<random>` (the hash covers both): it enrolls only that id, also
    /// when the id is enrolled already (a new key) or revoked.
    public func createToken(lifetime: Duration = .seconds(3600), for node: NodeID? = nil) async throws -> String {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<20).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hexString
        let secret = node.map { "\($0.hex)-\(random)" } ?? random
        let created = now()
        try await database.hubSync.createToken(hash: Self.tokenHash(secret), createdAt: created, expiresAt: created + lifetime)
        return EnrollmentToken(secret: secret, hubFingerprint: keyFingerprint).description
    }

    static func tokenHash(_ token: String) -> String { [UInt8](SHA256.hash(data: Array(token.utf8))).hexString }

    func enroll(_ request: EnrollRequest) async throws -> EnrollResponse {
        guard let publicKey = [UInt8](hexString: request.publicKey), publicKey.count == 32,
              (try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)) != nil
        else { throw SyncRefusal.bad("'publicKey' must be an Ed25519 public key: 64 hex digits") }
        guard request.node != hubNode else {
            throw SyncRefusal.forbidden("hub_node", "node \(request.node) is this hub's own id; a node cannot enroll with it (was the hub's data directory copied? give the node its own identity with `smollama init` in a fresh home)")
        }
        // Nodes send the secret alone; a whole printed token is taken too, if it names this hub.
        let token = EnrollmentToken(request.token)
        if let fingerprint = token.hubFingerprint, fingerprint != keyFingerprint {
            throw SyncRefusal.forbidden("token_other_hub", "this token was made by another hub (key fingerprint \(fingerprint), this hub's is \(keyFingerprint)); enroll with the hub that printed it, or create one here with `smollama hub token`")
        }
        let mintedFor = token.secret.split(separator: "-", maxSplits: 1).first.flatMap { $0.count == 32 ? NodeID(hex: String($0)) : nil }
        if let mintedFor, mintedFor != request.node {
            throw SyncRefusal.forbidden("token_for_other_node", "this token was created for node \(mintedFor), not \(request.node); create one for this node with `smollama hub token`")
        }
        // The holder of the key proves it over this token, so the proof cannot be reused.
        let keyProven = request.proof.flatMap { [UInt8](hexString: $0) }.map {
            SyncSigning.verify(publicKey: publicKey, signature: $0,
                               message: SyncSigning.enrollMessage(token: request.token, node: request.node, publicKey: request.publicKey))
        } ?? false
        let name = String(request.name.prefix(64))
        let time = now()
        let hash = Self.tokenHash(token.secret)
        do {
            try await database.hubSync.enroll(tokenHash: hash, node: request.node, name: name, publicKey: publicKey,
                                              incarnation: request.incarnation, now: time,
                                              mintedForNode: mintedFor == request.node, keyProven: keyProven)
        } catch HubSyncStore.Refusal.nodeExists(let revoked) {
            let why = revoked
                ? "node \(request.node) was revoked on this hub; to enroll it again, create a token for it there"
                : "node \(request.node) is already enrolled on this hub with another key; if this is that node with a new key, create a token for it there"
            throw SyncRefusal.forbidden("node_exists", "\(why): `smollama hub token --node \(request.node)` (a copied node needs its own identity: `smollama init` in a fresh home)")
        } catch HubSyncStore.Refusal.unknownToken {
            throw SyncRefusal.forbidden("bad_token", "this enrollment token is unknown to the hub; create one there with `smollama hub token`")
        } catch HubSyncStore.Refusal.tokenUsed {
            throw SyncRefusal.forbidden("token_used", "this enrollment token was already used; tokens work once: create another with `smollama hub token`")
        } catch HubSyncStore.Refusal.tokenExpired {
            throw SyncRefusal.forbidden("token_expired", "this enrollment token expired; create another with `smollama hub token`")
        }
        logger.notice("node enrolled", metadata: ["smollama.sync.node": "\(request.node)", "smollama.sync.name": "\(name)"])
        return EnrollResponse(hubNode: hubNode, hubName: hubName, hubPublicKey: key.publicKeyHex)
    }

    /// Stops a node from syncing; what it already sent stays. Returns false for an unknown node.
    public func revoke(node: String) async throws -> Bool {
        try await database.hubSync.revoke(node: node, now: now())
    }

    // MARK: authentication

    /// Checks version, node, key, signature, time window and nonce; returns the node and the
    /// inflated body.
    public func verify(_ request: SyncHTTPRequest) async throws -> VerifiedSyncRequest {
        let (node, body) = try await authenticate(request)
        return VerifiedSyncRequest(node: node, body: body, path: request.path,
                                   nonce: request.headers[SyncProtocol.Header.nonce] ?? "")
    }

    /// What is checked before a signed request's body is read (a stranger's body is never
    /// read): the protocol version and an enrolled, unrevoked node.
    public func checkSender(headers: [String: String]) async throws -> (NodeID, HubSyncStore.Enrollment) {
        guard let version = headers[SyncProtocol.Header.version] else {
            throw SyncRefusal.bad("missing \(SyncProtocol.Header.version) header: sync requests are made by `smollama`")
        }
        guard version == String(SyncProtocol.version) else {
            throw SyncRefusal(426, "version_mismatch",
                              "this hub speaks sync protocol \(SyncProtocol.version), the node \(version): upgrade the older of the two; the node keeps its data until then")
        }
        guard let nodeText = headers[SyncProtocol.Header.node], let node = NodeID(hex: nodeText) else {
            throw SyncRefusal.unauthorized("unknown_node", "missing or malformed \(SyncProtocol.Header.node) header (32 hex digits)")
        }
        guard let enrollment = try await database.hubSync.enrollment(of: node) else {
            throw SyncRefusal.unauthorized("unknown_node", "node \(node) is not enrolled on this hub: run `smollama enroll --hub URL --token T` on it (tokens come from `smollama hub token`)")
        }
        guard !enrollment.revoked else {
            throw SyncRefusal.forbidden("revoked", "node \(node) was revoked on this hub; to sync again, enroll it with a token made for it: `smollama hub token --node \(node)` on the hub")
        }
        return (node, enrollment)
    }

    func authenticate(_ request: SyncHTTPRequest) async throws -> (NodeID, [UInt8]) {
        let headers = request.headers
        let (node, enrollment) = try await checkSender(headers: headers)
        guard let timeText = headers[SyncProtocol.Header.time], let time = Int64(timeText).map(UTCMillis.init(rawValue:)),
              let nonce = headers[SyncProtocol.Header.nonce], (16...64).contains(nonce.count),
              let signatureText = headers[SyncProtocol.Header.signature], let signature = [UInt8](hexString: signatureText)
        else {
            throw SyncRefusal.unauthorized("unsigned", "the request lacks a valid time, nonce or signature header")
        }
        let encoding = headers[SyncProtocol.Header.encoding] ?? "identity"
        let rawLengthText = headers[SyncProtocol.Header.rawLength] ?? String(request.body.count)
        let hubTime = now()
        let message = SyncSigning.requestMessage(path: request.path, node: node.hex, time: time, nonce: nonce,
                                                 encoding: encoding, rawLength: rawLengthText, body: request.body)
        guard SyncSigning.verify(publicKey: enrollment.publicKey, signature: signature, message: message) else {
            throw SyncRefusal.unauthorized("bad_signature", "the signature does not match node \(node)'s enrolled key (or the request was altered); re-enroll the node if its key changed")
        }
        // Compared without subtracting: the header may hold any Int64.
        guard time >= hubTime - SyncProtocol.timestampWindow, time <= hubTime + SyncProtocol.timestampWindow else {
            let (difference, overflow) = time.rawValue.subtractingReportingOverflow(hubTime.rawValue)
            let distance = overflow ? "more than 292 million years" : "\(difference / 1000) s"
            throw SyncRefusal.unauthorized("stale_request", "the request's time is \(distance) from the hub's clock; read the hub time again and resend")
        }
        do {
            try await database.hubSync.admit(node: node, nonce: nonce, now: hubTime,
                                             forgetBefore: hubTime - SyncProtocol.timestampWindow * 2)
        } catch HubSyncStore.Refusal.replay {
            throw SyncRefusal.unauthorized("replay", "this signed request was already received (replayed nonce); each request needs a fresh nonce")
        }
        let body: [UInt8]
        switch encoding {
        case "identity":
            body = request.body
        case "zlib":
            guard let length = Int(rawLengthText), (1...SyncProtocol.maxInflatedBytes).contains(length) else {
                throw SyncRefusal(413, "too_large", "the declared inflated length must be 1…\(SyncProtocol.maxInflatedBytes) bytes")
            }
            do {
                body = try Deflate.decompress(request.body, length: length)
            } catch {
                throw SyncRefusal.bad("\(error); nothing was applied")
            }
        default:
            throw SyncRefusal.bad("unknown \(SyncProtocol.Header.encoding) '\(encoding)'; use identity or zlib")
        }
        return (node, body)
    }

    // MARK: handshake

    public func incarnation() async throws -> String {
        try await database.hubSync.incarnation(make: { SyncSigning.randomNonce() })
    }

    func handshake(_ request: HandshakeRequest, from node: NodeID) async throws -> HandshakeResponse {
        guard request.version == SyncProtocol.version else {
            throw SyncRefusal(426, "version_mismatch", "the handshake says protocol \(request.version); this hub speaks \(SyncProtocol.version)")
        }
        guard request.node == node else {
            throw SyncRefusal.forbidden("origin_mismatch", "the handshake names node \(request.node) but was signed by \(node)")
        }
        guard request.streams.count <= 4 * SyncStream.allCases.count else {
            throw SyncRefusal.bad("the handshake lists \(request.streams.count) streams; there are \(SyncStream.allCases.count)")
        }
        for (index, state) in request.streams.enumerated() where !(0...SyncProtocol.maxSeq).contains(state.localMax) {
            throw SyncRefusal.bad("'streams[\(index)].localMax' is \(state.localMax); it must be 0…\(SyncProtocol.maxSeq)")
        }
        guard (1...128).contains(request.bootID.utf8.count) else {
            throw SyncRefusal.bad("'bootID' must be 1…128 bytes (the node's /proc/sys/kernel/random/boot_id)")
        }
        if let simulated = request.simulatedSensors {
            guard simulated.count <= SimulatedSensors.maxReported,
                  simulated.allSatisfy({ !$0.isEmpty && $0.utf8.count <= SimulatedSensors.maxKeyBytes })
            else {
                throw SyncRefusal.bad("'simulatedSensors' must list at most \(SimulatedSensors.maxReported) sensor keys of 1…\(SimulatedSensors.maxKeyBytes) bytes")
            }
        }
        let hubTime = now()
        let incarnation = try await incarnation()
        var reported: [SyncStream: Int64] = [:]
        for state in request.streams where reported[state.stream] == nil { reported[state.stream] = state.localMax }
        let marks = try await database.hubSync.handshake(
            node: node, bootID: request.bootID, monotonicNanoseconds: request.monotonicNanoseconds,
            incarnation: request.incarnation, clockQuality: request.clockQuality,
            clockOffset: request.wallMilliseconds.flatMap { (0...HLCTimestamp.maxMilliseconds).contains($0) ? UTCMillis(rawValue: $0) - hubTime : nil },
            reported: reported, simulatedSensors: request.simulatedSensors,
            streams: SyncProtocol.pushOrder, now: hubTime
        ).map { StreamMark(stream: $0.stream, mark: $0.mark, gaps: $0.gaps.map { SeqRange(from: $0.lowerBound, to: $0.upperBound) }) }
        return HandshakeResponse(version: SyncProtocol.version, hubNode: hubNode, hubIncarnation: incarnation,
                                 hubTime: hubTime, marks: marks)
    }
}

/// A signed request the hub verified: the node that signed it and its inflated body.
public struct VerifiedSyncRequest: Sendable {
    public let node: NodeID
    let body: [UInt8]
    /// What the hub's signed reply covers (`SyncHub.signedReply`).
    let path: String
    let nonce: String

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try SyncJSON.decodeChecked(type, body) }
}

extension SyncJSON {
    /// Decodes a body, turning failures into a 400 naming the field.
    static func decodeChecked<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        do {
            return try decode(type, bytes)
        } catch {
            throw SyncRefusal.bad("\(describe(error)); nothing was applied")
        }
    }
}
