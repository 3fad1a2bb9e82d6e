import Foundation
import GRDB
import GRDBSQLite
public import SmollamaCore

/// The hub's side of sync state: enrollment tokens, enrolled nodes, request nonces, durable
/// marks, deliberate gaps, collisions and other nodes' raw readings. Every statement against the
/// hub's `sync_*` and `foreign_*` tables is here; `SmollamaSync` speaks the protocol on top.
public struct HubSyncStore: FeatureStore {
    let database: SmollamaDatabase

    init(_ database: SmollamaDatabase) { self.database = database }

    /// Why the store refused a sync write; `SmollamaSync` turns each into a refusal with a sentence.
    public enum Refusal: Error, Hashable, Sendable {
        case unknownToken
        case tokenUsed
        case tokenExpired
        /// The nonce was seen inside the time window: a replayed request.
        case replay
        /// The batch does not continue the durable mark (nor crosses a declared gap).
        case gap(mark: Int64)
    }

    /// An enrolled node's key and whether it was revoked.
    public struct Enrollment: Hashable, Sendable {
        public var publicKey: [UInt8]
        public var revoked: Bool
    }

    /// The durable mark of one (node, stream), with the ranges the node declared compacted.
    public struct StreamMark: Hashable, Sendable {
        public var stream: SyncStream
        public var mark: Int64
        public var gaps: [ClosedRange<Int64>]
    }

    /// What a pushed batch did.
    public struct PushOutcome: Hashable, Sendable {
        public var mark: Int64
        public var inserted = 0
        public var duplicates = 0
        public var collisions = 0
    }

    // MARK: enrollment and authentication

    public func createToken(hash: String, createdAt: UTCMillis, expiresAt: UTCMillis) async throws {
        try await writer.write { db in
            try db.execute(sql: "INSERT INTO sync_tokens (token_hash, created_at, expires_at) VALUES (?, ?, ?)",
                           arguments: [hash, createdAt, expiresAt])
        }
    }

    /// Uses the token (once) and enrolls the node, or re-enrolls it with a new key.
    public func enroll(tokenHash: String, node: NodeID, name: String, publicKey: [UInt8], incarnation: Int, now: UTCMillis)
        async throws
    {
        try await writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT expires_at, used_at FROM sync_tokens WHERE token_hash = ?",
                                             arguments: [tokenHash])
            else { throw Refusal.unknownToken }
            guard (row["used_at"] as Int64?) == nil else { throw Refusal.tokenUsed }
            guard (row["expires_at"] as UTCMillis) > now else { throw Refusal.tokenExpired }
            try db.execute(sql: "UPDATE sync_tokens SET used_at = ?, used_by = ? WHERE token_hash = ?",
                           arguments: [now, node, tokenHash])
            try db.execute(
                sql: """
                    INSERT INTO sync_nodes (node, name, public_key, incarnation, enrolled_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(node) DO UPDATE SET name = excluded.name, public_key = excluded.public_key,
                        incarnation = excluded.incarnation, enrolled_at = excluded.enrolled_at, revoked_at = NULL
                    """, arguments: [node, name, Data(publicKey), incarnation, now])
        }
    }

    /// Revokes a node by id or name; false when no such node is enrolled.
    public func revoke(node: String, now: UTCMillis) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "UPDATE sync_nodes SET revoked_at = ? WHERE node = ? OR name = ?",
                           arguments: [now, NodeID(hex: node.lowercased()), node])
            return db.changesCount > 0
        }
    }

    public func enrollment(of node: NodeID) async throws -> Enrollment? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT public_key, revoked_at FROM sync_nodes WHERE node = ?", arguments: [node])
                .map { Enrollment(publicKey: [UInt8]($0["public_key"] as Data), revoked: ($0["revoked_at"] as Int64?) != nil) }
        }
    }

    /// Records a signed request's nonce (forgetting those older than `forgetBefore`) and the
    /// node's last contact; throws `.replay` when the nonce was already seen.
    public func admit(node: NodeID, nonce: String, now: UTCMillis, forgetBefore: UTCMillis) async throws {
        try await writer.write { db in
            try db.execute(sql: "DELETE FROM sync_nonces WHERE seen_at < ?", arguments: [forgetBefore])
            try db.execute(sql: "INSERT OR IGNORE INTO sync_nonces (node, nonce, seen_at) VALUES (?, ?, ?)",
                           arguments: [node, nonce, now])
            guard db.changesCount == 1 else { throw Refusal.replay }
            try db.execute(sql: "UPDATE sync_nodes SET last_seen = ? WHERE node = ?", arguments: [now, node])
        }
    }

    /// The hub store's incarnation, created by `make` the first time.
    public func incarnation(make: @escaping @Sendable () -> String) async throws -> String {
        try await writer.write { db in
            if let value = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'sync_hub_incarnation'") {
                return value
            }
            let value = make()
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('sync_hub_incarnation', ?)", arguments: [value])
            return value
        }
    }

    // MARK: handshake

    /// Records the node's clock anchor, incarnation, clock quality and backlog, and notes a node
    /// store that is behind the hub (restored or cloned). Returns the marks of `streams`.
    /// `reported` is the node's local max per stream.
    public func handshake(node: NodeID, bootID: String, monotonicNanoseconds: UInt64, incarnation: Int,
                          clockQuality: ClockQuality?, reported: [SyncStream: Int64], streams: [SyncStream], now: UTCMillis)
        async throws -> [StreamMark]
    {
        let origin = node
        return try await writer.write { db in
            try ClockAnchorRow(
                origin: origin, bootID: bootID, monotonicNanoseconds: monotonicNanoseconds, hubTime: now, recordedAt: now
            ).insert(db, onConflict: .replace)
            var marks: [StreamMark] = []
            var backlog: Int64 = 0
            for stream in streams {
                let mark = try Self.mark(db, origin: origin, stream: stream)
                let gaps = try Row.fetchAll(
                    db, sql: "SELECT from_seq, to_seq FROM sync_gaps WHERE origin = ? AND stream = ? ORDER BY from_seq",
                    arguments: [origin, stream]).map { ($0["from_seq"] as Int64)...($0["to_seq"] as Int64) }
                marks.append(StreamMark(stream: stream, mark: mark, gaps: gaps))
                guard let localMax = reported[stream] else { continue }
                backlog += max(0, localMax - mark)
                if localMax < mark {
                    let detail = "node store is behind the hub: it holds \(stream) up to \(localMax) but the hub already has up to \(mark) (restored from an older backup, or cloned)"
                    let known = try Bool.fetchOne(
                        db, sql: "SELECT 1 FROM sync_collisions WHERE origin = ? AND stream = ? AND seq = ? AND detail = ?",
                        arguments: [origin, stream, localMax, detail]) ?? false
                    if !known { try Self.recordCollision(db, origin: origin, stream: stream, seq: localMax, detail: detail, now: now) }
                }
            }
            try db.execute(
                sql: "UPDATE sync_nodes SET incarnation = ?, clock_quality = ?, backlog = ? WHERE node = ?",
                arguments: [incarnation, clockQuality?.rawValue, backlog, origin])
            return marks
        }
    }

    // MARK: pull

    /// Other origins' events of `streams` after what the node holds (`have`: origin → stream →
    /// seq), ordered by (stream, origin, seq), at most `limit`; `more` when there are others.
    public func events(after have: [NodeID: [EventStream: Int64]], streams: [EventStream], excluding node: NodeID,
                       limit: Int) async throws -> (events: [Event], more: Bool)
    {
        try await writer.read { db in
            var events: [Event] = []
            for stream in streams {
                let origins = try Data.fetchAll(db, sql: "SELECT DISTINCT origin FROM events WHERE stream = ? ORDER BY origin",
                                                arguments: [stream.rawValue])
                for originBytes in origins where originBytes != Data(node.bytes) {
                    let after = have[NodeID(bytes: [UInt8](originBytes))]?[stream] ?? 0
                    let rows = try Row.fetchAll(
                        db, sql: "SELECT * FROM events WHERE origin = ? AND stream = ? AND seq > ? ORDER BY seq LIMIT ?",
                        arguments: [originBytes, stream.rawValue, after, limit + 1 - events.count])
                    for row in rows {
                        if events.count == limit { return (events, true) }
                        events.append(try EventStore.event(from: row))
                    }
                }
            }
            return (events, false)
        }
    }

    // MARK: shared by push and handshake

    static func mark(_ db: Database, origin: NodeID, stream: SyncStream) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT mark FROM sync_marks WHERE origin = ? AND stream = ?", arguments: [origin, stream]) ?? 0
    }

    static func setMark(_ db: Database, origin: NodeID, stream: SyncStream, mark: Int64, now: UTCMillis) throws {
        try db.execute(
            sql: """
                INSERT INTO sync_marks (origin, stream, mark, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(origin, stream) DO UPDATE SET mark = max(mark, excluded.mark), updated_at = excluded.updated_at
                """, arguments: [origin, stream, mark, now])
    }

    static func recordCollision(_ db: Database, origin: NodeID, stream: SyncStream, seq: Int64, detail: String, now: UTCMillis) throws {
        try db.execute(sql: "INSERT INTO sync_collisions (origin, stream, seq, detail, seen_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [origin, stream, seq, detail, now])
        try db.execute(sql: "UPDATE sync_nodes SET collisions = collisions + 1 WHERE node = ?", arguments: [origin])
    }
}

extension SmollamaDatabase {
    /// The hub's sync state in this store.
    public var hubSync: HubSyncStore { HubSyncStore(self) }
}
