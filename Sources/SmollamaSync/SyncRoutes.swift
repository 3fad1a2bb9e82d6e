public import Hummingbird
import NIOCore

/// The hub's sync endpoints, one route per operation, to mount at `/sync/v1`. Every route
/// reads at most `SyncProtocol.maxBodyBytes` (a 413 past that, before anything else); signed
/// routes reach their operation only through `SyncHub.verify`, whose `VerifiedSyncRequest` is
/// what `handshake`, `push` and `pull` take, so a route cannot skip the signature check.
/// `time` is public; `enroll` is authenticated by the one-time token in its body.
public struct SyncRoutes: Sendable {
    public let hub: SyncHub

    public init(hub: SyncHub) { self.hub = hub }

    /// Where the routes live: `SyncProtocol.Path.*` are this prefix plus the route's name.
    public static let prefix = "/sync/v1"

    /// Routes answered without credentials: the hub's signed time, and enrollment, which the
    /// one-time token in its body authenticates.
    public static let publicRoutes: Set<String> = ["POST \(prefix)/time", "POST \(prefix)/enroll"]

    /// The routes, relative to `prefix`.
    public var routes: RouteCollection<BasicRequestContext> {
        let hub = hub
        let routes = RouteCollection(context: BasicRequestContext.self)
            .add(middleware: SyncFailureMiddleware(hub: hub))
        routes.post("time") { _, _ in SyncReply(value: try hub.time()) }
        routes.post("enroll") { request, _ in
            SyncReply(value: try await hub.enroll(body: try await Self.read(request).body))
        }
        routes.post("handshake") { request, _ in
            SyncReply(value: try await hub.handshake(try await hub.verify(try await Self.read(request))))
        }
        routes.post("push") { request, _ in
            SyncReply(value: try await hub.push(try await hub.verify(try await Self.read(request))))
        }
        routes.post("pull") { request, _ in
            SyncReply(value: try await hub.pull(try await hub.verify(try await Self.read(request))))
        }
        return routes
    }

    /// Mounts the routes on a router (tests and the benchmark serve sync alone).
    public func register(on router: Router<BasicRequestContext>) {
        router.addRoutes(routes, atPath: RouterPath(Self.prefix))
    }

    /// The request as the hub checks it: path, lower-cased headers and at most
    /// `SyncProtocol.maxBodyBytes` of body.
    static func read(_ request: Request) async throws -> SyncHTTPRequest {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: SyncProtocol.maxBodyBytes)
        } catch {
            // The only way collecting fails short of a dropped connection: more than the limit.
            throw SyncRefusal.tooLarge
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        return SyncHTTPRequest(path: request.uri.path, headers: headers, body: Array(buffer: buffer))
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
