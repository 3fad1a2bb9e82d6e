import Foundation
import GRDB
import SmollamaCore

/// A row of `peer_checkpoints`: what a peer (the hub) durably acknowledged of one stream.
/// Retention trusts only this. (The sync tables are WITHOUT ROWID, where GRDB's `upsert` fails
/// asking for a rowid: rows are written with `insert(onConflict: .replace)`.)
struct PeerCheckpointRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "peer_checkpoints"

    enum CodingKeys: String, CodingKey {
        case peer, stream
        case ackedSeq = "acked_seq"
        case updatedAt = "updated_at"
    }

    var peer: String
    var stream: SyncStream
    var ackedSeq: Int64
    var updatedAt: UTCMillis

    /// What `peer` acknowledged of `stream` (0 when nothing).
    static func acknowledged(_ db: Database, peer: String, stream: SyncStream) throws -> Int64 {
        try fetchOne(db, key: ["peer": peer, "stream": stream.rawValue])?.ackedSeq ?? 0
    }
}

/// A row of `clock_anchors`: a boot's monotonic time seen together with the hub's time, so
/// stamps taken under an untrusted clock in that boot can be re-timed.
struct ClockAnchorRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "clock_anchors"

    enum CodingKeys: String, CodingKey {
        case origin
        case bootID = "boot_id"
        case monotonicNanoseconds = "monotonic_ns"
        case hubTime = "hub_time"
        case recordedAt = "recorded_at"
    }

    var origin: NodeID
    var bootID: String
    /// The boot's monotonic clock, stored as the same 64 bits signed.
    var monotonicNanoseconds: Int64
    var hubTime: UTCMillis
    var recordedAt: UTCMillis

    init(origin: NodeID, bootID: String, monotonicNanoseconds: UInt64, hubTime: UTCMillis, recordedAt: UTCMillis) {
        self.origin = origin
        self.bootID = bootID
        self.monotonicNanoseconds = Int64(bitPattern: monotonicNanoseconds)
        self.hubTime = hubTime
        self.recordedAt = recordedAt
    }
}

/// A row of `sync_status`: what this node's last sync round saw of one stream.
struct SyncStatusRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sync_status"

    enum CodingKeys: String, CodingKey {
        case stream
        case hubMark = "hub_mark"
        case localMax = "local_max"
        case lastSuccess = "last_success"
        case lastError = "last_error"
        case lastErrorAt = "last_error_at"
    }

    var stream: SyncStream
    var hubMark: Int64 = 0
    var localMax: Int64 = 0
    var lastSuccess: UTCMillis?
    var lastError: String?
    var lastErrorAt: UTCMillis?

    init(stream: SyncStream) { self.stream = stream }

    /// The stream's row, or a fresh one to fill and save.
    static func of(_ stream: SyncStream, _ db: Database) throws -> SyncStatusRow {
        try fetchOne(db, key: stream.rawValue) ?? SyncStatusRow(stream: stream)
    }
}

/// A row of `sync_tokens`: a one-time enrollment token, kept as its SHA-256 hex only.
struct SyncTokenRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sync_tokens"

    enum CodingKeys: String, CodingKey {
        case tokenHash = "token_hash"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case usedAt = "used_at"
        case usedBy = "used_by"
    }

    var tokenHash: String
    var createdAt: UTCMillis
    var expiresAt: UTCMillis
    var usedAt: UTCMillis?
    var usedBy: NodeID?
}

/// A row of `sync_nodes`: a node allowed to sync with this hub, and what its last contact said.
struct SyncNodeRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sync_nodes"

    enum CodingKeys: String, CodingKey {
        case node, name, incarnation, backlog, collisions
        case publicKey = "public_key"
        case enrolledAt = "enrolled_at"
        case revokedAt = "revoked_at"
        case lastSeen = "last_seen"
        case clockQuality = "clock_quality"
        case lastError = "last_error"
        case clockOffset = "clock_offset_ms"
    }

    enum Columns {
        static let node = Column(CodingKeys.node)
        static let name = Column(CodingKeys.name)
        static let revokedAt = Column(CodingKeys.revokedAt)
        static let lastSeen = Column(CodingKeys.lastSeen)
        static let backlog = Column(CodingKeys.backlog)
        static let collisions = Column(CodingKeys.collisions)
    }

    var node: NodeID
    var name: String
    /// Ed25519, 32 bytes.
    var publicKey: Data
    var incarnation: Int
    var enrolledAt: UTCMillis
    var revokedAt: UTCMillis?
    var lastSeen: UTCMillis?
    var clockQuality: String?
    /// The node's wall clock minus the hub's at its last handshake, in ms (nil: not reported).
    var clockOffset: Int64?
    /// Items the node reported beyond the hub's marks at its last handshake, less what came since.
    var backlog: Int64 = 0
    var collisions: Int = 0
    var lastError: String?

    init(node: NodeID, name: String, publicKey: [UInt8], incarnation: Int, enrolledAt: UTCMillis) {
        self.node = node
        self.name = name
        self.publicKey = Data(publicKey)
        self.incarnation = incarnation
        self.enrolledAt = enrolledAt
    }
}

/// A row of `sync_nonces`: a signed request's nonce seen inside the time window.
struct SyncNonceRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sync_nonces"

    enum CodingKeys: String, CodingKey {
        case node, nonce
        case seenAt = "seen_at"
    }

    enum Columns {
        static let seenAt = Column(CodingKeys.seenAt)
    }

    var node: NodeID
    var nonce: String
    var seenAt: UTCMillis
}

/// A row of `sync_marks`: everything of (origin, stream) up to `mark` is durable here (or
/// inside a declared gap). Written in the same transaction as the data.
struct SyncMarkRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sync_marks"

    enum CodingKeys: String, CodingKey {
        case origin, stream, mark
        case updatedAt = "updated_at"
    }

    enum Columns {
        static let origin = Column(CodingKeys.origin)
    }

    var origin: NodeID
    /// A stream name as stored: a newer node's stream an older hub does not know still reads.
    var stream: String
    var mark: Int64
    var updatedAt: UTCMillis
}

/// A row of `sync_gaps`: a range a node compacted away before sending it.
struct SyncGapRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sync_gaps"

    enum CodingKeys: String, CodingKey {
        case origin, stream
        case fromSeq = "from_seq"
        case toSeq = "to_seq"
        case recordedAt = "recorded_at"
    }

    enum Columns {
        static let origin = Column(CodingKeys.origin)
        static let stream = Column(CodingKeys.stream)
        static let fromSeq = Column(CodingKeys.fromSeq)
        static let toSeq = Column(CodingKeys.toSeq)
    }

    var origin: NodeID
    /// A stream name as stored: a newer node's stream an older hub does not know still reads.
    var stream: String
    var fromSeq: Int64
    var toSeq: Int64
    var recordedAt: UTCMillis

    static func of(_ origin: NodeID, _ stream: SyncStream) -> QueryInterfaceRequest<SyncGapRow> {
        filter(Columns.origin == origin && Columns.stream == stream.rawValue).order(Columns.fromSeq)
    }
}

/// A row of `sync_collisions`: the same id with different content (a restored or cloned store).
struct SyncCollisionRow: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "sync_collisions"

    enum CodingKeys: String, CodingKey {
        case id, origin, stream, seq, detail
        case seenAt = "seen_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let origin = Column(CodingKeys.origin)
        static let stream = Column(CodingKeys.stream)
        static let seq = Column(CodingKeys.seq)
        static let detail = Column(CodingKeys.detail)
    }

    var id: Int64?
    var origin: NodeID
    /// A stream name as stored: a newer node's stream an older hub does not know still reads.
    var stream: String
    var seq: Int64
    var detail: String
    var seenAt: UTCMillis

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
