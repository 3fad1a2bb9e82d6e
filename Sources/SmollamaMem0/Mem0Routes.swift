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
            .add(middleware: Mem0Error.failures)
            .add(middleware: Mem0KeyMiddleware(apiKey: config.apiKey, adminKey: config.adminKey))
        addRoutes(to: api)
        return api
    }

    func addRoutes(to api: RouteCollection<BasicRequestContext>) {
        let memory = memory
        let limit = config.maxBodyBytes
        let adminKey = config.adminKey
        api.post("/memories") { request, _ in
            Mem0Reply(try await memory.add(try await Self.decode(Mem0AddRequest.self, request, limit: limit)))
        }
        api.get("/memories") { request, _ in
            let query = request.uri.queryParameters
            var filters = Mem0Filter.matchAll
            if let text = query.get("filters"), !text.isEmpty {
                guard text.utf8.count <= Mem0Filter.maxQueryBytes else {
                    throw Mem0Error.badRequest("filters is longer than \(Mem0Filter.maxQueryBytes) bytes; send it in the body of POST /v3/memories")
                }
                do {
                    filters = try JSONDecoder().decode(Mem0Filter.self, from: Data(text.utf8))
                } catch let error as Mem0Error {
                    throw error
                } catch {
                    throw Mem0Error.badRequest("filters must be URL-encoded JSON, e.g. filters=%7B%22kind%22%3A%22fact%22%7D")
                }
            }
            let topK = try Self.intParameter(query.get("top_k") ?? query.get("limit") ?? query.get("page_size"), name: "top_k")
                ?? 100
            let page = try Self.page(query.get("page")) ?? 1
            let showExpired = query.get("show_expired").map { $0 == "true" || $0 == "1" } ?? false
            return Mem0Reply(try await memory.list(scope: try Mem0Scope.query { query.get($0) }, filters: filters,
                                                   limit: topK, page: page, showExpired: showExpired))
        }
        api.delete("/memories") { request, _ in
            try Mem0KeyMiddleware.requireAdmin(request: request, adminKey: adminKey, call: "DELETE /memories")
            let query = request.uri.queryParameters
            return Mem0Reply(try await memory.deleteAll(scope: try Mem0Scope.query { query.get($0) }))
        }
        api.post("/search") { request, _ in
            Mem0Reply(try await memory.search(try await Self.decode(Mem0SearchRequest.self, request, limit: limit)))
        }
        api.post("/reset") { request, _ in
            try Mem0KeyMiddleware.requireAdmin(request: request, adminKey: adminKey, call: "POST /reset")
            return Mem0Reply(try await memory.reset())
        }
        // mem0's Python `MemoryClient` (`MemoryClient(api_key=KEY, host="http://hub:8080/mem0")`)
        // uses its own paths for the same operations.
        api.get("/v1/ping") { _, _ in Mem0Reply(Mem0Ping()) }
        api.post("/v3/memories/add") { request, _ in
            Mem0Reply(try await memory.add(try await Self.decode(Mem0AddRequest.self, request, limit: limit)))
        }
        api.post("/v3/memories") { request, _ in
            // mem0's client sends `page` and `page_size` in the query, the rest in the body.
            let query = request.uri.queryParameters
            let list = try await Self.decode(Mem0ListRequest.self, request, limit: limit)
            return Mem0Reply(try await memory.list(
                scope: list.scope, filters: list.filters,
                limit: try Self.intParameter(query.get("page_size"), name: "page_size") ?? list.limit,
                page: try Self.page(query.get("page")) ?? list.page, showExpired: list.showExpired))
        }
        api.post("/v3/memories/search") { request, _ in
            Mem0Reply(try await memory.search(try await Self.decode(Mem0SearchRequest.self, request, limit: limit)))
        }
        // One memory, at mem0's server path and the client's.
        for prefix in ["/memories", "/v1/memories"] {
            api.get("\(prefix)/:id") { _, context in Mem0Reply(try await memory.get(id: try Self.id(context))) }
            api.put("\(prefix)/:id") { request, context in
                let update = try await Self.decode(Mem0UpdateRequest.self, request, limit: limit)
                return Mem0Reply(try await memory.update(id: try Self.id(context), update))
            }
            api.delete("\(prefix)/:id") { _, context in Mem0Reply(try await memory.delete(id: try Self.id(context))) }
            api.get("\(prefix)/:id/history") { _, context in
                Mem0Reply(try await memory.history(id: try Self.id(context)))
            }
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

    static func page(_ text: String?) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), (1...Mem0ListRequest.maxPage).contains(value) else {
            throw Mem0Error.badRequest(Mem0ListRequest.pageRule)
        }
        return value
    }

    /// The request's JSON body as `T`; a clear 4xx for a missing, oversized or malformed one.
    static func decode<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            // The only way collecting fails short of a dropped connection: more than `limit` bytes.
            throw Mem0Error(.contentTooLarge, "the body is larger than \(limit) bytes (mem0.max_body_bytes)")
        }
        return try Mem0Body.decode(type, from: Data(buffer.readableBytesView))
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

    static func requireAdmin(request: Request, adminKey: String, call: String) throws {
        guard !adminKey.isEmpty else {
            throw Mem0Error(.forbidden, "\(call) is turned off on this hub: set mem0.admin_key to allow it")
        }
        guard let key = presentedKey(request), equal(key, adminKey) else {
            throw Mem0Error(.forbidden, "\(call) erases memories from view and needs the admin key (mem0.admin_key)")
        }
    }
}
