import Foundation
import Hummingbird
import HTTPTypes
import SmollamaLLM
public import SmollamaServer

/// The mem0-compatible REST API under `/mem0`, with the paths of mem0's self-hosted server
/// (`server/main.py`): a mem0 client's base URL is `http://HUB:PORT/mem0`.
public struct Mem0API: Sendable {
    public let memory: SharedMemory
    public let config: Mem0Config
    /// Where the routes live.
    public static let prefix = "/mem0"

    public init(memory: SharedMemory, config: Mem0Config) {
        self.memory = memory
        self.config = config
    }

    /// The routes at `/mem0`, every one behind the mem0 key (`Mem0KeyMiddleware`): none is public.
    public var mount: RouteMount { RouteMount(path: Self.prefix, routes: routes) }

    var routes: RouteCollection<BasicRequestContext> {
        let api = RouteCollection(context: BasicRequestContext.self)
            .add(middleware: Mem0KeyMiddleware(apiKey: config.apiKey, adminKey: config.adminKey))
        addRoutes(to: api)
        return api
    }

    func addRoutes(to api: RouteCollection<BasicRequestContext>) {
        let memory = memory
        let limit = config.maxBodyBytes
        api.post("/memories") { request, _ in
            Mem0JSON(value: try await memory.add(try await Self.body(request, limit: limit)))
        }
        api.get("/memories") { request, _ in
            let query = request.uri.queryParameters
            var fields: [String: JSONValue] = [:]
            for key in ["user_id", "agent_id", "run_id"] { if let value = query.get(key) { fields[key] = .string(value) } }
            let scope = try SharedMemory.scope(fields)
            var filters = Mem0Filter.matchAll
            if let text = query.get("filters"), !text.isEmpty {
                guard let value = try? JSONValue(parsing: text) else {
                    throw Mem0Error.badRequest("filters must be URL-encoded JSON, e.g. filters=%7B%22kind%22%3A%22fact%22%7D")
                }
                filters = try Mem0Filter.parse(value)
            }
            let topK = try Self.intParameter(query.get("top_k") ?? query.get("limit"), name: "top_k") ?? 100
            let showExpired = query.get("show_expired").map { $0 == "true" || $0 == "1" } ?? false
            return Mem0JSON(value: try await memory.list(scope: scope, filters: filters, limit: topK,
                                                         showExpired: showExpired))
        }
        api.delete("/memories") { request, context in
            try Mem0KeyMiddleware.requireAdmin(context: context, request: request, adminKey: config.adminKey,
                                               call: "DELETE /memories")
            let query = request.uri.queryParameters
            var fields: [String: JSONValue] = [:]
            for key in ["user_id", "agent_id", "run_id"] { if let value = query.get(key) { fields[key] = .string(value) } }
            return Mem0JSON(value: try await memory.deleteAll(scope: try SharedMemory.scope(fields)))
        }
        api.get("/memories/:id") { _, context in
            Mem0JSON(value: try await memory.get(id: try Self.id(context)))
        }
        api.put("/memories/:id") { request, context in
            Mem0JSON(value: try await memory.update(id: try Self.id(context), body: try await Self.body(request, limit: limit)))
        }
        api.delete("/memories/:id") { _, context in
            Mem0JSON(value: try await memory.delete(id: try Self.id(context)))
        }
        api.get("/memories/:id/history") { _, context in
            Mem0JSON(value: try await memory.history(id: try Self.id(context)))
        }
        api.post("/search") { request, _ in
            Mem0JSON(value: try await memory.search(try await Self.body(request, limit: limit)))
        }
        registerClientPaths(on: api, limit: limit)
        api.post("/reset") { request, context in
            try Mem0KeyMiddleware.requireAdmin(context: context, request: request, adminKey: config.adminKey,
                                               call: "POST /reset")
            return Mem0JSON(value: try await memory.reset())
        }
    }

    /// The paths mem0's Python `MemoryClient` uses (`MemoryClient(api_key=KEY, host="http://hub:8080/mem0")`),
    /// answered by the same handlers: `/v1/ping/`, `/v3/memories/add/`, `/v3/memories/` (list by
    /// `filters`), `/v3/memories/search/`, `/v1/memories/{id}/` (GET, PUT, DELETE) and its history.
    func registerClientPaths(on api: RouteCollection<BasicRequestContext>, limit: Int) {
        let memory = memory
        api.get("/v1/ping") { _, _ in
            // The client insists on an organisation and a project; the hub is one of each.
            Mem0JSON(value: ["status": "ok", "org_id": "smollama", "project_id": "hub", "user_email": .null])
        }
        api.post("/v3/memories/add") { request, _ in
            Mem0JSON(value: try await memory.add(try await Self.body(request, limit: limit)))
        }
        api.post("/v3/memories") { request, _ in
            let body = try await Self.body(request, limit: limit)
            guard let object = body.objectValue else { throw Mem0Error.badRequest("the body must be a JSON object") }
            try SharedMemory.rejectUnknown(object, allowed: ["filters", "top_k", "page", "page_size", "show_expired",
                                                             "fields", "version"])
            let filterValue = object["filters"] ?? .object([:])
            guard let filters = filterValue.objectValue else { throw Mem0Error.badRequest("filters must be an object") }
            let scope = try SharedMemory.scope(filters)
            let rest = filters.filter { !["user_id", "agent_id", "run_id"].contains($0.key) }
            let limit = try SharedMemory.int(object["top_k"] ?? object["page_size"], name: "top_k", range: 1...10_000) ?? 100
            return Mem0JSON(value: try await memory.list(
                scope: scope, filters: rest.isEmpty ? .matchAll : try Mem0Filter.parse(.object(rest)), limit: limit,
                showExpired: try SharedMemory.bool(object["show_expired"], name: "show_expired") ?? false))
        }
        api.post("/v3/memories/search") { request, _ in
            Mem0JSON(value: try await memory.search(try await Self.body(request, limit: limit)))
        }
        api.get("/v1/memories/:id") { _, context in
            Mem0JSON(value: try await memory.get(id: try Self.id(context)))
        }
        api.put("/v1/memories/:id") { request, context in
            Mem0JSON(value: try await memory.update(id: try Self.id(context), body: try await Self.body(request, limit: limit)))
        }
        api.delete("/v1/memories/:id") { _, context in
            Mem0JSON(value: try await memory.delete(id: try Self.id(context)))
        }
        api.get("/v1/memories/:id/history") { _, context in
            Mem0JSON(value: try await memory.history(id: try Self.id(context)))
        }
    }

    static func id(_ context: BasicRequestContext) throws -> String {
        guard let id = context.parameters.get("id"), !id.isEmpty, id.count <= 100 else {
            throw Mem0Error.badRequest("the memory id in the path is missing or too long")
        }
        return id
    }

    static func intParameter(_ text: String?, name: String) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), (1...10_000).contains(value) else {
            throw Mem0Error.badRequest("\(name) must be a whole number from 1 to 10000")
        }
        return value
    }

    /// The request's JSON body; a clear 4xx for a missing, oversized or malformed one.
    static func body(_ request: Request, limit: Int) async throws -> JSONValue {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            // The only way collecting fails short of a dropped connection: more than `limit` bytes.
            throw Mem0Error(.contentTooLarge, "the body is larger than \(limit) bytes (mem0.max_body_bytes)")
        }
        guard buffer.readableBytes > 0 else { throw Mem0Error.badRequest("a JSON body is required") }
        let text = String(buffer: buffer)
        do {
            return try JSONValue(parsing: text)
        } catch {
            throw Mem0Error.badRequest("the body is not valid JSON (UTF-8)")
        }
    }
}

/// Checks the mem0 API key: `X-API-Key: KEY`, `Authorization: Token KEY` or `Bearer KEY`. The
/// admin key passes too. Every route under `/mem0` answers 401 without one.
struct Mem0KeyMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let apiKey: String
    let adminKey: String

    static func presentedKey(_ request: Request) -> String? {
        if let key = request.headers[HTTPField.Name("X-API-Key")!], !key.isEmpty { return key }
        guard let header = request.headers[.authorization] else { return nil }
        for scheme in ["Token ", "Bearer "] where header.hasPrefix(scheme) {
            return String(header.dropFirst(scheme.count)).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    static func equal(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8), b = Array(rhs.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<min(a.count, b.count) { difference |= a[index] ^ b[index] }
        return difference == 0 && !rhs.isEmpty
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let key = Self.presentedKey(request), Self.equal(key, apiKey) || Self.equal(key, adminKey) else {
            throw Mem0Error.unauthorized
        }
        return try await next(request, context)
    }

    static func requireAdmin(context: Context, request: Request, adminKey: String, call: String) throws {
        guard !adminKey.isEmpty else {
            throw Mem0Error(.forbidden, "\(call) is turned off on this hub: set mem0.admin_key to allow it")
        }
        guard let key = presentedKey(request), equal(key, adminKey) else {
            throw Mem0Error(.forbidden, "\(call) erases memories from view and needs the admin key (mem0.admin_key)")
        }
    }
}
