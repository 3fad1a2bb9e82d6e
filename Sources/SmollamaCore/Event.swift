public import Foundation
import Crypto

/// The replicated log's streams, in the order sync sends them (most precious first).
public enum EventStream: String, StreamName {
    /// Identity, clock-quality changes, compaction markers: small and essential.
    case control
    /// Sensor faults and recoveries, binary-sensor changes: what `smollama logs` shows.
    case notices
    case memories
    case observations
    case rollups
}

/// When and under which clock an event was stamped; kept so untrusted times can be repaired.
public struct ClockStamp: Hashable, Sendable, Codable {
    public var hlc: HLCTimestamp
    /// `/proc/sys/kernel/random/boot_id`: monotonic times are comparable only within one boot.
    public var bootID: String
    /// CLOCK_BOOTTIME in nanoseconds at the moment of stamping.
    public var monotonicNanoseconds: UInt64
    public var quality: ClockQuality

    public init(hlc: HLCTimestamp, bootID: String, monotonicNanoseconds: UInt64, quality: ClockQuality) {
        self.hlc = hlc
        self.bootID = bootID
        self.monotonicNanoseconds = monotonicNanoseconds
        self.quality = quality
    }
}

/// One entry of the per-origin replicated log. Its id is (origin, stream, seq); seq is
/// contiguous per (origin, stream), so a gap is always visible.
public struct Event: Hashable, Sendable, Codable {
    public var origin: NodeID
    public var stream: EventStream
    public var seq: Int64
    public var stamp: ClockStamp
    /// Dotted type name (`sensor.fault`, `clock.quality`: `EventBody.Kind`), telling readers how
    /// to read `payload`.
    public var type: String
    /// JSON object bytes (canonical for events made here: `EventPayload`, sorted keys).
    public var payload: Data
    /// SHA-256 of the canonical bytes: same id + same hash is a duplicate, same id + another
    /// hash means two stores claim one identity (a restored or cloned card).
    public var hash: Data

    /// An event of this node, made from what it says; the body decides the stream.
    public init(origin: NodeID, seq: Int64, stamp: ClockStamp, body: EventBody) throws(EventBodyError) {
        self.origin = origin
        self.stream = body.stream
        self.seq = seq
        self.stamp = stamp
        self.type = body.type
        self.payload = try body.payload()
        self.hash = Event.hash(
            origin: origin, stream: stream, seq: seq, stamp: stamp, type: type, payload: payload)
    }

    /// An event exactly as stored or received, hash included (the store reading a row; tests
    /// forging one). Everything else makes events from a body.
    package init(
        stored origin: NodeID, stream: EventStream, seq: Int64, stamp: ClockStamp, type: String, payload: Data,
        hash: Data
    ) {
        self.origin = origin
        self.stream = stream
        self.seq = seq
        self.stamp = stamp
        self.type = type
        self.payload = payload
        self.hash = hash
    }

    /// What the event says, read from `type` and `payload` (which stay the stored truth: a
    /// foreign event is kept and forwarded with its bytes, never re-encoded). A type this build
    /// does not know is `.unknown`; a known type with a payload that does not decode throws.
    public var body: EventBody {
        get throws(EventBodyError) { try EventBody(stream: stream, type: type, payload: payload) }
    }

    /// Length-prefixed fields in a fixed order, so no two different events share bytes.
    public static func hash(
        origin: NodeID, stream: EventStream, seq: Int64, stamp: ClockStamp, type: String, payload: Data
    ) -> Data {
        var bytes = [UInt8]()
        func field(_ value: some Collection<UInt8>) {
            withUnsafeBytes(of: UInt32(value.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: value)
        }
        func integer(_ value: Int64) { withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) } }
        field(origin.bytes)
        field(Array(stream.rawValue.utf8))
        integer(seq)
        integer(stamp.hlc.rawValue)
        field(Array(stamp.bootID.utf8))
        integer(Int64(bitPattern: stamp.monotonicNanoseconds))
        field(Array(stamp.quality.rawValue.utf8))
        field(Array(type.utf8))
        field(payload)
        return Data(SHA256.hash(data: bytes))
    }

    public var hashIsValid: Bool {
        hash == Event.hash(origin: origin, stream: stream, seq: seq, stamp: stamp, type: type, payload: payload)
    }
}

/// Encodes payloads the same way everywhere (sorted keys), so equal content hashes equally.
public enum EventPayload {
    public static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }
}

/// Payloads of the notices stream (and of the control stream's clock-quality change); their
/// type names are `EventBody.Kind`'s.
public enum Notice {
    public struct SensorFault: Codable, Sendable, Hashable {
        public var sensor: SensorID
        public var reason: String
        public var consecutiveFailures: Int
        public init(sensor: SensorID, reason: String, consecutiveFailures: Int) {
            self.sensor = sensor
            self.reason = reason
            self.consecutiveFailures = consecutiveFailures
        }
    }

    public struct BinaryChanged: Codable, Sendable, Hashable {
        public var sensor: SensorID
        public var value: Double
        public var time: UTCMillis
        public init(sensor: SensorID, value: Double, time: UTCMillis) {
            self.sensor = sensor
            self.value = value
            self.time = time
        }
    }

    public struct ClockQualityChanged: Codable, Sendable, Hashable {
        public var quality: ClockQuality
        public var wallMilliseconds: Int64
        public var issuedMilliseconds: Int64
        public init(quality: ClockQuality, wallMilliseconds: Int64, issuedMilliseconds: Int64) {
            self.quality = quality
            self.wallMilliseconds = wallMilliseconds
            self.issuedMilliseconds = issuedMilliseconds
        }
    }
}
