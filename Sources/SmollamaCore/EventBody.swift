public import Foundation

/// What an event says, one case per event type this build knows. An event stores (and hashes,
/// syncs and persists) its type name and payload bytes as written; the body is read from them
/// (`Event.body`) and an event is made from a body (`Event(origin:seq:stamp:body:)`), so a
/// consumer switches over the cases and the compiler finds every consumer of a new one.
///
/// A body implies its stream: a fault can only go to `notices`, a compaction marker to `control`.
/// Not `Codable` on purpose: its serialized form is the event's (type, payload); a second one
/// would be a second truth to keep byte-identical.
public enum EventBody: Hashable, Sendable {
    /// A sensor's driver failed `fault_threshold` reads in a row (notices).
    case sensorFault(Notice.SensorFault)
    /// A faulty sensor read well again (notices; `reason` is "recovered").
    case sensorRecovered(Notice.SensorFault)
    /// A binary sensor changed (notices).
    case binaryChanged(Notice.BinaryChanged)
    /// The node's wall clock became trusted or untrusted (control).
    case clockQuality(Notice.ClockQualityChanged)
    /// An observation (observations). Knowledge events carry the full current state of one
    /// observation or memory version, so any node rebuilds its tables from the log alone; an
    /// observation is re-sent with the same id when a repeat raises its support or widens its span.
    case observation(ObservationRecord)
    /// One version of one memory (memories).
    case memoryVersion(MemoryRecord)
    /// The node deleted a range of a stream before the hub had it (control).
    case compacted(CompactedMarker)
    /// The current state of rollup buckets that changed (rollups): what a node with
    /// `sync.raw_readings: false` sends instead of its raw readings.
    case rollups(RollupSnapshot)
    /// A type this build does not know (written by a newer node), kept exactly as received so a
    /// hub still stores and forwards it. Never made for a known type.
    case unknown(stream: EventStream, type: String, payload: Data)

    /// The known event types: their names in the log and the stream each is written to.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case sensorFault = "sensor.fault"
        case sensorRecovered = "sensor.recovered"
        case binaryChanged = "sensor.changed"
        case clockQuality = "clock.quality"
        case observation = "observation.recorded"
        case memoryVersion = "memory.version"
        case compacted = "store.compacted"
        case rollups = "rollup.snapshot"

        public var stream: EventStream {
            switch self {
            case .sensorFault, .sensorRecovered, .binaryChanged: .notices
            case .clockQuality, .compacted: .control
            case .observation: .observations
            case .memoryVersion: .memories
            case .rollups: .rollups
            }
        }
    }

    /// The known kind, or nil for `.unknown`.
    public var kind: Kind? {
        switch self {
        case .sensorFault: .sensorFault
        case .sensorRecovered: .sensorRecovered
        case .binaryChanged: .binaryChanged
        case .clockQuality: .clockQuality
        case .observation: .observation
        case .memoryVersion: .memoryVersion
        case .compacted: .compacted
        case .rollups: .rollups
        case .unknown: nil
        }
    }

    /// The stream the body belongs to.
    public var stream: EventStream {
        if case .unknown(let stream, _, _) = self { return stream }
        return kind!.stream
    }

    /// The type name stored with the event.
    public var type: String {
        if case .unknown(_, let type, _) = self { return type }
        return kind!.rawValue
    }

    /// The payload bytes: canonical JSON (sorted keys) of the record, or an unknown body's bytes
    /// as received. Throws for a value JSON cannot hold (a non-finite number) and for `.unknown`
    /// with a known type name.
    public func payload() throws(EventBodyError) -> Data {
        if case .unknown(_, let type, _) = self, Kind(rawValue: type) != nil { throw .knownTypeAsUnknown(type) }
        do {
            return switch self {
            case .sensorFault(let fault), .sensorRecovered(let fault): try EventPayload.encode(fault)
            case .binaryChanged(let change): try EventPayload.encode(change)
            case .clockQuality(let change): try EventPayload.encode(change)
            case .observation(let record): try EventPayload.encode(record)
            case .memoryVersion(let record): try EventPayload.encode(record)
            case .compacted(let marker): try EventPayload.encode(marker)
            case .rollups(let snapshot): try EventPayload.encode(snapshot)
            case .unknown(_, _, let payload): payload
            }
        } catch {
            throw .unencodable(type: type, reason: "\(error)")
        }
    }

    /// Reads a stored event's body. A type this build does not know, or a known type on another
    /// stream than its own, is `.unknown`; a known type whose payload does not decode throws.
    public init(stream: EventStream, type: String, payload: Data) throws(EventBodyError) {
        guard let kind = Kind(rawValue: type), kind.stream == stream else {
            self = .unknown(stream: stream, type: type, payload: payload)
            return
        }
        do {
            switch kind {
            case .sensorFault: self = .sensorFault(try EventPayload.decode(Notice.SensorFault.self, from: payload))
            case .sensorRecovered: self = .sensorRecovered(try EventPayload.decode(Notice.SensorFault.self, from: payload))
            case .binaryChanged: self = .binaryChanged(try EventPayload.decode(Notice.BinaryChanged.self, from: payload))
            case .clockQuality:
                self = .clockQuality(try EventPayload.decode(Notice.ClockQualityChanged.self, from: payload))
            case .observation: self = .observation(try EventPayload.decode(ObservationRecord.self, from: payload))
            case .memoryVersion: self = .memoryVersion(try EventPayload.decode(MemoryRecord.self, from: payload))
            case .compacted: self = .compacted(try EventPayload.decode(CompactedMarker.self, from: payload))
            case .rollups: self = .rollups(try EventPayload.decode(RollupSnapshot.self, from: payload))
            }
        } catch {
            throw .malformed(type: type, reason: "\(error)")
        }
    }
}

public enum EventBodyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A known type whose payload is not that type's record.
    case malformed(type: String, reason: String)
    /// `.unknown` was given a type this build knows: make the event from its typed case.
    case knownTypeAsUnknown(String)
    /// The body's record cannot be encoded (e.g. a value that is not a finite number).
    case unencodable(type: String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let type, let reason):
            "a '\(type)' event whose payload is not a \(type) record: \(reason)"
        case .knownTypeAsUnknown(let type):
            "'\(type)' is a known event type: make the event from its typed body, not .unknown"
        case .unencodable(let type, let reason):
            "a '\(type)' event could not be encoded: \(reason)"
        }
    }
}

/// `store.compacted`: the node deleted `fromSeq...toSeq` of `stream` before the hub had it.
public struct CompactedMarker: Codable, Sendable, Hashable {
    public var stream: SyncStream
    public var fromSeq: Int64
    public var toSeq: Int64
    public var reason: String
    public init(stream: SyncStream, fromSeq: Int64, toSeq: Int64, reason: String) {
        self.stream = stream
        self.fromSeq = fromSeq
        self.toSeq = toSeq
        self.reason = reason
    }
}
