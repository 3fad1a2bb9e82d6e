import Crypto
public import Foundation
import GRDB
import GRDBSQLite
public import Logging
public import SmollamaCore
public import SmollamaStore

/// The hub's side of sync: enrollment, authentication, handshake, push and pull. Transport-free
/// (the Hummingbird routes and the simulation's in-process transport both call `handle`); all
/// state is in the store, so a restarted hub continues exactly where its durable marks say.
public struct SyncHub: Sendable {
    public let database: SmollamaDatabase
    public let hubNode: NodeID
    public let hubName: String
    let key: SyncKey
    let now: @Sendable () -> Int64
    let logger: Logger
    /// Test hook: runs inside the push transaction just before commit (a full or busy disk).
    let beforeCommit: @Sendable () throws -> Void

    public init(database: SmollamaDatabase, hubNode: NodeID, hubName: String, key: SyncKey, logger: Logger,
                now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
                beforeCommit: @escaping @Sendable () throws -> Void = {}) {
        self.database = database
        self.hubNode = hubNode
        self.hubName = hubName
        self.key = key
        self.now = now
        self.logger = logger
        self.beforeCommit = beforeCommit
    }

    /// Answers one request. Never throws: every failure becomes a 4xx/5xx with a sentence.
    public func handle(_ request: SyncHTTPRequest) async -> SyncHTTPResponse {
        do {
            guard request.body.count <= SyncProtocol.maxBodyBytes else {
                throw SyncRefusal(413, "too_large",
                                  "the body is \(request.body.count) bytes; the hub accepts at most \(SyncProtocol.maxBodyBytes): send smaller batches")
            }
            switch request.path {
            case SyncProtocol.Path.time:
                return try ok(try timeResponse())
            case SyncProtocol.Path.enroll:
                return try ok(try await enroll(try SyncJSON.decodeChecked(EnrollRequest.self, request.body)))
            case SyncProtocol.Path.handshake:
                let (node, body) = try await authenticate(request)
                let handshake = try SyncJSON.decodeChecked(HandshakeRequest.self, body)
                return try ok(try await self.handshake(handshake, from: node))
            case SyncProtocol.Path.push:
                let (node, body) = try await authenticate(request)
                return try ok(try await push(try SyncJSON.decodeChecked(PushRequest.self, body), from: node))
            case SyncProtocol.Path.pull:
                let (node, body) = try await authenticate(request)
                return try ok(try await pull(try SyncJSON.decodeChecked(PullRequest.self, body), from: node))
            default:
                throw SyncRefusal(404, "not_found", "no sync endpoint \(request.path); the hub serves \(SyncProtocol.Path.all.joined(separator: ", "))")
            }
        } catch let refusal as SyncRefusal {
            if refusal.status >= 500 || refusal.status == 409 {
                logger.notice("sync request refused", metadata: ["smollama.sync.path": "\(request.path)", "smollama.sync.error": "\(refusal)"])
            }
            return Self.failure(refusal)
        } catch {
            logger.error("sync request failed", metadata: ["smollama.sync.path": "\(request.path)", "smollama.error": "\(error)"])
            return Self.failure(SyncRefusal(503, "unavailable",
                                            "the hub could not store the batch (\(Self.brief(error))); nothing was applied, retry later"))
        }
    }

    static func brief(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return "database: \(error.message ?? "\(error.resultCode)")" }
        return "\(type(of: error))"
    }

    func ok(_ value: some Encodable) throws -> SyncHTTPResponse {
        SyncHTTPResponse(status: 200, body: try SyncJSON.encode(value))
    }

    public static func failure(_ refusal: SyncRefusal) -> SyncHTTPResponse {
        let body = SyncErrorBody(error: .init(status: refusal.status, code: refusal.code, message: refusal.message))
        return SyncHTTPResponse(status: refusal.status, body: (try? SyncJSON.encode(body)) ?? Array(refusal.message.utf8))
    }

    // MARK: time and enrollment

    func timeResponse() throws -> TimeResponse {
        let time = now()
        let signature = try key.sign(SyncSigning.timeMessage(hubNode: hubNode, hubTime: time))
        return TimeResponse(version: SyncProtocol.version, hubNode: hubNode, hubTime: time, signature: signature.hexString)
    }

    /// Creates a one-time enrollment token (only its hash is stored).
    public func createToken(lifetime: Int64 = 3_600_000) async throws -> String {
        var generator = SystemRandomNumberGenerator()
        let token = (0..<20).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hexString
        let created = now()
        try await database.writer.write { db in
            try db.execute(sql: "INSERT INTO sync_tokens (token_hash, created_at, expires_at) VALUES (?, ?, ?)",
                           arguments: [Self.tokenHash(token), created, created + lifetime])
        }
        return token
    }

    static func tokenHash(_ token: String) -> String { [UInt8](SHA256.hash(data: Array(token.utf8))).hexString }

    func enroll(_ request: EnrollRequest) async throws -> EnrollResponse {
        guard let publicKey = [UInt8](hexString: request.publicKey), publicKey.count == 32,
              (try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)) != nil
        else { throw SyncRefusal.bad("'publicKey' must be an Ed25519 public key: 64 hex digits") }
        let name = String(request.name.prefix(64))
        let time = now()
        let hash = Self.tokenHash(request.token)
        try await database.writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT expires_at, used_at FROM sync_tokens WHERE token_hash = ?",
                                             arguments: [hash])
            else { throw SyncRefusal.forbidden("bad_token", "this enrollment token is unknown to the hub; create one there with `smollama hub token`") }
            guard (row["used_at"] as Int64?) == nil else {
                throw SyncRefusal.forbidden("token_used", "this enrollment token was already used; tokens work once: create another with `smollama hub token`")
            }
            guard (row["expires_at"] as Int64) > time else {
                throw SyncRefusal.forbidden("token_expired", "this enrollment token expired; create another with `smollama hub token`")
            }
            try db.execute(sql: "UPDATE sync_tokens SET used_at = ?, used_by = ? WHERE token_hash = ?",
                           arguments: [time, request.node.hex, hash])
            try db.execute(
                sql: """
                    INSERT INTO sync_nodes (node, name, public_key, incarnation, enrolled_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(node) DO UPDATE SET name = excluded.name, public_key = excluded.public_key,
                        incarnation = excluded.incarnation, enrolled_at = excluded.enrolled_at, revoked_at = NULL
                    """, arguments: [request.node.hex, name, Data(publicKey), request.incarnation, time])
        }
        logger.notice("node enrolled", metadata: ["smollama.sync.node": "\(request.node)", "smollama.sync.name": "\(name)"])
        return EnrollResponse(hubNode: hubNode, hubName: hubName, hubPublicKey: key.publicKeyHex)
    }

    /// Stops a node from syncing; what it already sent stays. Returns false for an unknown node.
    public func revoke(node: String) async throws -> Bool {
        let time = now()
        return try await database.writer.write { db in
            try db.execute(sql: "UPDATE sync_nodes SET revoked_at = ? WHERE node = ? OR name = ?",
                           arguments: [time, node.lowercased(), node])
            return db.changesCount > 0
        }
    }

    // MARK: authentication

    /// Checks version, node, key, signature, time window and nonce; returns the node and the
    /// inflated body.
    func authenticate(_ request: SyncHTTPRequest) async throws -> (NodeID, [UInt8]) {
        let headers = request.headers
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
        guard let timeText = headers[SyncProtocol.Header.time], let time = Int64(timeText),
              let nonce = headers[SyncProtocol.Header.nonce], (16...64).contains(nonce.count),
              let signatureText = headers[SyncProtocol.Header.signature], let signature = [UInt8](hexString: signatureText)
        else {
            throw SyncRefusal.unauthorized("unsigned", "the request lacks a valid time, nonce or signature header")
        }
        let encoding = headers[SyncProtocol.Header.encoding] ?? "identity"
        let rawLengthText = headers[SyncProtocol.Header.rawLength] ?? String(request.body.count)
        let hubTime = now()
        let nodeRow: (key: Data, revoked: Int64?)? = try await database.reader.read { db in
            try Row.fetchOne(db, sql: "SELECT public_key, revoked_at FROM sync_nodes WHERE node = ?", arguments: [node.hex])
                .map { ($0["public_key"], $0["revoked_at"]) }
        }
        guard let nodeRow else {
            throw SyncRefusal.unauthorized("unknown_node", "node \(node) is not enrolled on this hub: run `smollama enroll --hub URL --token T` on it (tokens come from `smollama hub token`)")
        }
        guard nodeRow.revoked == nil else {
            throw SyncRefusal.forbidden("revoked", "node \(node) was revoked on this hub; enroll it again with a new token to sync")
        }
        let message = SyncSigning.requestMessage(path: request.path, node: node.hex, time: time, nonce: nonce,
                                                 encoding: encoding, rawLength: rawLengthText, body: request.body)
        guard SyncSigning.verify(publicKey: [UInt8](nodeRow.key), signature: signature, message: message) else {
            throw SyncRefusal.unauthorized("bad_signature", "the signature does not match node \(node)'s enrolled key (or the request was altered); re-enroll the node if its key changed")
        }
        guard abs(time - hubTime) <= SyncProtocol.timestampWindow else {
            throw SyncRefusal.unauthorized("stale_request", "the request's time is \((time - hubTime) / 1000) s from the hub's clock; read the hub time again and resend")
        }
        try await database.writer.write { db in
            try db.execute(sql: "DELETE FROM sync_nonces WHERE seen_at < ?", arguments: [hubTime - 2 * SyncProtocol.timestampWindow])
            try db.execute(sql: "INSERT OR IGNORE INTO sync_nonces (node, nonce, seen_at) VALUES (?, ?, ?)",
                           arguments: [node.hex, nonce, hubTime])
            guard db.changesCount == 1 else {
                throw SyncRefusal.unauthorized("replay", "this signed request was already received (replayed nonce); each request needs a fresh nonce")
            }
            try db.execute(sql: "UPDATE sync_nodes SET last_seen = ? WHERE node = ?", arguments: [hubTime, node.hex])
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
        try await database.writer.write { db in
            if let value = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'sync_hub_incarnation'") {
                return value
            }
            let value = SyncSigning.randomNonce()
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('sync_hub_incarnation', ?)", arguments: [value])
            return value
        }
    }

    func handshake(_ request: HandshakeRequest, from node: NodeID) async throws -> HandshakeResponse {
        guard request.version == SyncProtocol.version else {
            throw SyncRefusal(426, "version_mismatch", "the handshake says protocol \(request.version); this hub speaks \(SyncProtocol.version)")
        }
        guard request.node == node else {
            throw SyncRefusal.forbidden("origin_mismatch", "the handshake names node \(request.node) but was signed by \(node)")
        }
        let hubTime = now()
        let incarnation = try await incarnation()
        let marks = try await database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO clock_anchors (origin, boot_id, monotonic_ns, hub_time, recorded_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(origin, boot_id) DO UPDATE SET monotonic_ns = excluded.monotonic_ns,
                        hub_time = excluded.hub_time, recorded_at = excluded.recorded_at
                    """, arguments: [node.hex, request.bootID, Int64(bitPattern: request.monotonicNanoseconds), hubTime, hubTime])
            var marks: [StreamMark] = []
            var backlog: Int64 = 0
            for stream in SyncProtocol.pushOrder {
                let mark = try Self.mark(db, origin: node.hex, stream: stream)
                let gaps = try Row.fetchAll(
                    db, sql: "SELECT from_seq, to_seq FROM sync_gaps WHERE origin = ? AND stream = ? ORDER BY from_seq",
                    arguments: [node.hex, stream]).map { SeqRange(from: $0["from_seq"], to: $0["to_seq"]) }
                marks.append(StreamMark(stream: stream, mark: mark, gaps: gaps))
                guard let state = request.streams.first(where: { $0.stream == stream }) else { continue }
                backlog += max(0, state.localMax - mark)
                if state.localMax < mark {
                    // The node holds less than it already gave us: a restored or cloned store.
                    let detail = "node store is behind the hub: it holds \(stream) up to \(state.localMax) but the hub already has up to \(mark) (restored from an older backup, or cloned)"
                    let known = try Bool.fetchOne(
                        db, sql: "SELECT 1 FROM sync_collisions WHERE origin = ? AND stream = ? AND seq = ? AND detail = ?",
                        arguments: [node.hex, stream, state.localMax, detail]) ?? false
                    if !known {
                        try db.execute(sql: "INSERT INTO sync_collisions (origin, stream, seq, detail, seen_at) VALUES (?, ?, ?, ?, ?)",
                                       arguments: [node.hex, stream, state.localMax, detail, hubTime])
                        try db.execute(sql: "UPDATE sync_nodes SET collisions = collisions + 1 WHERE node = ?", arguments: [node.hex])
                    }
                }
            }
            try db.execute(
                sql: "UPDATE sync_nodes SET incarnation = ?, clock_quality = ?, backlog = ? WHERE node = ?",
                arguments: [request.incarnation, request.clockQuality?.rawValue, backlog, node.hex])
            return marks
        }
        return HandshakeResponse(version: SyncProtocol.version, hubNode: hubNode, hubIncarnation: incarnation,
                                 hubTime: hubTime, marks: marks)
    }

    static func mark(_ db: Database, origin: String, stream: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT mark FROM sync_marks WHERE origin = ? AND stream = ?", arguments: [origin, stream]) ?? 0
    }

    static func setMark(_ db: Database, origin: String, stream: String, mark: Int64, now: Int64) throws {
        try db.execute(
            sql: """
                INSERT INTO sync_marks (origin, stream, mark, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(origin, stream) DO UPDATE SET mark = max(mark, excluded.mark), updated_at = excluded.updated_at
                """, arguments: [origin, stream, mark, now])
    }

    /// Whether `from` may follow `mark`: directly, or across a range the node declared compacted.
    static func mayContinue(_ db: Database, origin: String, stream: String, mark: Int64, from: Int64) throws -> Bool {
        if from <= mark + 1 { return true }
        return try Bool.fetchOne(
            db, sql: "SELECT 1 FROM sync_gaps WHERE origin = ? AND stream = ? AND from_seq <= ? AND to_seq >= ?",
            arguments: [origin, stream, mark + 1, from - 1]) ?? false
    }
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
