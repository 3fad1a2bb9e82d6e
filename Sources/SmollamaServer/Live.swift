public import Foundation
public import Logging
public import ServiceLifecycle
public import SmollamaCore
public import SmollamaStore
import AsyncAlgorithms
import Hummingbird
import HTTPTypes

/// Fans live messages out to every open page (hummingbird-examples' server-sent-events
/// Publisher): each subscriber gets its own `AsyncStream`; slow ones drop their oldest messages
/// rather than hold up the others.
public actor LivePublisher {
    public enum Message: Sendable, Hashable {
        case log(LogEntry)
        /// A token of the observation the LLM is writing (the Mind module publishes these).
        case thought(String)
        /// A new observation starts: clear the thought stream.
        case thoughtReset
        /// An observation arrived in the store (written here or synced), at this arrival position.
        case observation(arrival: Int64, ObservationItem)
        /// Sent every few seconds so dead connections are noticed and closed.
        case heartbeat
    }

    private var subscribers: [UUID: AsyncStream<Message>.Continuation] = [:]
    /// Open live pages at most; one more is refused (503) rather than let a client that opens
    /// connections in a loop hold memory and a buffer each.
    public let limit: Int

    public init(limit: Int = 32) { self.limit = limit }

    /// A new subscriber's stream, or nil when `limit` are open.
    public func subscribe() -> (id: UUID, stream: AsyncStream<Message>)? {
        guard subscribers.count < limit else { return nil }
        let id = UUID()
        let (stream, continuation) = AsyncStream<Message>.makeStream(bufferingPolicy: .bufferingNewest(500))
        subscribers[id] = continuation
        return (id, stream)
    }

    public func unsubscribe(_ id: UUID) {
        subscribers.removeValue(forKey: id)?.finish()
    }

    public func publish(_ message: Message) {
        for continuation in subscribers.values { continuation.yield(message) }
    }

    /// Ends every stream, so open pages' responses finish (shutdown).
    public func finishAll() {
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
    }

    public var subscriberCount: Int { subscribers.count }
}

/// Follows the event log by HLC and publishes each new entry: pages never poll the store, and
/// nothing here touches hardware. One query per `interval`, whatever the number of open pages.
public struct LogTailService: Service {
    let database: SmollamaDatabase
    let publisher: LivePublisher
    let interval: Duration
    let heartbeatEvery: Int
    let logger: Logger

    public init(database: SmollamaDatabase, publisher: LivePublisher, interval: Duration = .seconds(1),
                heartbeatEvery: Int = 15, logger: Logger) {
        self.database = database
        self.publisher = publisher
        self.interval = interval
        self.heartbeatEvery = max(1, heartbeatEvery)
        self.logger = logger
    }

    public func run() async throws {
        var cursor = try await startCursor()
        var ticks = 0
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            cursor = await tick(after: cursor)
            ticks += 1
            if ticks % heartbeatEvery == 0 { await publisher.publish(.heartbeat) }
        }
        await publisher.finishAll()
    }

    /// The newest entry already in the log: only what comes after it is news.
    public func startCursor() async throws -> HLCTimestamp {
        try await database.events.recentEvents(streams: LogEntry.streams, limit: 1).first?.stamp.hlc ?? HLCTimestamp(rawValue: 0)
    }

    /// Publishes entries after `cursor`; returns the new cursor. Exposed for tests.
    public func tick(after cursor: HLCTimestamp) async -> HLCTimestamp {
        do {
            let entries = try await LogEntry.after(cursor, in: database, limit: 500)
            for entry in entries { await publisher.publish(.log(entry)) }
            return entries.last?.hlc ?? cursor
        } catch {
            logger.warning("log tail failed; will retry", metadata: ["smollama.error": "\(error)"])
            return cursor
        }
    }
}

/// Server-Sent Events responses for the live log and the thought stream.
enum LiveEvents {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static var headers: HTTPFields {
        [.contentType: "text/event-stream", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no"]
    }

    /// `event: log` messages. A reconnecting EventSource sends `Last-Event-ID` (an HLC): the
    /// entries it missed are replayed from the store first.
    static func log(request: Request, environment: DashboardEnvironment) async throws -> Response {
        try await replayingStream(
            request: request, environment: environment,
            replay: { after in
                try await LogEntry.after(HLCTimestamp(rawValue: after), in: environment.database, limit: 500)
                    .map { ($0.hlc.rawValue, $0) }
            },
            live: { message in
                guard case .log(let entry) = message else { return nil }
                return (entry.hlc.rawValue, entry)
            },
            frame: { entry, _ in try frame(entry) })
    }

    /// A stream of one kind of message, each with an increasing position (`id:`). On first
    /// connect the page passes `after` (the newest item it rendered), a reconnecting
    /// EventSource `Last-Event-ID`: what the store holds after it is replayed first. It
    /// subscribes before the replay query, so nothing written in between is lost (a failed query
    /// gives the subscription back), and sends a live item only when it is newer than the last
    /// one sent.
    static func replayingStream<Item: Sendable>(
        request: Request, environment: DashboardEnvironment,
        replay: (_ after: Int64) async throws -> [(position: Int64, item: Item)],
        live: @escaping @Sendable (LivePublisher.Message) -> (position: Int64, item: Item)?,
        frame: @escaping @Sendable (Item, Int64) throws -> String
    ) async throws -> Response {
        let publisher = environment.publisher
        let lastID = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { Int64($0) }
            ?? request.uri.queryParameters.get("after").flatMap { Int64($0) }
        guard let (id, stream) = await publisher.subscribe() else { throw busy }
        var missed: [(position: Int64, item: Item)] = []
        if let lastID {
            do {
                missed = try await replay(lastID)
            } catch {
                await publisher.unsubscribe(id)
                throw error
            }
        }
        let backlog = missed
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            do {
                try await writer.write(ByteBuffer(string: "retry: 2000\n: connected\n\n"))
                var sent = lastID ?? 0
                for (position, item) in backlog {
                    try await writer.write(ByteBuffer(string: try frame(item, position)))
                    sent = position
                }
                for await message in stream.cancelOnGracefulShutdown() {
                    if case .heartbeat = message {
                        try await writer.write(ByteBuffer(string: ": keepalive\n\n"))
                    } else if let (position, item) = live(message), position > sent {
                        try await writer.write(ByteBuffer(string: try frame(item, position)))
                        sent = position
                    }
                }
            } catch {
                await publisher.unsubscribe(id)
                throw error
            }
            await publisher.unsubscribe(id)
            try await writer.finish(nil)
        })
    }

    /// `event: token` and `event: reset` messages for the thought stream.
    static func thoughts(environment: DashboardEnvironment) async throws -> Response {
        let publisher = environment.publisher
        guard let (id, stream) = await publisher.subscribe() else { throw busy }
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            do {
                try await writer.write(ByteBuffer(string: "retry: 2000\n: connected\n\n"))
                for await message in stream.cancelOnGracefulShutdown() {
                    switch message {
                    case .thought(let token):
                        try await writer.write(ByteBuffer(string: "event: token\n" + data(token) + "\n"))
                    case .thoughtReset:
                        try await writer.write(ByteBuffer(string: "event: reset\ndata: \n\n"))
                    case .heartbeat:
                        try await writer.write(ByteBuffer(string: ": keepalive\n\n"))
                    case .log, .observation:
                        continue
                    }
                }
            } catch {
                await publisher.unsubscribe(id)
                throw error
            }
            await publisher.unsubscribe(id)
            try await writer.finish(nil)
        })
    }

    static func frame(_ entry: LogEntry) throws -> String {
        let json = String(decoding: try encoder.encode(entry), as: UTF8.self)
        return "id: \(entry.hlc.rawValue)\nevent: log\n" + data(json) + "\n"
    }

    /// Every line of `text` as a `data:` line (SSE joins them with newlines again). SSE ends a
    /// line at CR, LF or CRLF alike, so all three split here: a model's or node's text cannot
    /// start a field of its own (`event:`, `id:`).
    static func data(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false).map { "data: \($0)\n" }.joined()
    }

    static var busy: DashboardError {
        DashboardError(status: .serviceUnavailable,
                       message: "too many live pages are open on this node; close some and reload")
    }
}
