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
