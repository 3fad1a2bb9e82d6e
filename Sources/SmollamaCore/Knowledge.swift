import Foundation

/// Who wrote a sentence: the model (and it passed verification) or the template fallback.
public enum TextGenerator: String, Codable, Sendable, Hashable {
    case llm
    case rules
}

/// A grounded sentence about a stretch of time, with the evidence ids it rests on.
public struct ObservationRecord: Codable, Sendable, Hashable {
    public var id: String
    /// e.g. `anomaly`, `activity`, `trend`, `fault`, `summary`.
    public var kind: String
    /// Sensor keys the sentence is about.
    public var subjects: [String]
    public var text: String
    public var evidenceIDs: [String]
    /// 0…1.
    public var importance: Double
    public var generator: TextGenerator
    /// How many windows said the same thing (dedup raises this instead of adding rows).
    public var support: Int
    /// Node-clock milliseconds covered by the observation.
    public var timeStart: UTCMillis
    public var timeEnd: UTCMillis
    /// 0…1, computed from the evidence the sentence cites (`ObservationConfidence`), never the
    /// model's self-report. Nil in observations written before it existed: their payloads (and
    /// hashes) stay as they were, because an absent optional is not encoded.
    public var confidence: Double?

    public init(
        id: String, kind: String, subjects: [String], text: String, evidenceIDs: [String], importance: Double,
        generator: TextGenerator, support: Int = 1, timeStart: UTCMillis, timeEnd: UTCMillis, confidence: Double? = nil
    ) {
        self.id = id
        self.kind = kind
        self.subjects = subjects
        self.text = text
        self.evidenceIDs = evidenceIDs
        self.importance = importance
        self.generator = generator
        self.support = support
        self.timeStart = timeStart
        self.timeEnd = timeEnd
        self.confidence = confidence
    }
}

/// Where a memory came from.
public enum MemorySource: String, Codable, Sendable, Hashable {
    /// Learned from the node's own history by reflection.
    case reflection
    /// Asserted by a person (`smollama remember`, the `remember` tool).
    case user
    /// Written through the hub's mem0-compatible API.
    case api
    /// Extracted by the model from a conversation (`infer: true`).
    case inferred
}

/// Names one version of a memory: the event that carried it.
public struct MemoryVersionRef: Codable, Sendable, Hashable, Comparable {
    public var origin: NodeID
    public var seq: Int64

    public init(origin: NodeID, seq: Int64) {
        self.origin = origin
        self.seq = seq
    }

    public static func < (lhs: MemoryVersionRef, rhs: MemoryVersionRef) -> Bool {
        (lhs.origin.hex, lhs.seq) < (rhs.origin.hex, rhs.seq)
    }
}

/// One version of a memory. The id is stable across versions (an edit is a new version of the
/// same id, naming the version it edited); a changed pattern is a new memory whose `supersedes`
/// names the old one, whose validity is closed. Nothing is ever erased.
public struct MemoryRecord: Codable, Sendable, Hashable {
    public var id: String
    /// e.g. `routine`, `baseline`, `fact`, `preference`.
    public var kind: String
    /// Sensor keys (or other subjects) the memory is about.
    public var subjects: [String]
    public var text: String
    /// 0…1, from the data (sample size, effect size), never the model's self-report.
    public var confidence: Double
    /// 0…1.
    public var importance: Double
    /// How many observations or reflections backed it.
    public var support: Int
    /// World time the memory holds for (node-clock ms); `validTo == nil` means still valid.
    public var validFrom: UTCMillis
    public var validTo: UTCMillis?
    /// Belief time: when it was learned, and when it stopped being believed (deleted/superseded).
    public var createdAt: UTCMillis
    public var expiredAt: UTCMillis?
    /// The memory this one replaced (a changed pattern).
    public var supersedes: String?
    public var source: MemorySource
    /// The version this one edits; nil for a memory's first version. Two versions naming the same
    /// parent are concurrent siblings until a later version resolves them.
    public var parent: MemoryVersionRef?
    /// Free-form key/values kept for mem0 clients (user_id, run_id, …).
    public var metadata: [String: String]

    public init(
        id: String, kind: String, subjects: [String], text: String, confidence: Double, importance: Double,
        support: Int = 1, validFrom: UTCMillis, validTo: UTCMillis? = nil, createdAt: UTCMillis, expiredAt: UTCMillis? = nil,
        supersedes: String? = nil, source: MemorySource, parent: MemoryVersionRef? = nil,
        metadata: [String: String] = [:]
    ) {
        self.id = id
        self.kind = kind
        self.subjects = subjects
        self.text = text
        self.confidence = confidence
        self.importance = importance
        self.support = support
        self.validFrom = validFrom
        self.validTo = validTo
        self.createdAt = createdAt
        self.expiredAt = expiredAt
        self.supersedes = supersedes
        self.source = source
        self.parent = parent
        self.metadata = metadata
    }

    /// Valid now: not expired (belief) and world validity not closed.
    public var isCurrent: Bool { validTo == nil && expiredAt == nil }
}

extension NodeID {
    /// A new id for an observation or memory this node creates: its own id followed by 8 random
    /// bytes, 48 hex digits. Unique without coordination, and it names its creator, so every
    /// store can tell who may write versions of it (`creator(ofRecord:)`).
    public func newRecordID() -> String { hex + Self.randomHex(bytes: 8) }

    /// The node that created a record, when its id names it (ids made by `newRecordID`); nil for
    /// the 32-digit random ids of earlier versions.
    public static func creator(ofRecord id: String) -> NodeID? {
        guard id.utf8.count == 48 else { return nil }
        return NodeID(hex: String(id.prefix(32)))
    }

    /// `bytes` random bytes as lowercase hex (secrets and keys).
    public static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hexString
    }
}
