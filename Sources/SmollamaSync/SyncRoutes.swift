import HTTPTypes
public import Hummingbird
import NIOCore
import Synchronization

/// The hub's sync endpoints, one route per operation, to mount at `/sync/v1`. Nothing is read
/// before the request's headers are checked: a signed route needs the protocol version, an
/// enrolled and unrevoked node and a Content-Length of at most `SyncProtocol.maxBodyBytes`;
/// `time` and `enroll` take at most `SyncProtocol.maxPublicBodyBytes`. Then the request takes one
/// of `SyncRequestLimit`'s slots (or gets 503 + Retry-After) while its body is read (within
/// `SyncProtocol.bodyDeadline`, else 408) and served.
/// Signed routes reach their operation only through `SyncHub.verify`, whose
/// `VerifiedSyncRequest` is what `handshake`, `push` and `pull` take, so a route cannot skip the
/// signature check. `time` is public; `enroll` is authenticated by the one-time token in its body.
public struct SyncRoutes: Sendable {
    public let hub: SyncHub
    public let limit: SyncRequestLimit

    public init(hub: SyncHub, limit: SyncRequestLimit = SyncRequestLimit()) {
        self.hub = hub
        self.limit = limit
    }

    /// Where the routes live: `SyncProtocol.Path.*` are this prefix plus the route's name.
    public static let prefix = "/sync/v1"

    /// Routes answered without credentials: the hub's signed time, and enrollment, which the
    /// one-time token in its body authenticates.
    public static let publicRoutes: Set<String> = ["POST \(prefix)/time", "POST \(prefix)/enroll"]

    /// The routes, relative to `prefix`.
    public var routes: RouteCollection<BasicRequestContext> {
        let hub = hub, limit = limit
        let routes = RouteCollection(context: BasicRequestContext.self)
            .add(middleware: SyncFailureMiddleware(hub: hub))
        routes.post("time") { request, _ in
            try Self.checkLength(request, max: SyncProtocol.maxPublicBodyBytes, required: false)
            return try limit.serving { SyncReply(value: try hub.time()) }
        }
        routes.post("enroll") { request, _ in
            try Self.checkLength(request, max: SyncProtocol.maxPublicBodyBytes, required: false)
            return try await limit.serving {
                SyncReply(value: try await hub.enroll(body: try await Self.read(request, upTo: SyncProtocol.maxPublicBodyBytes).body))
            }
        }
        // Answers to signed requests are signed by the hub's key over the request's nonce.
        routes.post("handshake") { request, _ in
            try await Self.signed(request, hub: hub, limit: limit) { try hub.signedReply(try await hub.handshake($0), to: $0) }
        }
        routes.post("push") { request, _ in
            try await Self.signed(request, hub: hub, limit: limit) { try hub.signedReply(try await hub.push($0), to: $0) }
        }
        routes.post("pull") { request, _ in
            try await Self.signed(request, hub: hub, limit: limit) { try hub.signedReply(try await hub.pull($0), to: $0) }
        }
        return routes
    }

    /// Mounts the routes on a router (tests and the benchmark serve sync alone).
    public func register(on router: Router<BasicRequestContext>) {
        router.addRoutes(routes, atPath: RouterPath(Self.prefix))
    }

    /// A signed route: headers checked, then a slot, then the body read and verified.
    static func signed(_ request: Request, hub: SyncHub, limit: SyncRequestLimit,
                       _ operation: (VerifiedSyncRequest) async throws -> SyncHTTPResponse) async throws -> SyncHTTPResponse
    {
        _ = try await hub.checkSender(headers: headers(request))
        try checkLength(request, max: SyncProtocol.maxBodyBytes, required: true)
        return try await limit.serving {
            try await operation(try await hub.verify(try await read(request, upTo: SyncProtocol.maxBodyBytes)))
        }
    }

    /// Refuses from its Content-Length a body over `max` (413), or a signed request without one (411).
    static func checkLength(_ request: Request, max: Int, required: Bool) throws {
        guard let text = request.headers[.contentLength] else {
            guard !required else {
                throw SyncRefusal(411, "length_required", "a sync request states its body's size in Content-Length")
            }
            return
        }
        guard let length = Int(text), length >= 0 else { throw SyncRefusal.bad("Content-Length '\(text)' is not a byte count") }
        guard length <= max else {
            throw max == SyncProtocol.maxBodyBytes ? SyncRefusal.tooLarge : SyncRefusal.publicTooLarge
        }
    }

    static func headers(_ request: Request) -> [String: String] {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        return headers
    }

    /// The request as the hub checks it: path, lower-cased headers and at most `limit` bytes of
    /// body, which must arrive within `SyncProtocol.bodyDeadline` of its declared length (a slow
    /// sender holds a slot only that long: 408, and the slot is free again).
    static func read(_ request: Request, upTo limit: Int) async throws -> SyncHTTPRequest {
        let declared = request.headers[.contentLength].flatMap { Int($0) } ?? limit
        let deadline = SyncProtocol.bodyDeadline(bytes: min(declared, limit))
        let buffer: ByteBuffer = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                var request = request
                do {
                    return try await request.collectBody(upTo: limit)
                } catch {
                    // The only way collecting fails short of a dropped connection: more than the limit.
                    throw limit == SyncProtocol.maxBodyBytes ? SyncRefusal.tooLarge : SyncRefusal.publicTooLarge
                }
            }
            group.addTask {
                try await Task.sleep(for: deadline)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else {
                throw SyncRefusal(408, "body_timeout",
                                  "the body did not arrive within \(deadline) of its \(declared)-byte Content-Length; send it at once (or smaller batches on a slow link)")
            }
            return first
        }
        return SyncHTTPRequest(path: request.uri.path, headers: headers(request), body: Array(buffer: buffer))
    }
}

/// How many sync requests the hub serves at once (`SyncProtocol.maxConcurrentRequests`): a
/// request holds a slot from before its body is read until its answer is made, so at most that
/// many bodies (8 MB each, 64 MB inflated) are in memory; the others are refused at once with
/// 503 and Retry-After; a node retries with its back-off (1 s doubling).
public final class SyncRequestLimit: Sendable {
    public let maxConcurrent: Int
    private let inFlight = Mutex(0)

    public init(maxConcurrent: Int = SyncProtocol.maxConcurrentRequests) {
        self.maxConcurrent = maxConcurrent
    }

    /// Requests being served now.
    public var current: Int { inFlight.withLock { $0 } }

    /// Runs `body` in a slot, or throws `SyncRefusal.busy` when none is free.
    func serving<T>(_ body: () async throws -> T) async throws -> T {
        try enter()
        defer { inFlight.withLock { $0 -= 1 } }
        return try await body()
    }

    func serving<T>(_ body: () throws -> T) throws -> T {
        try enter()
        defer { inFlight.withLock { $0 -= 1 } }
        return try body()
    }

    private func enter() throws {
        let admitted = inFlight.withLock { count in
            guard count < maxConcurrent else { return false }
            count += 1
            return true
        }
        guard admitted else { throw SyncRefusal.busy }
    }
}

/// A sync reply: the value as the protocol's JSON.
struct SyncReply<Value: Encodable>: ResponseGenerator {
    var value: Value

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: try SyncJSON.encode(value))))
    }
}

/// A signed answer (`SyncHub.signedReply`) as HTTP: its status, body and signature header.
extension SyncHTTPResponse: ResponseGenerator {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Every failure under `/sync/v1` as a `SyncRefusal` (logged as `SyncHub.refusal(for:path:)` says):
/// nothing but the sync envelope leaves these routes.
struct SyncFailureMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let hub: SyncHub

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            throw hub.refusal(for: error, path: request.uri.path)
        }
    }
}
