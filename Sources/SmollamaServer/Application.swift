public import Hummingbird
public import Logging
import Foundation
import SmollamaCore
import SmollamaStore

/// Builds the dashboard and API. The daemon runs the result in its `ServiceGroup` (an
/// `Application` is a `Service`); tests drive the same value with `app.test(.router)`.
///
/// Throws `HTTPConfigError` when bound beyond loopback without a token.
public func buildApplication(
    environment: DashboardEnvironment, logger: Logger, tailInterval: Duration = .seconds(1),
    mounts: [RouteMount] = [],
    onServerRunning: @escaping @Sendable (_ url: String) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    try environment.http.validate()
    var app = Application(
        router: buildRouter(environment: environment, mounts: mounts),
        configuration: .init(address: .hostname(environment.http.host, port: environment.http.port),
                             serverName: "smollama"),
        onServerRunning: { channel in
            await onServerRunning(environment.http.url(port: channel.localAddress?.port))
        },
        logger: logger)
    app.addServices(LogTailService(database: environment.database, publisher: environment.publisher,
                                   interval: tailInterval, logger: logger))
    app.addServices(ObservationTailService(environment: environment, interval: tailInterval, logger: logger))
    return app
}

/// Every route the server answers: the dashboard's groups (public login and assets, pages, the
/// API and `/metrics`, each group with its own check) and the mounted surfaces, which bring
/// their own checks. Its `routes` list is what the route-walk test proves guarded.
public func buildRouter(environment: DashboardEnvironment, mounts: [RouteMount] = []) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    DashboardRoutes(environment: environment).register(on: router)
    for mount in mounts { router.addRoutes(mount.routes, atPath: RouterPath(mount.path)) }
    return router
}

/// The dashboard's routes answered without the token: the login form and the static assets.
public let dashboardPublicRoutes: Set<String> = ["GET /login", "POST /login", "GET /assets/app.css",
                                                 "GET /assets/app.js"]

/// Another module's routes below a path prefix (the hub's mem0 API at `/mem0`, sync at
/// `/sync/v1`), guarded by their own credentials: the collection carries its own middleware.
public struct RouteMount {
    public var path: String
    public var routes: RouteCollection<BasicRequestContext>
    /// Routes (`"POST /sync/v1/time"`) answered without credentials on purpose.
    public var publicRoutes: Set<String>

    public init(path: String, routes: RouteCollection<BasicRequestContext>, publicRoutes: Set<String> = []) {
        self.path = path
        self.routes = routes
        self.publicRoutes = publicRoutes
    }
}

/// JSON bodies of the API. Each is a named struct, so shapes are stable and documented.
struct NodesBody: ResponseEncodable { var nodes: [NodeSummary] }
struct SensorsBody: ResponseEncodable { var sensors: [SensorSummary] }
// LogBody, ObservationsBody, MemoriesBody and SeriesBody are written by `JSONWriter` (JSONBodies.swift).
/// `/api/v1/nodes/ID/sync`: what the hub knows of a synced node's sync (marks per stream, backlog,
/// collisions, last seen).
struct NodeSyncBody: ResponseEncodable { var sync: HubNodeSummary }
extension NodeDetail: ResponseEncodable {}

/// Markup with its content type.
struct HTMLResponse: ResponseGenerator {
    var html: HTML
    var status: HTTPResponse.Status = .ok

    func response(from request: Request, context: some RequestContext) throws -> Response { response }

    var response: Response {
        Response(status: status,
                 headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                           .contentSecurityPolicy: DashboardRoutes.contentSecurityPolicy],
                 body: .init(byteBuffer: ByteBuffer(string: html.raw)))
    }
}

struct DashboardRoutes: Sendable {
    let environment: DashboardEnvironment
    var queries: DashboardQueries { DashboardQueries(environment: environment) }
    var node: NodeInfo { environment.node }

    /// Only this origin: no inline script, no outside fetches even if markup got in.
    static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        + "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

    func signedIn(_ request: Request) -> Bool {
        !environment.http.token.isEmpty && request.cookies[TokenMiddleware<BasicRequestContext>.cookieName] != nil
    }

    func guarded(_ refusal: TokenMiddleware<BasicRequestContext>.Refusal) -> TokenMiddleware<BasicRequestContext> {
        TokenMiddleware(token: environment.http.token, sessions: environment.sessions, now: environment.now,
                        refusal: refusal)
    }

    func register(on router: Router<BasicRequestContext>) {
        let failures = DashboardError.failures
        registerPublic(on: router.group().add(middleware: failures))
        // Pages (and `/healthz`, `/logout`): a GET without the token goes to the login form.
        registerPages(on: router.group().add(middleware: failures)
            .add(middleware: guarded(.loginPage)))
        // The JSON API and `/metrics`: a 401 without the token.
        let machines = router.group().add(middleware: failures)
            .add(middleware: guarded(.unauthorized))
        let metrics = ServerMetrics(environment: environment)
        machines.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: try await metrics.render())))
        }
        registerAPI(on: machines.group("/api/v1"))
    }

    func registerPublic(on router: RouterGroup<BasicRequestContext>) {
        router.get("/assets/app.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: Assets.css)))
        }
        router.get("/assets/app.js") { _, _ in
            Response(status: .ok,
                     headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: Assets.javascript)))
        }
        registerLogin(on: router)
    }

    func registerPages(on router: RouterGroup<BasicRequestContext>) {
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/") { request, _ in
            if node.isHub {
                return HTMLResponse(html: Pages.home(node: node, home: try await queries.home(), now: environment.now(),
                                                     signedIn: signedIn(request)))
            }
            // Independent reads at once, each a hop to a pooled reader (as the hub's home page).
            async let sensorsRead = queries.sensors()
            async let partsRead = queries.thisNodeParts()
            async let syncedRead = queries.syncedNodes()
            async let logRead = queries.log(filter: LogFilter(limit: 12))
            let sensors = try await sensorsRead
            let this = queries.thisNode(try await partsRead, sensors: sensors)
            return HTMLResponse(html: Pages.overview(
                node: node, nodes: [this] + (try await syncedRead), sensors: sensors, log: try await logRead,
                now: environment.now(), signedIn: signedIn(request)))
        }
        router.get("/sensors") { request, _ in
            let range = try chartRange(request)
            let sensors = try await queries.sensors()
            let series = try await queries.series(of: sensors.map { (nil, $0.sensor) }, range: range)
            let charts = Array(zip(sensors, series))
            return HTMLResponse(html: Pages.sensors(node: node, charts: charts, range: range, now: environment.now(),
                                                    signedIn: signedIn(request)))
        }
        router.get("/log") { request, _ in
            try await logPage(request, filter: try logFilter(request))
        }
        router.get("/observations") { request, _ in
            var filter = try logFilter(request)
            filter.stream = .observations
            return try await logPage(request, filter: filter)
        }
        router.post("/logout") { request, _ in
            if let session = request.cookies[TokenMiddleware<BasicRequestContext>.cookieName]?.value {
                await environment.sessions.revoke(session)
            }
            var response = Response(status: .seeOther, headers: [.location: "/login"])
            response.setCookie(Cookie(name: TokenMiddleware<BasicRequestContext>.cookieName, value: "", maxAge: 0,
                                      path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        registerHubPages(on: router)
        router.get("/nodes/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            guard let summary = try await queries.node(id: id) else {
                return HTMLResponse(html: Pages.notFound(node: node, what: "No node with id \(id) is known here."),
                                    status: .notFound)
            }
            return HTMLResponse(html: Pages.nodeDetail(
                node: node, view: try await queries.nodeView(summary, range: try chartRange(request)), now: environment.now(),
                signedIn: signedIn(request)))
        }
    }

    func logPage(_ request: Request, filter: LogFilter) async throws -> HTMLResponse {
        let entries = try await queries.log(filter: filter)
        let subjects = Set(try await queries.sensors().map(\.sensor.id.rawValue) + ["clock"]).sorted()
        return HTMLResponse(html: Pages.log(node: node, entries: entries, filter: filter, subjects: subjects,
                                            writer: await environment.writer(), signedIn: signedIn(request)))
    }

    func registerAPI(on api: RouterGroup<BasicRequestContext>) {
        api.get("/status") { _, _ in
            async let sensorsRead = queries.sensors()
            async let partsRead = queries.thisNodeParts()
            let sensors = try await sensorsRead
            return NodeDetail(node: queries.thisNode(try await partsRead, sensors: sensors), sensors: sensors)
        }
        api.get("/nodes") { _, _ in NodesBody(nodes: try await queries.nodes()) }
        api.get("/nodes/:id") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let summary = try await queries.node(id: id) else {
                throw DashboardError.notFound("no node with id '\(id)' is known here")
            }
            return NodeDetail(node: summary, sensors: try await queries.sensors(of: summary))
        }
        registerNodeAPI(on: api)
        api.get("/sensors") { _, _ in SensorsBody(sensors: try await queries.sensors()) }
        api.get("/series") { request, _ in
            guard let key = request.uri.queryParameters.get("sensor"), !key.isEmpty else {
                throw DashboardError.badRequest("give the sensor: /api/v1/series?sensor=ID&range=24h|7d|30d")
            }
            guard let sensor = try await queries.sensors().first(where: { $0.sensor.id.rawValue == key }) else {
                throw DashboardError.notFound("no sensor '\(key)' on this node")
            }
            return SeriesBody(series: try await queries.series(sensor: sensor, range: try chartRange(request)))
        }
        api.get("/log") { request, _ in LogBody(entries: try await queries.log(filter: try logFilter(request))) }
        api.get("/observations") { request, _ in
            var filter = try logFilter(request)
            filter.stream = .observations
            return ObservationsBody(observations: try await queries.log(filter: filter))
        }
        api.get("/memories") { request, _ in
            var filter = try logFilter(request)
            filter.stream = .memories
            return MemoriesBody(memories: try await queries.log(filter: filter))
        }
        api.get("/live/log") { request, _ in try await LiveEvents.log(request: request, environment: environment) }
        api.get("/live/thoughts") { _, _ in try await LiveEvents.thoughts(environment: environment) }
        registerHubAPI(on: api)
    }

    /// One node's data (this node's or, on a hub, a synced node's): `/api/v1/nodes/ID/…`.
    func registerNodeAPI(on api: RouterGroup<BasicRequestContext>) {
        @Sendable func known(_ context: BasicRequestContext) async throws -> NodeTarget {
            let id = context.parameters.get("id") ?? ""
            guard let target = try await queries.target(id: id) else {
                throw DashboardError.notFound("no node with id '\(id)' is known here")
            }
            return target
        }
        api.get("/nodes/:id/series") { request, context in
            let target = try await known(context)
            guard let key = request.uri.queryParameters.get("sensor"), !key.isEmpty else {
                throw DashboardError.badRequest("give the sensor: /api/v1/nodes/ID/series?sensor=ID&range=24h|7d|30d")
            }
            let sensors = if let node = target.synced { try await queries.sensors(of: node) } else { try await queries.sensors() }
            guard let sensor = sensors.first(where: { $0.sensor.id.rawValue == key }) else {
                throw DashboardError.notFound("no sensor '\(key)' on node \(target.id.hex)")
            }
            return SeriesBody(series: try await queries.series(
                sensor: sensor, range: try chartRange(request), node: target.synced))
        }
        api.get("/nodes/:id/observations") { request, context in
            ObservationsBody(observations: try await queries.entries(
                origin: try await known(context).id, stream: .observations, limit: try logFilter(request).limit))
        }
        api.get("/nodes/:id/memories") { request, context in
            MemoriesBody(memories: try await queries.entries(
                origin: try await known(context).id, stream: .memories, limit: try logFilter(request).limit))
        }
        api.get("/nodes/:id/sync") { _, context in
            let target = try await known(context)
            guard let node = target.synced, let sync = try await queries.syncState(of: node) else {
                throw DashboardError.notFound("node \(target.id.hex) is this hub itself; it does not sync to itself")
            }
            return NodeSyncBody(sync: sync)
        }
    }

    func registerLogin(on router: RouterGroup<BasicRequestContext>) {
        router.get("/login") { _, _ in HTMLResponse(html: Pages.login(node: node, failed: false)) }
        router.post("/login") { request, _ in
            var request = request
            let sessions = environment.sessions
            if let wait = await sessions.wait(now: environment.now()) {
                let seconds = max(1, wait.components.seconds + (wait.components.attoseconds > 0 ? 1 : 0))
                var response = HTMLResponse(html: Pages.login(node: node, failed: true), status: .tooManyRequests).response
                response.headers[.retryAfter] = "\(seconds)"
                return response
            }
            let body = try await request.collectBody(upTo: 4096)
            struct Form: Decodable { var token: String }
            let form = try? URLEncodedFormDecoder().decode(Form.self, from: String(buffer: body))
            guard let form, !environment.http.token.isEmpty,
                  constantTimeEqual(form.token, environment.http.token)
            else {
                await sessions.failed(now: environment.now())
                return HTMLResponse(html: Pages.login(node: node, failed: true), status: .unauthorized).response
            }
            var response = Response(status: .seeOther, headers: [.location: "/"])
            response.setCookie(Cookie(
                name: TokenMiddleware<BasicRequestContext>.cookieName,
                value: await sessions.create(now: environment.now()),
                maxAge: Int(DashboardSessions.lifetime.components.seconds), path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
    }

    func chartRange(_ request: Request) throws -> ChartRange {
        guard let text = request.uri.queryParameters.get("range"), !text.isEmpty else { return .day }
        guard let range = ChartRange(rawValue: text) else {
            throw DashboardError.badRequest("range must be one of 24h, 7d, 30d")
        }
        return range
    }

    func logFilter(_ request: Request) throws -> LogFilter {
        let query = request.uri.queryParameters
        var filter = LogFilter()
        if let stream = query.get("stream"), !stream.isEmpty {
            guard let value = EventStream(rawValue: stream), LogEntry.streams.contains(value) else {
                throw DashboardError.badRequest(
                    "stream must be one of \(LogEntry.streams.map(\.rawValue).joined(separator: ", "))")
            }
            filter.stream = value
        }
        filter.subject = query.get("subject").flatMap { $0.isEmpty ? nil : $0 }
        filter.query = query.get("q").flatMap { $0.isEmpty ? nil : $0 }
        if let limit = query.get("limit") {
            guard let value = Int(limit), (1...1000).contains(value) else {
                throw DashboardError.badRequest("limit must be a whole number from 1 to 1000")
            }
            filter.limit = value
        }
        return filter
    }
}
