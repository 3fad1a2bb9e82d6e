import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

// A loopback HTTP server for tests of our HTTP clients (the LLM runtimes): canned replies per
// path, and `RecordedOllama` (RecordedOllama.swift), which replays Ollama's recorded shapes.

/// A canned reply: status, content type and body chunks. `closeEarly` drops the connection after
/// the chunks without ending the body (a runtime killed mid-reply).
public struct StubReply: Sendable {
    public var status: Int = 200
    public var contentType = "application/json"
    public var chunks: [String]
    public var closeEarly = false

    public init(status: Int = 200, contentType: String = "application/json", chunks: [String], closeEarly: Bool = false) {
        self.status = status
        self.contentType = contentType
        self.chunks = chunks
        self.closeEarly = closeEarly
    }

    public static func json(_ body: String, status: Int = 200) -> StubReply { StubReply(status: status, chunks: [body]) }
    public static func ndjson(_ lines: [String]) -> StubReply {
        StubReply(contentType: "application/x-ndjson", chunks: lines.map { $0 + "\n" })
    }
    public static func sse(_ events: [String]) -> StubReply {
        StubReply(contentType: "text/event-stream", chunks: events.map { "data: \($0)\n\n" })
    }
}

/// What the stub received.
public struct RecordedRequest: Sendable {
    public var method: String
    public var path: String
    public var body: String
}

/// A real HTTP/1.1 server on 127.0.0.1 (random port) that answers each path from a queue of
/// canned replies (the last one repeats) and records requests.
public final class StubServer: Sendable {
    private let channel: any Channel
    private let state: StubState
    public let url: String

    public init(_ routes: [String: [StubReply]]) async throws {
        let state = StubState(routes: routes)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(StubHandler(state: state))
                }
            }
        channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        url = "http://127.0.0.1:\(channel.localAddress?.port ?? 0)"
        self.state = state
    }

    public var requests: [RecordedRequest] { state.recorded.withLock { $0 } }

    public func close() async {
        try? await channel.close()
    }

    /// Runs `body` with a server and closes it afterwards.
    @discardableResult
    public static func with<T>(_ routes: [String: [StubReply]], _ body: (StubServer) async throws -> T) async throws -> T {
        let server = try await StubServer(routes)
        do {
            let result = try await body(server)
            await server.close()
            return result
        } catch {
            await server.close()
            throw error
        }
    }
}

final class StubState: Sendable {
    let routes: Mutex<[String: [StubReply]]>
    let recorded: Mutex<[RecordedRequest]>
    init(routes: [String: [StubReply]]) {
        self.routes = Mutex(routes)
        self.recorded = Mutex([])
    }

    func reply(for path: String) -> StubReply {
        routes.withLock { routes in
            // Exact path, else a "prefix*" route.
            let key = routes[path] != nil ? path : routes.keys.first { $0.hasSuffix("*") && path.hasPrefix(String($0.dropLast())) }
            guard let key, var queue = routes[key], !queue.isEmpty else {
                return StubReply.json(#"{"error":"no stub for \#(path)"}"#, status: 404)
            }
            let next = queue.count > 1 ? queue.removeFirst() : queue[0]
            routes[key] = queue
            return next
        }
    }
}

final class StubHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let state: StubState
    var head: HTTPRequestHead?
    var body = ByteBuffer()

    init(state: StubState) { self.state = state }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            let path = String(head.uri.split(separator: "?").first ?? "")
            let text = String(buffer: body)
            state.recorded.withLock { $0.append(RecordedRequest(method: "\(head.method)", path: path, body: text)) }
            let reply = state.reply(for: path)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: reply.contentType)
            if reply.closeEarly {
                headers.add(name: "Transfer-Encoding", value: "chunked")
            } else {
                headers.add(name: "Content-Length", value: String(reply.chunks.reduce(0) { $0 + $1.utf8.count }))
            }
            let status = HTTPResponseStatus(statusCode: reply.status)
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            for chunk in reply.chunks {
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: chunk)))), promise: nil)
            }
            if reply.closeEarly {
                context.flush()
                context.close(promise: nil)
            } else {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
            self.head = nil
        }
    }
}
