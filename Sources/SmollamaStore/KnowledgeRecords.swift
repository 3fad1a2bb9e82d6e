import Foundation
import GRDB
import SmollamaCore

/// A row of `observations`: the winning version of each observation id, projected from the log
/// (`KnowledgeStore.project`). Columns are named once, here.
struct ObservationRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "observations"

    enum CodingKeys: String, CodingKey {
        case id, origin, seq, hlc, kind, subjects, text, evidence, importance, generator, support, confidence
        case timeStart = "time_start"
        case timeEnd = "time_end"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let origin = Column(CodingKeys.origin)
        static let timeStart = Column(CodingKeys.timeStart)
        static let timeEnd = Column(CodingKeys.timeEnd)
    }

    var id: String
    var origin: NodeID
    var seq: Int64
    var hlc: HLCTimestamp
    var kind: String
    /// Stored as JSON text.
    var subjects: [String]
    var text: String
    /// The evidence ids, as JSON text.
    var evidence: [String]
    var importance: Double
    var generator: TextGenerator
    var support: Int
    var timeStart: UTCMillis
    var timeEnd: UTCMillis
    /// Added by migration `v7-digest-confidence`; NULL for observations written before it.
    var confidence: Double?

    init(_ record: ObservationRecord, of event: Event) {
        id = record.id
        origin = event.origin
        seq = event.seq
        hlc = event.stamp.hlc
        kind = record.kind
        subjects = record.subjects
        text = record.text
        evidence = record.evidenceIDs
        importance = record.importance
        generator = record.generator
        support = record.support
        timeStart = record.timeStart
        timeEnd = record.timeEnd
        confidence = record.confidence
    }

    var stored: StoredObservation {
        StoredObservation(
            record: ObservationRecord(
                id: id, kind: kind, subjects: subjects, text: text, evidenceIDs: evidence, importance: importance,
                generator: generator, support: support, timeStart: timeStart, timeEnd: timeEnd,
                confidence: confidence),
            origin: origin, hlc: hlc)
    }

    /// JSON columns are written as the event payloads are (sorted keys), so equal lists store equally.
    static func databaseJSONEncoder(for column: String) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

/// A row of `memory_versions`: every version of a memory ever seen, keyed by the event that
/// carried it. `record` is the whole version, as JSON text written as the event payload is.
struct MemoryVersionRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "memory_versions"

    enum CodingKeys: String, CodingKey {
        case origin, seq, hlc, record
        case memoryID = "memory_id"
        case parentOrigin = "parent_origin"
        case parentSeq = "parent_seq"
    }

    enum Columns {
        static let origin = Column(CodingKeys.origin)
        static let seq = Column(CodingKeys.seq)
        static let hlc = Column(CodingKeys.hlc)
        static let memoryID = Column(CodingKeys.memoryID)
    }

    var origin: NodeID
    var seq: Int64
    var memoryID: String
    var hlc: HLCTimestamp
    var parentOrigin: NodeID?
    var parentSeq: Int64?
    var record: MemoryRecord

    init(_ record: MemoryRecord, of event: Event) {
        origin = event.origin
        seq = event.seq
        memoryID = record.id
        hlc = event.stamp.hlc
        parentOrigin = record.parent?.origin
        parentSeq = record.parent?.seq
        self.record = record
    }

    /// Versions of one memory, oldest first (ties broken as the projection breaks them).
    static func history(of id: String) -> QueryInterfaceRequest<MemoryVersionRow> {
        filter(Columns.memoryID == id).order(Columns.hlc, Columns.origin, Columns.seq)
    }

    static func databaseJSONEncoder(for column: String) -> JSONEncoder { ObservationRow.databaseJSONEncoder(for: column) }

    /// Read by column name rather than through `Decodable` (GRDB's keyed row decoder cost as much
    /// as the record's JSON on an explorer page of 50 memories).
    init(row: Row) throws {
        origin = row[CodingKeys.origin.stringValue]
        seq = row[CodingKeys.seq.stringValue]
        memoryID = row[CodingKeys.memoryID.stringValue]
        hlc = row[CodingKeys.hlc.stringValue]
        parentOrigin = row[CodingKeys.parentOrigin.stringValue]
        parentSeq = row[CodingKeys.parentSeq.stringValue]
        record = try row.withUnsafeData(named: CodingKeys.record.stringValue, Self.decodeRecord)
    }

    /// The `record` column of a raw row, decoded as the record's own decoding does.
    static func decodeRecord(_ row: Row, column: Int) throws -> MemoryRecord {
        try row.withUnsafeData(atIndex: column, decodeRecord)
    }

    static func decodeRecord(_ data: Data?) throws -> MemoryRecord {
        guard let data else { throw StoreError.cannotRegister("a memory version without its record") }
        return try databaseJSONDecoder(for: CodingKeys.record.stringValue).decode(MemoryRecord.self, from: data)
    }
}

/// A row of `memories`: the winning version of each memory id, with the fields recall and the
/// dashboard filter on; the full record is the winning `MemoryVersionRow`'s.
struct MemoryRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "memories"
    /// The winning version: the `memory_versions` row of the same (origin, seq).
    static let version = belongsTo(
        MemoryVersionRow.self, key: "version", using: ForeignKey(["origin", "seq"], to: ["origin", "seq"]))

    enum CodingKeys: String, CodingKey {
        case id, origin, seq, hlc, kind, subjects, text, confidence, importance, support, supersedes, source, metadata
        case firstOrigin = "first_origin"
        case validFrom = "valid_from"
        case validTo = "valid_to"
        case createdAt = "created_at"
        case expiredAt = "expired_at"
    }

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let createdAt = Column(CodingKeys.createdAt)
        static let validTo = Column(CodingKeys.validTo)
        static let expiredAt = Column(CodingKeys.expiredAt)
    }

    var id: String
    var origin: NodeID
    var seq: Int64
    var hlc: HLCTimestamp
    var firstOrigin: NodeID
    var kind: String
    /// Stored as JSON text.
    var subjects: [String]
    var text: String
    var confidence: Double
    var importance: Double
    var support: Int
    var validFrom: UTCMillis
    var validTo: UTCMillis?
    var createdAt: UTCMillis
    var expiredAt: UTCMillis?
    var supersedes: String?
    var source: MemorySource
    /// Stored as JSON text.
    var metadata: [String: String]

    init(_ record: MemoryRecord, of event: Event, firstOrigin: NodeID) {
        id = record.id
        origin = event.origin
        seq = event.seq
        hlc = event.stamp.hlc
        self.firstOrigin = firstOrigin
        kind = record.kind
        subjects = record.subjects
        text = record.text
        confidence = record.confidence
        importance = record.importance
        support = record.support
        validFrom = record.validFrom
        validTo = record.validTo
        createdAt = record.createdAt
        expiredAt = record.expiredAt
        supersedes = record.supersedes
        source = record.source
        metadata = record.metadata
    }

    /// Memories joined with their winning version, as reads want them.
    static func withVersion() -> QueryInterfaceRequest<MemoryWithVersion> {
        including(required: version).asRequest(of: MemoryWithVersion.self)
    }

    static func databaseJSONEncoder(for column: String) -> JSONEncoder { ObservationRow.databaseJSONEncoder(for: column) }
}

/// A memory row with its winning version: what a read returns. Only the row's id and version
/// columns are read: its JSON columns (subjects, metadata) repeat what the version's record holds,
/// and decoding them again made a recall or an explorer page decode every hit three times.
struct MemoryWithVersion: FetchableRecord {
    var id: String
    var origin: NodeID
    var seq: Int64
    var hlc: HLCTimestamp
    var firstOrigin: NodeID
    var version: MemoryVersionRow

    init(row: Row) throws {
        id = row["id"]
        origin = row["origin"]
        seq = row["seq"]
        hlc = row["hlc"]
        firstOrigin = row["first_origin"]
        guard let version = row.scopes["version"] else {
            throw StoreError.cannotRegister("the winning version of memory \(id)")
        }
        self.version = try MemoryVersionRow(row: version)
    }

    var stored: StoredMemory {
        StoredMemory(record: version.record, version: MemoryVersionRef(origin: origin, seq: seq), hlc: hlc,
                     firstOrigin: firstOrigin)
    }
}
