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
