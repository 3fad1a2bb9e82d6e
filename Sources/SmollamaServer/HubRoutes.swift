import Foundation
public import Hummingbird
import SmollamaCore
import SmollamaStore

/// The hub's pages (home, compare, memory explorer, thoughts, ask) and their JSON under
/// `/api/v1`. Registered in the dashboard's guarded groups, so `http.token` covers them; on a
/// node that is not a hub they show that node alone.
extension DashboardRoutes {
    func registerHubPages(on router: RouterGroup<BasicRequestContext>) {
        router.get("/compare") { request, _ in
            HTMLResponse(html: Pages.compare(node: node, body: try await compare(request), timeZone: environment.timeZone,
                                             signedIn: signedIn(request)))
        }
        router.get("/memories") { request, _ in
            let query = try memoryQuery(request)
            return HTMLResponse(html: Pages.memoryExplorer(
                node: node, query: query, body: try await queries.exploreMemories(query), nodes: try await queries.nodeNames().ordered,
                kinds: try await environment.database.hubPages.kinds().memories, canSearch: environment.mind != nil,
                now: environment.now(), signedIn: signedIn(request)))
        }
        router.get("/thoughts") { request, _ in
            let query = thoughtsQuery(request)
            return HTMLResponse(html: Pages.hubThoughts(
                node: node, query: query, body: try await queries.thoughts(query), nodes: try await queries.nodeNames().ordered,
                kinds: try await environment.database.hubPages.kinds().observations, signedIn: signedIn(request)))
        }
        router.get("/ask") { request, _ in
            HTMLResponse(html: Pages.ask(node: node, question: "", reply: nil, problem: nil, available: environment.mind != nil,
                                         signedIn: signedIn(request)))
        }
        router.post("/ask") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 4 * AskRequest.maxLength + 64)
            let question = (try? URLEncodedFormDecoder().decode(AskRequest.self, from: String(buffer: body)))?.question ?? ""
            do {
                let reply = try await queries.ask(question)
                return HTMLResponse(html: Pages.ask(node: node, question: question, reply: reply, problem: nil,
                                                    available: true, signedIn: signedIn(request)))
            } catch let error as DashboardError {
                return HTMLResponse(html: Pages.ask(node: node, question: question, reply: nil, problem: error.message,
                                                    available: environment.mind != nil, signedIn: signedIn(request)),
                                    status: error.status)
            }
        }
    }

    func registerHubAPI(on api: RouterGroup<BasicRequestContext>) {
        api.get("/home") { _, _ in try await queries.home() }
        api.get("/compare") { request, _ in CompareJSON(body: try await compare(request)) }
        api.get("/memories/explore") { request, _ in try await queries.exploreMemories(try memoryQuery(request)) }
        api.get("/thoughts") { request, _ in try await queries.thoughts(thoughtsQuery(request)) }
        api.get("/live/observations") { request, _ in
            try await LiveEvents.observations(request: request, environment: environment)
        }
        api.post("/ask") { request, context in
            let asked = try await request.decode(as: AskRequest.self, context: context)
            return try await queries.ask(asked.question)
        }
    }

    func compare(_ request: Request) async throws -> CompareBody {
        let quantity = request.uri.queryParameters.get("quantity") ?? "temperature"
        return try await queries.compare(quantity: quantity.isEmpty ? "temperature" : quantity, range: try chartRange(request))
    }

    func memoryQuery(_ request: Request) throws -> MemoryQuery {
        let parameters = request.uri.queryParameters
        var query = MemoryQuery()
        query.text = parameters.get("q") ?? ""
        query.node = parameters.get("node") ?? ""
        query.kind = parameters.get("kind") ?? ""
        query.valid = parameters.get("valid") ?? "any"
        query.id = parameters.get("id") ?? ""
        if let value = parameters.get("superseded"), !value.isEmpty {
            guard let superseded = HubPageStore.MemoryFilter.Superseded(rawValue: value) else {
                throw DashboardError.badRequest("superseded must be include, exclude or only")
            }
            query.superseded = superseded
        }
        return query
    }

    func thoughtsQuery(_ request: Request) -> ThoughtsQuery {
        let parameters = request.uri.queryParameters
        return ThoughtsQuery(node: parameters.get("node") ?? "", kind: parameters.get("kind") ?? "",
                             id: parameters.get("id") ?? "")
    }
}

extension HomeBody: ResponseEncodable {}
extension MemoryExplorerBody: ResponseEncodable {}
extension ThoughtsBody: ResponseEncodable {}
extension AskReply: ResponseEncodable {}
