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
        /// The id is enrolled (or revoked) and neither a token minted for it nor its key came along.
        case nodeExists(revoked: Bool)
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
            try SyncTokenRow(tokenHash: hash, createdAt: createdAt, expiresAt: expiresAt).insert(db)
        }
    }

    /// Uses the token (once) and enrolls the node. An id already here is re-enrolled only with a
    /// token minted for it (`mintedForNode`: a new key, or after revocation) or by the holder of
    /// the key the hub already has (`keyProven`, not revoked); otherwise `.nodeExists`, and the
    /// token stays unused.
    public func enroll(tokenHash: String, node: NodeID, name: String, publicKey: [UInt8], incarnation: Int, now: UTCMillis,
                       mintedForNode: Bool = false, keyProven: Bool = false) async throws
    {
        try await writer.write { db in
            guard var token = try SyncTokenRow.fetchOne(db, key: tokenHash) else { throw Refusal.unknownToken }
            guard token.usedAt == nil else { throw Refusal.tokenUsed }
            guard token.expiresAt > now else { throw Refusal.tokenExpired }
            let existing = try SyncNodeRow.fetchOne(db, key: node)
            if let existing, !mintedForNode,
               !(keyProven && existing.revokedAt == nil && existing.publicKey == Data(publicKey)) {
                throw Refusal.nodeExists(revoked: existing.revokedAt != nil)
            }
            token.usedAt = now
            token.usedBy = node
            try token.update(db)
            // Re-enrolling keeps what the hub learned of the node (last contact, backlog,
            // collisions) and lifts a revocation.
            var enrolled = existing
                ?? SyncNodeRow(node: node, name: name, publicKey: publicKey, incarnation: incarnation, enrolledAt: now)
            enrolled.name = name
            enrolled.publicKey = Data(publicKey)
            enrolled.incarnation = incarnation
            enrolled.enrolledAt = now
            enrolled.revokedAt = nil
            try enrolled.save(db)
        }
    }

    /// Revokes a node by id or name; false when no such node is enrolled.
    public func revoke(node: String, now: UTCMillis) async throws -> Bool {
        try await writer.write { db in
            let matching = SyncNodeRow.filter(
                SyncNodeRow.Columns.node == NodeID(hex: node.lowercased()) || SyncNodeRow.Columns.name == node)
            return try matching.updateAll(db, SyncNodeRow.Columns.revokedAt.set(to: now)) > 0
        }
    }

    public func enrollment(of node: NodeID) async throws -> Enrollment? {
        try await writer.read { db in
            try SyncNodeRow.fetchOne(db, key: node).map { Enrollment(publicKey: [UInt8]($0.publicKey), revoked: $0.revokedAt != nil) }
        }
    }

    /// Records a signed request's nonce (forgetting those older than `forgetBefore`) and the
    /// node's last contact; throws `.replay` when the nonce was already seen.
    public func admit(node: NodeID, nonce: String, now: UTCMillis, forgetBefore: UTCMillis) async throws {
        try await writer.write { db in
            try SyncNonceRow.filter(SyncNonceRow.Columns.seenAt < forgetBefore).deleteAll(db)
            try SyncNonceRow(node: node, nonce: nonce, seenAt: now).insert(db, onConflict: .ignore)
            guard db.changesCount == 1 else { throw Refusal.replay }
            try SyncNodeRow.filter(key: node).updateAll(db, SyncNodeRow.Columns.lastSeen.set(to: now))
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
    /// store that is behind the hub (a restore notice, `RestoreNotices.swift`). Returns the marks of `streams`.
    /// `reported` is the node's local max per stream.
    /// `clockOffset`: the node's wall clock minus `now`, when it sent its wall clock.
    public func handshake(node: NodeID, bootID: String, monotonicNanoseconds: UInt64, incarnation: Int,
                          clockQuality: ClockQuality?, clockOffset: Duration? = nil, reported: [SyncStream: Int64],
                          simulatedSensors: [String]? = nil, streams: [SyncStream], now: UTCMillis)
        async throws -> [StreamMark]
    {
        let origin = node
        return try await writer.write { db in
            if let simulatedSensors { try Self.recordSimulated(db, node: origin, sensors: simulatedSensors) }
            try ClockAnchorRow(
                origin: origin, bootID: bootID, monotonicNanoseconds: monotonicNanoseconds, hubTime: now, recordedAt: now
            ).insert(db, onConflict: .replace)
            var marks: [StreamMark] = []
            var backlog: Int64 = 0
            for stream in streams {
                let mark = try Self.mark(db, origin: origin, stream: stream)
                let gaps = try SyncGapRow.of(origin, stream).fetchAll(db).map { $0.fromSeq...$0.toSeq }
                marks.append(StreamMark(stream: stream, mark: mark, gaps: gaps))
                guard let localMax = reported[stream] else { continue }
                backlog += max(0, localMax - mark)
                if localMax < mark {
                    // Restored from an older backup, or a power cut: a notice, not a collision
                    // (nothing is reused: the node numbers past the mark from now on).
                    try Self.recordRestore(db, origin: origin, stream: stream, localMax: localMax, mark: mark, now: now)
                }
            }
            if var enrolled = try SyncNodeRow.fetchOne(db, key: origin) {
                enrolled.incarnation = incarnation
                enrolled.clockQuality = clockQuality?.rawValue
                enrolled.clockOffset = clockOffset?.wholeMilliseconds
                enrolled.backlog = backlog
                try enrolled.update(db)
            }
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
                let origins = try EventRow.origins(of: stream).fetchAll(db)
                for origin in origins where origin != node {
                    let after = have[origin]?[stream] ?? 0
                    let rows = try EventRow.of(origin, stream).filter(EventRow.Columns.seq > after)
                        .order(EventRow.Columns.seq).limit(limit + 1 - events.count).fetchAll(db)
                    for row in rows {
                        if events.count == limit { return (events, true) }
                        events.append(try row.event())
                    }
                }
            }
            return (events, false)
        }
    }

    /// A node's own events of `streams` after `have` (stream → seq), for a node that lost them
    /// (restored from an older backup, or a power cut): ordered by (stream, seq), at most `limit`.
    public func ownEvents(of node: NodeID, after have: [EventStream: Int64], streams: [EventStream], limit: Int)
        async throws -> (events: [Event], more: Bool)
    {
        try await writer.read { db in
            var events: [Event] = []
            for stream in streams {
                let rows = try EventRow.of(node, stream).filter(EventRow.Columns.seq > (have[stream] ?? 0))
                    .order(EventRow.Columns.seq).limit(limit + 1 - events.count).fetchAll(db)
                for row in rows {
                    if events.count == limit { return (events, true) }
                    events.append(try row.event())
                }
            }
            return (events, false)
        }
    }

    // MARK: shared by push and handshake

    static func mark(_ db: Database, origin: NodeID, stream: SyncStream) throws -> Int64 {
        try SyncMarkRow.fetchOne(db, key: ["origin": origin, "stream": stream.rawValue])?.mark ?? 0
    }

    static func setMark(_ db: Database, origin: NodeID, stream: SyncStream, mark: Int64, now: UTCMillis) throws {
        // A mark never goes down.
        let current = try Self.mark(db, origin: origin, stream: stream)
        try SyncMarkRow(origin: origin, stream: stream.rawValue, mark: max(current, mark), updatedAt: now)
            .insert(db, onConflict: .replace)
    }

    static func recordCollision(_ db: Database, origin: NodeID, stream: SyncStream, seq: Int64, detail: String, now: UTCMillis) throws {
        var collision = SyncCollisionRow(origin: origin, stream: stream.rawValue, seq: seq, detail: detail, seenAt: now)
        try collision.insert(db)
        try SyncNodeRow.filter(key: origin).updateAll(db, SyncNodeRow.Columns.collisions += 1)
    }
}

extension SmollamaDatabase {
    /// The hub's sync state in this store.
    public var hubSync: HubSyncStore { HubSyncStore(self) }
}
