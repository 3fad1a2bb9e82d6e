import Foundation
import GRDB
import SmollamaCore

/// A row of `events`: one event of the append-only log, as its origin wrote it. `type` and
/// `payload` are the stored truth (the hash covers them); `stream` and `quality` are read as
/// text and checked when the row becomes an `Event`.
struct EventRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "events"

    enum CodingKeys: String, CodingKey {
        case origin, stream, seq, hlc, quality, type, payload, hash
        case bootID = "boot_id"
        case monotonicNanoseconds = "monotonic_ns"
    }

    enum Columns {
        static let origin = Column(CodingKeys.origin)
        static let stream = Column(CodingKeys.stream)
        static let seq = Column(CodingKeys.seq)
        static let hlc = Column(CodingKeys.hlc)
    }

    var origin: NodeID
    var stream: String
    var seq: Int64
    var hlc: HLCTimestamp
    var bootID: String
    /// The boot's monotonic clock, stored as the same 64 bits signed.
    var monotonicNanoseconds: Int64
    var quality: String
    var type: String
    var payload: Data
    var hash: Data

    init(_ event: Event) {
        origin = event.origin
        stream = event.stream.rawValue
        seq = event.seq
        hlc = event.stamp.hlc
        bootID = event.stamp.bootID
        monotonicNanoseconds = Int64(bitPattern: event.stamp.monotonicNanoseconds)
        quality = event.stamp.quality.rawValue
        type = event.type
        payload = event.payload
        hash = event.hash
    }

    /// Decodes by hand: the `Codable` path (keyed containers, a dictionary lookup per column)
    /// cost more than reading the row itself on every log page.
    init(row: Row) throws {
        origin = row["origin"]
        stream = row["stream"]
        seq = row["seq"]
        hlc = row["hlc"]
        bootID = row["boot_id"]
        monotonicNanoseconds = row["monotonic_ns"]
        quality = row["quality"]
        type = row["type"]
        payload = row["payload"]
        hash = row["hash"]
    }

    func event() throws -> Event {
        guard let stream = EventStream(rawValue: stream), let quality = ClockQuality(rawValue: quality) else {
            throw DatabaseError(message: "event row has unknown stream '\(stream)' or quality '\(quality)'")
        }
        return Event(
            stored: origin, stream: stream, seq: seq,
            stamp: ClockStamp(hlc: hlc, bootID: bootID, monotonicNanoseconds: UInt64(bitPattern: monotonicNanoseconds),
                              quality: quality),
            type: type, payload: payload, hash: hash)
    }

    /// One origin's events of one stream.
    static func of(_ origin: NodeID, _ stream: EventStream) -> QueryInterfaceRequest<EventRow> {
        filter(Columns.origin == origin && Columns.stream == stream.rawValue)
    }

    /// The largest seq of one origin's stream (0 when it has none).
    static func lastSeq(_ db: Database, _ origin: NodeID, _ stream: EventStream) throws -> Int64 {
        try of(origin, stream).select(max(Columns.seq), as: Int64.self).fetchOne(db) ?? 0
    }

    /// The nodes that have events in `stream`, in a stable order.
    static func origins(of stream: EventStream) -> QueryInterfaceRequest<NodeID> {
        filter(Columns.stream == stream.rawValue).select(Columns.origin, as: NodeID.self).distinct().order(Columns.origin)
    }

    /// Events of any of `streams`.
    static func of(_ streams: [EventStream]) -> QueryInterfaceRequest<EventRow> {
        filter(streams.map(\.rawValue).contains(Columns.stream))
    }
}
