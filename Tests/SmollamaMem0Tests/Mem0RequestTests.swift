import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SmollamaLLM
@testable import SmollamaMem0
import Testing

/// The mem0 request bodies decode into typed values; what cannot be decoded is refused with a
/// sentence naming the field and what to send.
@Suite struct Mem0RequestTests {
    func add(_ json: String) throws(Mem0Error) -> Mem0AddRequest {
        try Mem0Body.decode(Mem0AddRequest.self, from: Data(json.utf8))
    }

    func refusal<T: Decodable>(_ type: T.Type, _ json: String) -> String {
        do {
            _ = try Mem0Body.decode(type, from: Data(json.utf8))
            return "decoded"
        } catch {
            #expect(error.status == .badRequest)
            return error.detail
        }
    }

    @Test func messagesMayBeAStringOneMessageOrAList() throws {
        let user = ExtractionMessage(role: "user", content: "Alice likes tea")
        #expect(try add(#"{"messages": " Alice likes tea ", "user_id": "alice"}"#).messages == [user])
        #expect(try add(#"{"messages": {"role": "user", "content": "Alice likes tea"}, "user_id": "alice"}"#)
                .messages == [user])
        let list = try add(#"""
            {"messages": [{"role": "user", "content": "Alice likes tea", "name": "alice"},
                          {"role": "assistant", "content": "Noted"}], "agent_id": "kitchen", "infer": false,
             "metadata": {"kind": "preference", "room": "kitchen"}}
            """#)
        #expect(list.messages == [ExtractionMessage(role: "user", content: "Alice likes tea", name: "alice"),
                                  ExtractionMessage(role: "assistant", content: "Noted")])
        #expect(list.scope == Mem0Scope(agentID: "kitchen"))
        #expect(list.infer == false)
        #expect(list.metadata == ["kind": "preference", "room": "kitchen"])
        #expect(try add(#"{"messages": "x", "user_id": "alice"}"#).infer == true)  // mem0's default
    }

    @Test func badMessagesNameTheMessageAndTheField() {
        #expect(refusal(Mem0AddRequest.self, #"{"messages": 42, "user_id": "a"}"#)
                == "messages must be a string or an array of {role, content} objects")
        #expect(refusal(Mem0AddRequest.self, #"{"messages": null, "user_id": "a"}"#)
                == "messages must be a string or an array of {role, content} objects")
        #expect(refusal(Mem0AddRequest.self, #"{"messages": [{"role": "user", "content": "ok"}, 7], "user_id": "a"}"#)
                == "messages[1].role must be \"user\", \"assistant\" or \"system\"")
        #expect(refusal(Mem0AddRequest.self, #"{"messages": [{"role": "user", "content": ["x"]}], "user_id": "a"}"#)
                == "messages[0].content must be a string")
        let many = Array(repeating: #"{"role": "user", "content": "x"}"#, count: 201).joined(separator: ",")
        #expect(refusal(Mem0AddRequest.self, #"{"messages": [\#(many)], "user_id": "a"}"#)
                == "messages holds more than 200 messages")
    }

    @Test func otherBodiesAreTypedAndRefuseWhatTheyCannotRead() throws {
        let search = try Mem0Body.decode(Mem0SearchRequest.self, from: Data(#"""
            {"query": "tea", "user_id": "alice", "filters": {"kind": {"in": ["fact", "preference"]}}, "limit": 3,
             "threshold": 0.25, "rerank": true}
            """#.utf8))
        #expect(search == Mem0SearchRequest(
            query: "tea", scope: Mem0Scope(userID: "alice"),
            filters: .condition(key: "kind", op: .in, value: ["fact", "preference"]), topK: 3, threshold: 0.25))
        let list = try Mem0Body.decode(Mem0ListRequest.self, from: Data(#"""
            {"filters": {"user_id": "alice", "room": "kitchen"}, "page_size": 7, "show_expired": true}
            """#.utf8))
        #expect(list.scope == Mem0Scope(userID: "alice") && list.limit == 7 && list.showExpired)
        #expect(list.filters == .condition(key: "room", op: .eq, value: "kitchen"))
        #expect(try Mem0Body.decode(Mem0UpdateRequest.self, from: Data(#"{"data": " new text "}"#.utf8))
                == Mem0UpdateRequest(text: "new text"))

        #expect(refusal(Mem0SearchRequest.self, #"{"query": "x", "filters": {"AND": [{"a": {"regex": "x"}}]}}"#)
                .hasPrefix("Unsupported metadata filter operator: regex (in filters.AND[0].a)"))
        #expect(refusal(Mem0SearchRequest.self, #"{"query": "x", "top_k": "five"}"#)
                == "top_k must be a whole number from 1 to 1000")
        #expect(refusal(Mem0ListRequest.self, #"{"filters": ["alice"]}"#) == "filters must be an object")
        #expect(refusal(Mem0ListRequest.self, #"{"filters": {"user_id": 5}}"#)
                == "user_id must be a non-empty string of at most 200 characters")
        #expect(refusal(Mem0UpdateRequest.self, #"{"text": 5}"#) == "text must be a string")
        #expect(refusal(Mem0UpdateRequest.self, #"{"metadata": []}"#) == "metadata must be an object, not an array")
        #expect(refusal(Mem0UpdateRequest.self, #"{"txt": "x"}"#) == "unknown field 'txt'; expected data, memory, metadata, text")
        #expect(refusal(Mem0UpdateRequest.self, "[1]") == "the body must be a JSON object")
        #expect(refusal(Mem0UpdateRequest.self, "{\"text\": ") == "the body is not valid JSON (UTF-8)")
        #expect(refusal(Mem0UpdateRequest.self, "") == "a JSON body is required")
    }

    /// Whatever a handler throws, mem0's routes answer `{"detail": "…"}` without internals.
    @Test func failuresAnswerTheMem0Envelope() async throws {
        struct Internal: Error { var secret = "/var/lib/smollama/db.sqlite is locked" }
        let routes = RouteCollection(context: BasicRequestContext.self).add(middleware: Mem0Error.failures)
        routes.get("/broken") { _, _ -> String in throw Internal() }
        let router = Router(context: BasicRequestContext.self)
        router.addRoutes(routes, atPath: "/mem0")
        try await Application(router: router, logger: Logger(label: "test")).test(.router) { client in
            try await client.execute(uri: "/mem0/broken", method: .get) { response in
                #expect(response.status == .internalServerError)
                let body = try JSONDecoder().decode([String: String].self, from: Data(response.body.readableBytesView))
                #expect(body.keys.sorted() == ["detail"] && body["detail"]?.contains("sqlite") == false)
            }
        }
    }
}
