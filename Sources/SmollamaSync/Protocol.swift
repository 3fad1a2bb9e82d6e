import Foundation
public import SmollamaCore
public import SmollamaStore

/// The sync wire protocol, shared by the node client and the hub. JSON bodies, deflated when
/// large, every request except `time` and `enroll` signed by the node's Ed25519 key.
public enum SyncProtocol {
    /// Bumped on any incompatible change; a hub refuses other versions (HTTP 426) and the node
    /// keeps its data queued until both sides speak the same one.
    public static let version = 1
    /// Largest request body accepted on the wire (after compression).
    public static let maxBodyBytes = 8 << 20
    /// Largest body after inflating.
    public static let maxInflatedBytes = 64 << 20
    /// Largest body of the unauthenticated routes, `time` and `enroll`.
    public static let maxPublicBodyBytes = 4 << 10
    /// Sync requests the hub serves at once (`SyncRequestLimit`); more get 503 with Retry-After.
    /// Each may hold a body of `maxBodyBytes` and its inflated `maxInflatedBytes`.
    public static let maxConcurrentRequests = 4
    /// How long a request's body may take to arrive once it holds a slot: 10 s plus 1 s per
    /// 128 KiB declared (a 1 Mbit/s floor; 8 MB: 74 s). A slower sender is answered 408 and its
    /// slot freed, so senders that trickle cannot hold every slot for long (the load bench).
    public static func bodyDeadline(bytes: Int) -> Duration { .seconds(10 + max(0, bytes) / (128 << 10)) }
    /// Seconds a refused request is told to wait (`Retry-After`).
    public static let retryAfterSeconds = 2
    /// A signed request's timestamp must be this close to the hub's clock.
    public static let timestampWindow: Duration = .seconds(5 * 60)
    /// Seqs and reading ids on the wire are 1…2^53 (0 for "nothing yet"): a node writing a
    /// million items a second needs 285 years to get there, and sums of them cannot overflow.
    public static let maxSeq: Int64 = 1 << 53
    /// Streams a node may pull from the hub (other nodes' events).
    public static let pullableStreams: [EventStream] = [.memories, .observations]

    public enum Path {
        public static let time = "/sync/v1/time"
        public static let enroll = "/sync/v1/enroll"
        public static let handshake = "/sync/v1/handshake"
        public static let push = "/sync/v1/push"
        public static let pull = "/sync/v1/pull"
        public static let all = [time, enroll, handshake, push, pull]
    }

    public enum Header {
        public static let node = "x-smollama-node"
        public static let time = "x-smollama-time"
        public static let nonce = "x-smollama-nonce"
        public static let signature = "x-smollama-signature"
        public static let version = "x-smollama-version"
        public static let encoding = "x-smollama-encoding"
        public static let rawLength = "x-smollama-raw-length"
    }

    /// Every stream in the order a node sends them: most precious first, raw readings last.
    public static let pushOrder: [SyncStream] = SyncStream.allCases
}

/// The hub's clock, signed by the hub's key, so nodes can stamp requests and repair times.
public struct TimeResponse: Codable, Sendable, Hashable {
    public var version: Int
    public var hubNode: NodeID
    public var hubTime: UTCMillis
    /// Ed25519 signature (hex) over `SyncSigning.timeMessage`.
    public var signature: String
}

public struct EnrollRequest: Codable, Sendable, Hashable {
    public var token: String
    public var node: NodeID
    public var name: String
    /// Ed25519 public key, hex.
    public var publicKey: String
    public var incarnation: Int
    /// Ed25519 signature (hex) by the node's key over `SyncSigning.enrollMessage`: proves the
    /// request comes from the holder of `publicKey`, so a node may re-enroll its id with the key
    /// the hub already holds. Other re-enrollments need a token minted for the id.
    public var proof: String?
    public init(token: String, node: NodeID, name: String, publicKey: String, incarnation: Int, proof: String? = nil) {
        self.token = token
        self.node = node
        self.name = name
        self.publicKey = publicKey
        self.incarnation = incarnation
        self.proof = proof
    }

    /// The request signed by `key` (whose public half is `publicKey`).
    public static func signed(token: String, node: NodeID, name: String, key: SyncKey, incarnation: Int) throws -> EnrollRequest {
        let proof = try key.sign(SyncSigning.enrollMessage(token: token, node: node, publicKey: key.publicKeyHex))
        return EnrollRequest(token: token, node: node, name: name, publicKey: key.publicKeyHex, incarnation: incarnation,
                             proof: proof.hexString)
    }
}

public struct EnrollResponse: Codable, Sendable, Hashable {
    public var hubNode: NodeID
    public var hubName: String
    public var hubPublicKey: String
}

public struct StreamState: Codable, Sendable, Hashable {
    public var stream: SyncStream
    /// The node's largest seq (reading id) in this stream.
    public var localMax: Int64
    public init(stream: SyncStream, localMax: Int64) {
        self.stream = stream
        self.localMax = localMax
    }
}

public struct HandshakeRequest: Codable, Sendable, Hashable {
    public var version: Int
    public var node: NodeID
    public var incarnation: Int
    public var bootID: String
    public var monotonicNanoseconds: UInt64
    public var clockQuality: ClockQuality?
    public var streams: [StreamState]
    /// The node's wall clock when it sent the handshake (issue 16): the hub keeps the offset to
    /// its own clock for its node list. Absent from older nodes.
    public var wallMilliseconds: Int64? = nil
    /// The keys of the node's simulated sensors (issue 17): the hub marks nodes that send
    /// made-up data. Absent from older nodes; empty when none is simulated.
    public var simulatedSensors: [String]? = nil
}

public struct SeqRange: Codable, Sendable, Hashable {
    public var from: Int64
    public var to: Int64
    public init(from: Int64, to: Int64) {
        self.from = from
        self.to = to
    }
}

public struct StreamMark: Codable, Sendable, Hashable {
    public var stream: SyncStream
    /// Everything of this (node, stream) up to here is durable on the hub.
    public var mark: Int64
    /// Ranges the node declared compacted (deliberate gaps).
    public var gaps: [SeqRange]
}

public struct HandshakeResponse: Codable, Sendable, Hashable {
    public var version: Int
    public var hubNode: NodeID
    /// Changes when the hub's store is re-created; nodes then trust only the marks returned.
    public var hubIncarnation: String
    public var hubTime: UTCMillis
    public var marks: [StreamMark]
}

/// One sensor-time epoch of the node (boot id + clock quality), as readings refer to it.
public typealias WireEpoch = ReadingBatch.Epoch

/// Raw readings in columns: ids and times as deltas, sensors and epochs as indexes. Deflated
/// on the wire, runs of equal deltas cost almost nothing.
public struct ReadingColumns: Codable, Sendable, Hashable {
    public var sensors: [String]
    public var epochs: [WireEpoch]
    /// Delta to the previous id (the first is relative to fromSeq - 1).
    public var id: [Int64]
    public var sensor: [Int]
    /// Delta to the previous time (the first is absolute).
    public var time: [Int64]
    public var value: [Double]
    public var epoch: [Int]

    public init() {
        sensors = []
        epochs = []
        id = []
        sensor = []
        time = []
        value = []
        epoch = []
    }

    public var count: Int { id.count }

    /// A batch of this node's readings as columns: ids as deltas from `after`, times as deltas.
    init(_ batch: ReadingBatch, after: Int64) {
        self.init()
        sensors = batch.sensors
        epochs = batch.epochs
        id.reserveCapacity(batch.rows.count)
        time.reserveCapacity(batch.rows.count)
        sensor.reserveCapacity(batch.rows.count)
        value.reserveCapacity(batch.rows.count)
        epoch.reserveCapacity(batch.rows.count)
        var previousID = after
        var previousTime: Int64 = 0
        for (index, row) in batch.rows.enumerated() {
            id.append(row.id - previousID)
            time.append(index == 0 ? row.time : row.time - previousTime)
            sensor.append(row.sensor)
            value.append(row.value)
            epoch.append(row.epoch)
            previousID = row.id
            previousTime = row.time
        }
    }
}

/// One contiguous range `fromSeq...toSeq` of one stream: every item of that range the node
/// holds is in it (so the hub can advance its mark to `toSeq`).
public struct PushRequest: Codable, Sendable, Hashable {
    public var node: NodeID
    public var stream: SyncStream
    public var fromSeq: Int64
    public var toSeq: Int64
    public var events: [Event]?
    public var readings: ReadingColumns?
}

public struct PushResponse: Codable, Sendable, Hashable {
    public var stream: SyncStream
    public var mark: Int64
    public var hubIncarnation: String
    public var inserted: Int
    public var duplicates: Int
    public var collisions: Int
}

public struct VersionEntry: Codable, Sendable, Hashable {
    public var origin: NodeID
    public var stream: SyncStream
    public var seq: Int64
    public init(origin: NodeID, stream: SyncStream, seq: Int64) {
        self.origin = origin
        self.stream = stream
        self.seq = seq
    }
}

/// "I hold these origins' streams up to these seqs; send what follows." The vector is the
/// cursor: per-origin seqs are contiguous, so paging by it never skips or repeats.
public struct PullRequest: Codable, Sendable, Hashable {
    public var node: NodeID
    public var streams: [SyncStream]
    public var have: [VersionEntry]
    public var limit: Int
    /// Set by a node recovering its own events (restored from a backup, or after a power cut):
    /// the page then holds only the requester's own events of `streams` after its `have`
    /// entries for itself. Absent (older nodes) means other nodes' events, as always.
    public var own: Bool?

    public init(node: NodeID, streams: [SyncStream], have: [VersionEntry], limit: Int, own: Bool? = nil) {
        self.node = node
        self.streams = streams
        self.have = have
        self.limit = limit
        self.own = own
    }
}

public struct PullResponse: Codable, Sendable, Hashable {
    public var events: [Event]
    public var more: Bool
}

/// A request as both transports see it: path, lower-cased headers, body bytes.
public struct SyncHTTPRequest: Sendable, Hashable {
    public var path: String
    public var headers: [String: String]
    public var body: [UInt8]
    public init(path: String, headers: [String: String], body: [UInt8]) {
        self.path = path
        self.headers = headers
        self.body = body
    }
}

public struct SyncHTTPResponse: Sendable, Hashable {
    public var status: Int
    public var body: [UInt8]
    /// Lower-cased names; the hub's reply signature travels here (`SyncProtocol.Header.replySignature`).
    public var headers: [String: String]
    public init(status: Int, body: [UInt8], headers: [String: String] = [:]) {
        self.status = status
        self.body = body
        self.headers = headers
    }
}

enum SyncJSON {
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return [UInt8](try encoder.encode(value))
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// A decoding failure as a sentence naming the field.
    static func describe(_ error: any Error) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            let text = keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "the body" : "'\(text)'"
        }
        switch error {
        case DecodingError.typeMismatch(let type, let context):
            return "\(path(context.codingPath)) has the wrong type (expected \(type))"
        case DecodingError.valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null (expected \(type))"
        case DecodingError.keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case DecodingError.dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "the body is not valid JSON" : "\(path(context.codingPath)): \(context.debugDescription)"
        default:
            return "the body could not be read"
        }
    }
}
