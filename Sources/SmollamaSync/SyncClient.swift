import Foundation
public import Logging
public import SmollamaCore
public import SmollamaStore

/// Moves requests to the hub. HTTP in production; the simulation injects faults here.
public protocol SyncTransport: Sendable {
    func send(_ request: SyncHTTPRequest) async throws -> SyncHTTPResponse
}

/// What a node knows about its hub after enrolling (`data/hub.json`).
public struct HubInfo: Codable, Sendable, Hashable {
    public var url: String
    public var hubNode: NodeID
    public var hubName: String
    /// The hub's Ed25519 public key (hex): hub time is believed only when signed by it.
    public var hubPublicKey: String

    public init(url: String, hubNode: NodeID, hubName: String, hubPublicKey: String) {
        self.url = url
        self.hubNode = hubNode
        self.hubName = hubName
        self.hubPublicKey = hubPublicKey
    }

    public static func load(path: String) throws -> HubInfo? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try JSONDecoder().decode(HubInfo.self, from: data)
    }

    public func save(path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

/// Why a sync round stopped.
public enum SyncClientError: Error, CustomStringConvertible, Hashable {
    case refused(SyncRefusal)
    case badResponse(path: String, detail: String)
    case hubIdentity(expected: NodeID, got: NodeID)
    case badHubSignature
    /// A 200 answer without the hub's reply signature (an older hub, or not the hub at all).
    case unsignedReply(path: String)
    /// A 200 answer whose signature is not the enrolled hub's over this request.
    case badReplySignature(path: String)
    /// A fault injected by a test (crash points).
    case injected(String)

    public var description: String {
        switch self {
        case .refused(let refusal): "the hub refused: \(refusal)"
        case .badResponse(let path, let detail): "the hub's answer to \(path) is unreadable (\(detail)); is the URL a smollama hub?"
        case .hubIdentity(let expected, let got):
            "the hub answered as node \(got), but this node enrolled with \(expected); check sync.hub or enroll again"
        case .badHubSignature: "the hub's time is not signed by the enrolled hub key; check sync.hub or enroll again"
        case .unsignedReply(let path):
            "the answer to \(path) is not signed; the server is an older hub (upgrade it) or not the enrolled hub (check sync.hub); nothing was applied"
        case .badReplySignature(let path):
            "the answer to \(path) is not signed by the enrolled hub's key; check sync.hub (another server may be answering for the hub) or enroll again; nothing was applied"
        case .injected(let point): "injected fault at \(point)"
        }
    }
}

/// Points where tests make the client "crash" (throw), to check that nothing is lost.
public struct SyncFaults: Sendable {
    /// Called with a point name; throwing aborts the round there.
    public var check: @Sendable (_ point: String) throws -> Void
    public init(check: @escaping @Sendable (_ point: String) throws -> Void) { self.check = check }
    public static let none = SyncFaults { _ in }
}

public struct SyncClientConfiguration: Sendable, Hashable {
    public var rawReadings: Bool
    public var maxEventsPerBatch: Int
    public var maxReadingsPerBatch: Int
    public var pullPageSize: Int
    public var pullStreams: [EventStream]

    public init(rawReadings: Bool = true, maxEventsPerBatch: Int = 1000, maxReadingsPerBatch: Int = 20_000,
                pullPageSize: Int = 500, pullStreams: [EventStream] = [.memories]) {
        self.rawReadings = rawReadings
        self.maxEventsPerBatch = maxEventsPerBatch
        self.maxReadingsPerBatch = maxReadingsPerBatch
        self.pullPageSize = pullPageSize
        self.pullStreams = pullStreams
    }
}

/// Progress of a round, for the CLI's progress bar.
public struct SyncProgress: Sendable, Hashable {
    public var stream: SyncStream
    public var sent: Int64
    public var remaining: Int64
    public var bytes: Int64
}

public struct SyncRoundReport: Sendable, Hashable, Codable {
    /// Stream name → items pushed (names as keys: a JSON object).
    public var pushed: [String: Int64] = [:]
    public var pulled = 0
    public var bytesSent: Int64 = 0
    public var requests = 0
    public var hubIncarnation = ""
}

/// The node's side of one sync round: time → handshake → push every stream in priority order
/// from the hub's durable mark → pull shared streams. A round that fails anywhere leaves
/// nothing half-done: the next one asks the hub again where it stands.
public actor SyncClient {
    let database: SmollamaDatabase
    let node: NodeID
    let incarnation: Int
    let key: SyncKey
    let hub: HubInfo
    let clockSource: any ClockSource
    let transport: any SyncTransport
    let configuration: SyncClientConfiguration
    let logger: Logger
    let faults: SyncFaults
    /// (hub time, our monotonic ns) from the last signed time: requests are stamped in hub time.
    private(set) var timeAnchor: (hubTime: UTCMillis, monotonic: UInt64)?
    private var quality: @Sendable () async -> ClockQuality?
    /// Stamps for events the client itself writes (compaction markers): the node's clock.
    private var stampProvider: (@Sendable () async -> ClockStamp)?
    /// Hands the hub's time read at a handshake (and the monotonic time it was read at) to the
    /// node's clock; answers whether the clock now follows it (`SyncClientClock.swift`).
    let adoptHubTime: (@Sendable (UTCMillis, UInt64) async -> Bool)?

    public init(database: SmollamaDatabase, node: NodeID, incarnation: Int, key: SyncKey, hub: HubInfo,
                clockSource: any ClockSource, transport: any SyncTransport,
                configuration: SyncClientConfiguration = .init(), logger: Logger, faults: SyncFaults = .none,
                quality: @escaping @Sendable () async -> ClockQuality? = { nil },
                stamp: (@Sendable () async -> ClockStamp)? = nil,
                adoptHubTime: (@Sendable (UTCMillis, UInt64) async -> Bool)? = nil) {
        self.database = database
        self.node = node
        self.incarnation = incarnation
        self.key = key
        self.hub = hub
        self.clockSource = clockSource
        self.transport = transport
        self.configuration = configuration
        self.logger = logger
        self.faults = faults
        self.quality = quality
        self.stampProvider = stamp
        self.adoptHubTime = adoptHubTime
    }

    /// A stamp from the node's clock when the daemon gave one, else hub time (synced).
    func markerStamp() async -> ClockStamp {
        if let stampProvider { return await stampProvider() }
        return ClockStamp(hlc: HLCTimestamp(milliseconds: max(0, min(hubNow.rawValue, HLCTimestamp.maxMilliseconds)), counter: 0),
                          bootID: clockSource.bootID, monotonicNanoseconds: clockSource.monotonicNanoseconds(),
                          quality: .synced)
    }

    var hubNow: UTCMillis {
        guard let anchor = timeAnchor else { return UTCMillis(rawValue: clockSource.wallMilliseconds()) }
        let elapsed = Duration.milliseconds(Int64((clockSource.monotonicNanoseconds() &- anchor.monotonic) / 1_000_000))
        return anchor.hubTime + elapsed
    }

    /// Local bookkeeping time: the hub's clock as we estimate it (the node's wall clock may be 1970).
    var bookkeepingNow: UTCMillis { hubNow }

    // MARK: requests

    func call<Response: Decodable>(_ path: String, _ body: some Encodable, as type: Response.Type,
                                   report: inout SyncRoundReport) async throws -> Response {
        try await call(path, encoded: try SyncJSON.encode(body), deflated: nil, as: type, report: &report)
    }

    /// A request whose body is encoded already (and deflated, when `deflated` is given).
    func call<Response: Decodable>(_ path: String, encoded plain: [UInt8], deflated: [UInt8]?, as type: Response.Type,
                                   report: inout SyncRoundReport) async throws -> Response {
        var attempt = 0
        while true {
            attempt += 1
            let request = try SyncSigning.request(path: path, body: plain, node: node, key: key, time: hubNow, deflated: deflated)
            report.requests += 1
            report.bytesSent += Int64(request.body.count)
            let response = try await transport.send(request)
            if response.status == 200 {
                try Self.checkReply(response, to: request, hubPublicKey: hub.hubPublicKey)
                do {
                    return try SyncJSON.decode(Response.self, response.body)
                } catch {
                    throw SyncClientError.badResponse(path: path, detail: SyncJSON.describe(error))
                }
            }
            let refusal = Self.refusal(response, path: path)
            if refusal.code == "stale_request" && attempt == 1 {
                try await refreshTime()
                continue
            }
            throw SyncClientError.refused(refusal)
        }
    }

    static func refusal(_ response: SyncHTTPResponse, path: String) -> SyncRefusal {
        if let body = try? SyncJSON.decode(SyncErrorBody.self, response.body) {
            return SyncRefusal(body.error.status, body.error.code, body.error.message)
        }
        return SyncRefusal(response.status, "http_\(response.status)", "HTTP \(response.status) from \(path)")
    }

    func refreshTime() async throws {
        let monotonicBefore = clockSource.monotonicNanoseconds()
        let hubTime = try await Self.signedHubTime(transport: transport, hub: hub)
        // The answer was made somewhere between sending and receiving: take the midpoint.
        let monotonicAfter = clockSource.monotonicNanoseconds()
        timeAnchor = (hubTime, monotonicBefore / 2 + monotonicAfter / 2)
    }

    /// `POST /sync/v1/time`: the hub's time, believed only when the enrolled hub signed it (the
    /// clock anchor of every round, and `smollama doctor`'s hub check).
    public static func signedHubTime(transport: some SyncTransport, hub: HubInfo) async throws -> UTCMillis {
        let response = try await transport.send(SyncHTTPRequest(path: SyncProtocol.Path.time, headers: [:], body: []))
        guard response.status == 200 else { throw SyncClientError.refused(Self.refusal(response, path: SyncProtocol.Path.time)) }
        let time: TimeResponse
        do {
            time = try SyncJSON.decode(TimeResponse.self, response.body)
        } catch {
            throw SyncClientError.badResponse(path: SyncProtocol.Path.time, detail: SyncJSON.describe(error))
        }
        guard time.hubNode == hub.hubNode else { throw SyncClientError.hubIdentity(expected: hub.hubNode, got: time.hubNode) }
        guard (0...HLCTimestamp.maxMilliseconds).contains(time.hubTime.rawValue) else {
            throw SyncClientError.badResponse(path: SyncProtocol.Path.time, detail: "the hub's time \(time.hubTime) is out of range")
        }
        guard let publicKey = [UInt8](hexString: hub.hubPublicKey), let signature = [UInt8](hexString: time.signature),
              SyncSigning.verify(publicKey: publicKey, signature: signature,
                                 message: SyncSigning.timeMessage(hubNode: time.hubNode, hubTime: time.hubTime))
        else { throw SyncClientError.badHubSignature }
        return time.hubTime
    }

    // MARK: the round

    /// One complete round. `progress` is called after every acknowledged batch.
    @discardableResult
    public func syncOnce(progress: (@Sendable (SyncProgress) -> Void)? = nil,
                         shouldStop: @Sendable () -> Bool = { false }) async throws -> SyncRoundReport {
        var report = SyncRoundReport()
        // The stream being pushed; nil during handshake and pull, which hold every stream back.
        var current: SyncStream?
        do {
            if timeAnchor == nil { try await refreshTime() }
            if !configuration.rawReadings { try await publishRollups() }
            var states: [StreamState] = []
            for stream in SyncProtocol.pushOrder {
                states.append(StreamState(stream: stream, localMax: try await database.nodeSync.localMax(origin: node, stream: stream)))
            }
            let monotonic = clockSource.monotonicNanoseconds()
            let handshake = try await call(
                SyncProtocol.Path.handshake,
                HandshakeRequest(version: SyncProtocol.version, node: node, incarnation: incarnation, bootID: clockSource.bootID,
                                 monotonicNanoseconds: monotonic, clockQuality: await quality(), streams: states,
                                 wallMilliseconds: clockSource.wallMilliseconds(),
                                 simulatedSensors: try await database.simulatedSensorKeys()),
                as: HandshakeResponse.self, report: &report)
            guard handshake.hubNode == hub.hubNode else {
                throw SyncClientError.hubIdentity(expected: hub.hubNode, got: handshake.hubNode)
            }
            // Integers from the wire are checked before any arithmetic on them.
            guard (0...HLCTimestamp.maxMilliseconds).contains(handshake.hubTime.rawValue),
                  handshake.marks.allSatisfy({ (0...SyncProtocol.maxSeq).contains($0.mark) })
            else {
                throw SyncClientError.badResponse(path: SyncProtocol.Path.handshake,
                                                  detail: "a mark or the hub time is out of range (marks are 0…\(SyncProtocol.maxSeq))")
            }
            report.hubIncarnation = handshake.hubIncarnation
            try await takeHubTime(handshake.hubTime, sent: monotonic, answered: clockSource.monotonicNanoseconds())
            try await database.nodeSync.recordAnchor(origin: node, bootID: clockSource.bootID, monotonicNanoseconds: monotonic,
                                            hubTime: handshake.hubTime, now: handshake.hubTime)
            var marks: [SyncStream: StreamMark] = [:]
            let held = Dictionary(states.map { ($0.stream, $0.localMax) }, uniquingKeysWith: max)
            for mark in handshake.marks {
                marks[mark.stream] = mark
                // The hub's durable state is the truth, also when it went back (restored hub); it
                // acknowledges no more than this node holds (retention trusts the acknowledgement).
                try await database.nodeSync.setHubAcknowledgement(stream: mark.stream, seq: min(mark.mark, held[mark.stream] ?? 0),
                                                                  now: bookkeepingNow)
                // The hub holds more than this store (a power cut lost acknowledged commits, or an
                // older copy was restored): new items must not reuse the numbers it holds.
                if try await database.nodeSync.moveCounters(pastHubMark: mark.mark, origin: node, stream: mark.stream) {
                    logger.warning("this store holds less than the hub; numbering continues past the hub's mark",
                                   metadata: ["smollama.sync.stream": "\(mark.stream)", "smollama.sync.mark": "\(mark.mark)"])
                }
            }
            // Past every mark now: a restore's "counters not yet past the hub" mark is settled.
            try await database.meta.setRestorePending(nil)
            try faults.check("after-handshake")
            if configuration.rawReadings {
                try await declareLostReadings(mark: marks[.readings])
            }
            for stream in SyncProtocol.pushOrder {
                guard stream != .readings || configuration.rawReadings else { continue }
                current = stream
                let pushed = try await push(stream: stream, from: marks[stream]?.mark ?? 0, report: &report,
                                            progress: progress, shouldStop: shouldStop)
                report.pushed[stream.rawValue] = pushed
                if shouldStop() { return report }
            }
            current = nil
            report.pulled = try await recoverOwn(marks: marks, report: &report, shouldStop: shouldStop)
            report.pulled += try await pull(report: &report, shouldStop: shouldStop)
            return report
        } catch {
            // A failed handshake or pull holds every stream back; a failed push only its own.
            for stream in SyncProtocol.pushOrder where current == nil || stream == current {
                try? await database.nodeSync.recordSyncError(stream: stream, error: "\(error)", now: bookkeepingNow)
            }
            throw error
        }
    }

    /// Pushes one stream from the hub's mark up to the local max. The next batch is read,
    /// encoded and deflated while the current one is on the wire (`prepareBatch`, off the actor).
    func push(stream: SyncStream, from start: Int64, report: inout SyncRoundReport,
              progress: (@Sendable (SyncProgress) -> Void)?, shouldStop: @Sendable () -> Bool) async throws -> Int64 {
        var mark = start
        var sent: Int64 = 0
        let localMax = try await database.nodeSync.localMax(origin: node, stream: stream)
        // The first batch re-sends the item at the hub's mark: the hub compares it, so a store
        // restored from an old backup (same ids, other content) is detected as a collision.
        // (Not when the counters were moved past the mark: the item at it may be missing here.)
        let resendFrom = mark <= (try await database.nodeSync.seqFloor(stream)) ? mark : max(0, mark - 1)
        var next = mark < localMax ? try await prepareBatch(stream: stream, after: resendFrom) : nil
        while let batch = next, !shouldStop() {
            try faults.check("before-send:\(stream)")
            // What the hub acknowledges must survive a power cut here (WAL, synchronous=NORMAL).
            try await database.nodeSync.makeDurable(now: bookkeepingNow)
            // Read the next batch while this one is on the wire (cancelled if the push fails).
            async let following = prepareBatch(stream: stream, after: batch.toSeq)
            let response = try await call(SyncProtocol.Path.push, encoded: batch.body, deflated: batch.deflated,
                                          as: PushResponse.self, report: &report)
            try faults.check("after-ack:\(stream)")
            guard response.mark >= batch.toSeq, response.mark <= SyncProtocol.maxSeq else {
                throw SyncClientError.badResponse(path: SyncProtocol.Path.push,
                                                  detail: "the hub acknowledged \(response.mark), short of \(batch.toSeq)")
            }
            // Acknowledged: no more than this batch reached (the hub may hold more from before).
            try await database.nodeSync.setHubAcknowledgement(stream: stream, seq: min(response.mark, batch.toSeq),
                                                              now: bookkeepingNow)
            sent += Int64(batch.toSeq - max(batch.fromSeq - 1, mark))
            mark = response.mark
            progress?(SyncProgress(stream: stream, sent: sent, remaining: max(0, localMax - mark), bytes: report.bytesSent))
            if response.mark == batch.toSeq {
                next = try await following
            } else {
                next = try await prepareBatch(stream: stream, after: response.mark)
            }
        }
        try await database.nodeSync.recordSyncSuccess(stream: stream, hubMark: mark,
                                             localMax: try await database.nodeSync.localMax(origin: node, stream: stream),
                                             now: bookkeepingNow)
        return sent
    }

    /// Pulls other nodes' shared streams page by page; the version vector is the cursor.
    func pull(report: inout SyncRoundReport, shouldStop: @Sendable () -> Bool) async throws -> Int {
        guard !configuration.pullStreams.isEmpty else { return 0 }
        var pulled = 0
        while !shouldStop() {
            let have = try await database.nodeSync.versionVector(streams: configuration.pullStreams, excluding: node)
                .map { VersionEntry(origin: $0.origin, stream: SyncStream($0.stream), seq: $0.seq) }
            let page = try await call(
                SyncProtocol.Path.pull,
                PullRequest(node: node, streams: configuration.pullStreams.map(SyncStream.init), have: have,
                            limit: configuration.pullPageSize),
                as: PullResponse.self, report: &report)
            try faults.check("after-pull")
            try Self.checkPulled(page.events, node: node, asked: configuration.pullStreams)
            let applied = try await database.nodeSync.applyPulled(page.events)
            pulled += applied.inserted
            if applied.collisions > 0 {
                logger.error("pulled events collide with ones held here",
                             metadata: ["smollama.sync.collisions": "\(applied.collisions)"])
            }
            guard page.more, !page.events.isEmpty else { break }
        }
        return pulled
    }
}
