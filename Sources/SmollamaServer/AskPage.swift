import Foundation
import Hummingbird
import SmollamaCore
import SmollamaStore

/// `POST /api/v1/ask` (`{"question": "…"}`) and the ask page's answer: the answer, and each
/// cited id with what it is and where to look at it.
public struct AskReply: Codable, Sendable, Hashable {
    public struct Citation: Codable, Sendable, Hashable {
        public var id: String
        /// `memory`, `observation`, or `unknown` for an id the store does not hold.
        public var kind: String
        /// The page that shows it; nil for an unknown id.
        public var href: String?
    }

    public var question: String
    public var answer: String
    public var citations: [Citation]
    public var mode: String
    public var model: String
}

/// The ask form's and the API's body.
struct AskRequest: Decodable, Sendable {
    var question: String

    static let maxLength = 2_000
}

extension DashboardQueries {
    func ask(_ question: String) async throws -> AskReply {
        let trimmed = question.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= AskRequest.maxLength else {
            throw DashboardError.badRequest("give a question of 1 to \(AskRequest.maxLength) characters")
        }
        guard let mind = environment.mind else {
            throw DashboardError(status: .serviceUnavailable,
                                 message: "ask is not available on this node: it runs on the hub (`--role llama`)")
        }
        let answer = try await mind.ask(trimmed)
        var citations: [AskReply.Citation] = []
        let knowledge = environment.database.knowledge
        for id in answer.citations {
            if try await knowledge.memory(id: id) != nil {
                citations.append(.init(id: id, kind: "memory", href: "/memories?id=\(Self.queryValue(id))"))
            } else if try await knowledge.observation(id: id) != nil {
                citations.append(.init(id: id, kind: "observation", href: "/thoughts?id=\(Self.queryValue(id))"))
            } else {
                citations.append(.init(id: id, kind: "unknown", href: nil))
            }
        }
        return AskReply(question: answer.question, answer: answer.answer, citations: citations, mode: answer.mode,
                        model: answer.model)
    }

    /// `text` as a query value: RFC 3986's unreserved characters kept, everything else encoded.
    static func queryValue(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "-._~").union(.alphanumerics)) ?? ""
    }
}

extension Pages {
    static func ask(node: NodeInfo, question: String, reply: AskReply?, problem: String?, available: Bool, signedIn: Bool) -> HTML {
        var answer = HTML.empty
        if let reply {
            var cited = HTML.empty
            for citation in reply.citations {
                let label = "\(citation.kind) \(String(citation.id.prefix(12)))"
                cited += citation.href.map { "<li><a href=\"\($0)\">\(label)</a></li>" as HTML } ?? "<li>\(label)</li>"
            }
            let sources: HTML = reply.citations.isEmpty ? "<p class=\"muted\">No sources cited.</p>" : "<h2>Sources</h2><ul class=\"citations\">\(cited)</ul>"
            answer = """
                <section class="panel answer" data-answer><p class="text">\(reply.answer)</p>
                <p class="muted">answered by \(reply.mode) · \(reply.model)</p>\(sources)</section>
                """
        }
        let problemText: HTML = problem.map { "<p class=\"bad\">\($0)</p>" } ?? .empty
        let unavailable: HTML = available ? .empty : "<p class=\"muted\">Ask runs on the hub; this node has no mind wired to its dashboard.</p>"
        let body: HTML = """
            <h1>Ask</h1>\(unavailable)
            <form class="filters ask" method="post" action="/ask">
            <label>Question<input type="text" name="question" value="\(question)" maxlength="\(AskRequest.maxLength)" size="60" placeholder="When is the living room usually warmest?" required></label>
            <button type="submit">Ask</button></form>\(problemText)\(answer)
            """
        return Layout.page(title: "Ask", node: node, tab: .ask, body: body, signedIn: signedIn)
    }
}
