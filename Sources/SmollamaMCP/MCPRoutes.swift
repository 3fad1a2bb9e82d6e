import Foundation
import Hummingbird
import HTTPTypes
import MCP
public import SmollamaServer

/// The hub's MCP endpoint: streamable HTTP at `/mcp` on the dashboard's server, stateless (every
/// POST carries one JSON-RPC message and gets its JSON reply; no session, no SSE stream, so GET
/// and DELETE answer 405). Guarded by its own token (`mcp.token`), never the dashboard's.
public struct MCPRoutes: Sendable {
    public let house: House
    public let config: MCPConfig
    /// Whether the HTTP server listens on loopback only: without `mcp.token`, `/mcp` answers only
    /// there (and only requests addressed to a loopback name).
    public let loopbackOnly: Bool
    public static let prefix = "/mcp"

    public init(house: House, config: MCPConfig, loopbackOnly: Bool) {
        self.house = house
        self.config = config
        self.loopbackOnly = loopbackOnly
    }

    /// The route at `/mcp`, behind `MCPTokenMiddleware`: none is public.
    public var mount: RouteMount { RouteMount(path: Self.prefix, routes: routes) }

    var routes: RouteCollection<BasicRequestContext> {
        let routes = RouteCollection(context: BasicRequestContext.self)
            .add(middleware: MCPTokenMiddleware(token: config.token, loopbackOnly: loopbackOnly))
        let house = house, limit = config.maxBodyBytes
        routes.post { request, _ in try await Self.answer(request, house: house, limit: limit) }
        for method in [HTTPRequest.Method.get, .delete] {
            routes.on("", method: method) { _, _ in
                Self.refusal(.methodNotAllowed, code: -32600,
                             "this MCP endpoint is stateless: POST one JSON-RPC message and read the JSON reply "
                                 + "(no SSE stream, no session to delete)", headers: [.allow: "POST"])
            }
        }
        return routes
    }

    /// One POST: a fresh server on a fresh stateless transport answers it (the SDK's server
    /// accepts one `initialize` per instance, and every client's session starts with one).
    static func answer(_ request: Request, house: House, limit: Int) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch {
            return refusal(.contentTooLarge, code: -32600,
                           "the request body is larger than \(limit) bytes (mcp.max_body_bytes); nothing was done")
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let transport = StatelessHTTPServerTransport(logger: house.logger)
        let server = await HouseServer.make(house)
        try await server.start(transport: transport)
        let reply = await transport.handleRequest(
            MCP.HTTPRequest(method: "POST", headers: headers, body: Data(body.readableBytesView), path: Self.prefix))
        await server.stop()
        var fields = HTTPFields()
        for (name, value) in reply.headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(status: .init(code: reply.statusCode), headers: fields,
                        body: .init(byteBuffer: ByteBuffer(bytes: reply.bodyData ?? Data())))
    }

    /// A JSON-RPC error reply with no id (the request was not read), with an HTTP status.
    static func refusal(_ status: HTTPResponse.Status, code: Int, _ message: String,
                        headers extra: HTTPFields = [:]) -> Response {
        struct Body: Encodable {
            struct Failure: Encodable {
                var code: Int
                var message: String
            }
            var jsonrpc = "2.0"
            var id: String? = nil
            var error: Failure

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(jsonrpc, forKey: .jsonrpc)
                try container.encodeNil(forKey: .id)
                try container.encode(error, forKey: .error)
            }

            enum CodingKeys: String, CodingKey { case jsonrpc, id, error }
        }
        let data = (try? JSONEncoder().encode(Body(error: .init(code: code, message: message)))) ?? Data()
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// `/mcp`'s check: `Authorization: Bearer TOKEN` with `mcp.token` (compared in constant time).
/// Without a token configured it answers only a server bound to loopback, and only requests
/// addressed to a loopback name (no DNS rebinding from a web page).
struct MCPTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: String
    let loopbackOnly: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if token.isEmpty {
            guard loopbackOnly, isLoopbackAuthority(request.head.authority) else {
                return MCPRoutes.refusal(.forbidden, code: -32001,
                                         "/mcp without mcp.token answers only at 127.0.0.1 or localhost on a server bound "
                                             + "to loopback; set mcp.token (16+ characters, not http.token) to use it from "
                                             + "elsewhere")
            }
            return try await next(request, context)
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              Self.equal(String(header.dropFirst("Bearer ".count)), token)
        else {
            let missing = request.headers[.authorization] == nil
            return MCPRoutes.refusal(
                .unauthorized, code: -32001,
                missing ? "/mcp needs Authorization: Bearer TOKEN with the hub's mcp.token"
                        : "the bearer token does not match mcp.token; nothing was done",
                headers: [.wwwAuthenticate: "Bearer realm=\"smollama-mcp\""])
        }
        return try await next(request, context)
    }

    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<min(a.count, b.count) { difference |= a[index] ^ b[index] }
        return difference == 0 && !rhs.isEmpty
    }
}
