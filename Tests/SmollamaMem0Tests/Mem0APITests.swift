import Foundation
import Synchronization
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import SmollamaCore
import SmollamaLLM
@testable import SmollamaMem0
import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing

/// The mem0 contract (mem0ai 2.2.1's `Memory` result shapes, the self-hosted server's paths and
/// errors) over the hub's event log.
@Suite struct Mem0APITests {
    static let note: JSONValue = [
        "messages": [["role": "user", "content": "I like the kitchen at 21 degrees"],
                     ["role": "assistant", "content": "Noted: kitchen at 21 degrees"]],
        "user_id": "alice", "infer": false, "metadata": ["category": "comfort", "priority": 3],
    ]

    @Test func everyRouteNeedsTheKeyInAnyOfMem0sHeaders() async throws {
        let fixture = try await Mem0Fixture()
        try await fixture.api().test(.router) { client in
            for (method, path) in [(HTTPRequest.Method.get, "/memories?user_id=a"), (.post, "/memories"),
                                   (.get, "/memories/x"), (.put, "/memories/x"), (.delete, "/memories/x"),
                                   (.get, "/memories/x/history"), (.post, "/search"), (.post, "/reset")] {
                let reply = try await client.mem0(method, path, ["query": "x"], key: nil, status: .unauthorized)
                #expect(reply["detail"]?.stringValue?.contains("mem0.api_key") == true)
                try await client.mem0(method, path, ["query": "x"], key: "wrong-key-wrong-key-wrong", status: .unauthorized)
            }
            try await client.mem0(.get, "/memories?user_id=a", key: Mem0Fixture.apiKey)
            try await client.mem0(.get, "/memories/?user_id=a", key: Mem0Fixture.apiKey)  // clients add a slash
            try await client.mem0(.get, "/memories?user_id=a", key: Mem0Fixture.apiKey, header: .authorization)
            try await client.execute(uri: "/mem0/memories?user_id=a", method: .get,
                                     headers: [.authorization: "Bearer \(Mem0Fixture.apiKey)"]) { response in
                #expect(response.status == .ok)
            }
            // The admin key works everywhere; the API key cannot reset.
            try await client.mem0(.get, "/memories?user_id=a", key: Mem0Fixture.adminKey)
            let refused = try await client.mem0(.post, "/reset", key: Mem0Fixture.apiKey, status: .forbidden)
            #expect(refused["detail"]?.stringValue?.contains("mem0.admin_key") == true)
            try await client.mem0(.delete, "/memories?user_id=a", key: Mem0Fixture.apiKey, status: .forbidden)
        }
        // Without an admin key configured, reset is off for everyone.
        try await fixture.api(adminKey: "").test(.router) { client in
            let off = try await client.mem0(.post, "/reset", key: Mem0Fixture.apiKey, status: .forbidden)
            #expect(off["detail"]?.stringValue?.contains("turned off") == true)
        }
    }

    @Test func theDashboardTokenDoesNotGuardMem0AndMem0KeysDoNotOpenTheDashboard() async throws {
        let fixture = try await Mem0Fixture()
        let http = HTTPConfig(host: "0.0.0.0", port: 0, token: "dashboard-token-0123456789")
        try await fixture.api(http: http).test(.router) { client in
            try await client.mem0(.get, "/memories?user_id=a")
            try await client.mem0(.get, "/memories?user_id=a", key: nil, status: .unauthorized)
            try await client.execute(uri: "/api/v1/status", method: .get,
                                     headers: [.authorization: "Bearer \(Mem0Fixture.apiKey)"]) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func addWithoutInferStoresEachMessageAndGetReturnsMem0sItemShape() async throws {
        let fixture = try await Mem0Fixture()
        try await fixture.api().test(.router) { client in
            let added = try await client.mem0(.post, "/memories", Self.note)
            let results = try #require(added["results"]?.arrayValue)
            #expect(results.count == 2)
            #expect(results.map { $0["event"] } == ["ADD", "ADD"])
            #expect(results.map { $0["role"] } == ["user", "assistant"])
            #expect(results[0]["memory"] == "I like the kitchen at 21 degrees")
            let id = try #require(results[0]["id"]?.stringValue)

            let item = try await client.mem0(.get, "/memories/\(id)")
            #expect(item["id"]?.stringValue == id)
            #expect(item["memory"] == "I like the kitchen at 21 degrees")
            #expect(item["hash"]?.stringValue == SharedMemory.hash("I like the kitchen at 21 degrees"))
            #expect(item["hash"]?.stringValue?.count == 32)
            #expect(item["user_id"] == "alice")
            #expect(item["agent_id"] == "hub")  // agent = the node that wrote it
            #expect(item["run_id"]?.stringValue == String(SharedMemory.iso(Mem0Fixture.start).prefix(10)))  // run = day
            #expect(item["role"] == "user")
            #expect(item["created_at"]?.stringValue?.hasPrefix("2027-01-15T08:00:00") == true)
            #expect(item["updated_at"] != nil)
            let metadata = try #require(item["metadata"]?.objectValue)
            #expect(metadata["category"] == "comfort")
            #expect(metadata["priority"] == 3)  // JSON types survive
            #expect(metadata["source"] == "api")
            #expect(metadata["node"] == "hub")
            #expect(metadata["kind"] == "fact")
            #expect(metadata["user_id"] == nil)  // promoted, as in mem0

            let stored = try #require(try await fixture.database.knowledge.memory(id: id))
            #expect(stored.record.source == .api)
            #expect(stored.version.origin == fixture.hub)
            #expect(stored.record.metadata["user_id"] == "alice")
        }
    }

    @Test func metadataSetsSubjectsValidityAndConfidence() async throws {
        let fixture = try await Mem0Fixture()
        try await fixture.api().test(.router) { client in
            let added = try await client.mem0(.post, "/memories", [
                "messages": "The garage door is usually open 07:00-08:00 on weekdays", "agent_id": "garage",
                "infer": false,
                "metadata": ["kind": "routine", "subjects": ["garage.door"], "confidence": 0.75,
                             "valid_from": "2026-01-01T00:00:00Z", "valid_to": 1_900_000_000_000],
            ])
            let id = try #require(added["results"]?.arrayValue?.first?["id"]?.stringValue)
            let record = try #require(try await fixture.database.knowledge.memory(id: id)).record
            #expect(record.kind == "routine")
            #expect(record.subjects == ["garage.door"])
            #expect(record.confidence == 0.75)
            #expect(record.validFrom == 1_767_225_600_000)
            #expect(record.validTo == 1_900_000_000_000)
            #expect(record.metadata["mem0.confidence_given"] == nil)
            let item = try await client.mem0(.get, "/memories/\(id)")
            #expect(item["agent_id"] == "garage")
            #expect(item["metadata"]?["valid_from"] == "2026-01-01T00:00:00.000Z")
            #expect(item["metadata"]?["confidence"] == 0.75)
        }
    }

    @Test func badInputIsRefusedWithAClearMessageAndChangesNothing() async throws {
        let fixture = try await Mem0Fixture()
        try await fixture.api().test(.router) { client in
            try await client.mem0(.post, "/memories", Self.note)
            let before = try await fixture.versionCount()
            let cases: [(JSONValue, String)] = [
                (["user_id": "a", "infer": false], "messages is required"),
                (["messages": "hi", "infer": false], "At least one identifier"),
                (["messages": [["role": "robot", "content": "x"]], "user_id": "a"], "role"),
                (["messages": [["role": "user", "content": 5]], "user_id": "a"], "content must be a string"),
                (["messages": [["role": "user", "content": "  "]], "user_id": "a", "infer": false], "must not be empty"),
                (["messages": [], "user_id": "a"], "must not be empty"),
                (["messages": "x", "user_id": 7], "user_id must be a non-empty string"),
                (["messages": "x", "user_id": "*", "infer": false], "real ids"),
                (["messages": "x", "user_id": "a", "metadata": "x"], "metadata must be an object"),
                (["messages": "x", "user_id": "a", "metadata": ["confidence": 4], "infer": false], "from 0 to 1"),
                (["messages": "x", "user_id": "a", "metadata": ["node": "fake"], "infer": false], "set by the hub"),
                (["messages": "x", "user_id": "a", "infer": "yes"], "infer must be true or false"),
                (["messages": "x", "user_id": "a", "colour": "red"], "unknown field 'colour'"),
                (["messages": [["role": "system", "content": "rules"]], "user_id": "a", "infer": false], "no user"),
                ("just a string", "JSON object"),
            ]
            for (body, message) in cases {
                let reply = try await client.mem0(.post, "/memories", body, status: .badRequest)
                #expect(reply["detail"]?.stringValue?.contains(message) == true, "\(body): \(reply)")
            }
            for raw in ["{not json", ""] {
                try await client.execute(uri: "/mem0/memories", method: .post,
                                         headers: [HTTPField.Name("X-API-Key")!: Mem0Fixture.apiKey],
                                         body: ByteBuffer(string: raw)) { response in
                    #expect(response.status == .badRequest)
                    #expect(response.json["detail"]?.stringValue?.isEmpty == false)
                }
            }
            let huge: JSONValue = ["messages": .string(String(repeating: "x", count: 1_100_000)), "user_id": "a"]
            try await client.mem0(.post, "/memories", huge, status: .contentTooLarge)
            try await client.mem0(.put, "/memories/nope", ["text": "x"], status: .notFound)
            try await client.mem0(.get, "/memories/nope", status: .notFound)
            try await client.mem0(.delete, "/memories/nope", status: .notFound)
            try await client.mem0(.get, "/memories/nope/history", status: .notFound)
            #expect(try await fixture.versionCount() == before)
        }
    }

    @Test func infersFactsWithProvenanceAndSaysSoWhenNoModelIsThere() async throws {
        let fixture = try await Mem0Fixture(extractor: FixedExtractor(facts: ["Alice likes the kitchen at 21 degrees"]))
        try await fixture.api().test(.router) { client in
            var body = Self.note
            if case .object(var object) = body { object["infer"] = nil; body = .object(object) }  // mem0's default: infer
            let added = try await client.mem0(.post, "/memories", body)
            let results = try #require(added["results"]?.arrayValue)
            #expect(results.count == 1)
            let id = try #require(results.first?["id"]?.stringValue)
            let record = try #require(try await fixture.database.knowledge.memory(id: id)).record
            #expect(record.source == .inferred)
            #expect(record.text == "Alice likes the kitchen at 21 degrees")
            #expect(record.metadata["provenance"]?.contains("2 messages") == true)
            #expect(record.metadata["user_id"] == "alice")
        }
        let bare = try await Mem0Fixture()
        try await bare.api().test(.router) { client in
            let reply = try await client.mem0(.post, "/memories", ["messages": "x", "user_id": "a"],
                                              status: .serviceUnavailable)
            #expect(reply["detail"]?.stringValue?.contains("infer: false") == true)
        }
    }

    @Test func listingIsScopedAndFilteredWithMem0sOperators() async throws {
        let fixture = try await Mem0Fixture()
        try await fixture.garageMemory("Motion in the garage is usual 07:00-09:00", seq: 1)
        try await fixture.garageMemory("The garage freezer hums at night", seq: 2, kind: "fact")
        try await fixture.api().test(.router) { client in
            for (user, category, priority) in [("alice", "comfort", 1), ("alice", "security", 5), ("bob", "comfort", 3)] {
                try await client.mem0(.post, "/memories", [
                    "messages": .string("\(user) \(category) note"), "user_id": .string(user), "infer": false,
                    "metadata": ["category": .string(category), "priority": .number(Double(priority))],
                ])
            }
            func texts(_ query: String) async throws -> [String] {
                let reply = try await client.mem0(.get, "/memories?" + query)
                return (reply["results"]?.arrayValue ?? []).compactMap { $0["memory"]?.stringValue }.sorted()
            }
            func filtered(_ user: String, _ filter: JSONValue) async throws -> [String] {
                let encoded = filter.jsonString.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                return try await texts("user_id=\(user)&filters=\(encoded)")
            }
            #expect(try await texts("user_id=alice") == ["alice comfort note", "alice security note"])
            #expect(try await texts("agent_id=garage").count == 2)
            #expect(try await texts("agent_id=*").count == 5)
            #expect(try await texts("agent_id=garage&top_k=1").count == 1)
            #expect(try await filtered("*", ["category": "comfort"]) == ["alice comfort note", "bob comfort note"])
            #expect(try await filtered("*", ["priority": ["gt": 1]]) == ["alice security note", "bob comfort note"])
            #expect(try await filtered("*", ["priority": ["gte": 3, "lt": 5]]) == ["bob comfort note"])
            #expect(try await filtered("*", ["priority": ["lte": 1]]) == ["alice comfort note"])
            #expect(try await filtered("*", ["category": ["ne": "comfort"]]) == ["alice security note"])
            #expect(try await filtered("*", ["category": ["in": ["security", "x"]]]) == ["alice security note"])
            #expect(try await filtered("*", ["category": ["nin": ["security"]]]) == ["alice comfort note", "bob comfort note"])
            #expect(try await filtered("*", ["memory": ["contains": "security"]]) == ["alice security note"])
            #expect(try await filtered("*", ["memory": ["icontains": "BOB"]]) == ["bob comfort note"])
            #expect(try await filtered("*", ["OR": [["priority": 5], ["priority": 3]]])
                    == ["alice security note", "bob comfort note"])
            #expect(try await filtered("alice", ["AND": [["category": "comfort"], ["priority": ["lt": 2]]]])
                    == ["alice comfort note"])
            #expect(try await filtered("alice", ["NOT": [["category": "comfort"]]]) == ["alice security note"])
            #expect(try await filtered("*", ["category": "*"]).count == 3)
            #expect(try await texts("agent_id=garage&filters=" + (#"{"subjects":{"contains":"garage.motion"}}"#
                .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")).count == 2)

            let missing = try await client.mem0(.get, "/memories", status: .badRequest)
            #expect(missing["detail"]?.stringValue?.contains("At least one identifier") == true)
            let badOp = try await client.mem0(.get, "/memories?user_id=alice&filters=%7B%22a%22%3A%7B%22like%22%3A1%7D%7D",
                                              status: .badRequest)
            #expect(badOp["detail"]?.stringValue?.contains("Unsupported metadata filter operator: like") == true)
            try await client.mem0(.get, "/memories?user_id=alice&filters=nope", status: .badRequest)
            try await client.mem0(.get, "/memories?user_id=alice&top_k=0", status: .badRequest)
        }
    }

    /// Issue 18, finding 3: an edit the store does not take (here: a hub whose store does not
    /// know it is the hub, so its versions of a node's memory do not count) answered "success".
    @Test func anEditThatCannotTakeEffectIsAConflictNotASuccess() async throws {
        let fixture = try await Mem0Fixture()
        let garage = try await fixture.garageMemory("The garage is cold at night", seq: 1)
        try await fixture.database.meta.setHub(nil)
        try await fixture.api().test(.router) { client in
            let put = try await client.mem0(.put, "/memories/\(garage.id)", ["text": "Rewritten"], status: .conflict)
            #expect(put["detail"]?.stringValue?.contains("was not changed") == true, "\(put)")
            try await client.mem0(.delete, "/memories/\(garage.id)", status: .conflict)
            #expect(try await client.mem0(.get, "/memories/\(garage.id)")["memory"] == "The garage is cold at night")
        }
    }

    @Test func updateAndDeleteAreNewVersionsAndHistoryReadsTheChain() async throws {
        let fixture = try await Mem0Fixture()
        let garage = try await fixture.garageMemory("The garage is cold at night", seq: 1)
        try await fixture.api().test(.router) { client in
            fixture.clockSource.advance(milliseconds: 1000)
            let updated = try await client.mem0(.put, "/memories/\(garage.id)",
                                                ["text": "The garage is very cold at night", "metadata": ["checked": true]])
            #expect(updated["message"] == "Memory updated successfully!")
            let item = try await client.mem0(.get, "/memories/\(garage.id)")
            #expect(item["memory"] == "The garage is very cold at night")
            #expect(item["agent_id"] == "garage")  // still the garage's memory, edited on the hub
            #expect(item["metadata"]?["checked"] == true)
            try await client.mem0(.put, "/memories/\(garage.id)", [:], status: .badRequest)
            try await client.mem0(.put, "/memories/\(garage.id)", ["text": 3], status: .badRequest)

            fixture.clockSource.advance(milliseconds: 1000)
            let deleted = try await client.mem0(.delete, "/memories/\(garage.id)")
            #expect(deleted["message"] == "Memory deleted successfully!")
            try await client.mem0(.get, "/memories/\(garage.id)", status: .notFound)
            try await client.mem0(.delete, "/memories/\(garage.id)", status: .notFound)
            try await client.mem0(.put, "/memories/\(garage.id)", ["text": "x"], status: .notFound)
            #expect(try await client.mem0(.get, "/memories?agent_id=garage")["results"]?.arrayValue?.isEmpty == true)
            #expect(try await client.mem0(.get, "/memories?agent_id=garage&show_expired=true")["results"]?
                .arrayValue?.count == 1)

            let history = try #require(try await client.mem0(.get, "/memories/\(garage.id)/history").arrayValue)
            #expect(history.map { $0["event"] } == ["ADD", "UPDATE", "DELETE"])
            #expect(history.map { $0["old_memory"] } == [.null, "The garage is cold at night", "The garage is very cold at night"])
            #expect(history.map { $0["new_memory"] } == ["The garage is cold at night", "The garage is very cold at night", .null])
            #expect(history.map { $0["is_deleted"] } == [false, false, true])
            #expect(history.map { $0["actor_id"] } == ["garage", "hub", "hub"])
            #expect(history.allSatisfy { $0["memory_id"]?.stringValue == garage.id && $0["id"] != nil
                && $0["created_at"] != nil && $0["updated_at"] != nil })
        }
        // Old versions stay readable in the store, each naming its parent.
        let versions = try await fixture.database.knowledge.memoryVersions(id: garage.id)
        #expect(versions.count == 3)
        #expect(versions[0].record.text == "The garage is cold at night")
        #expect(versions[1].record.parent == versions[0].version)
        #expect(versions[2].record.parent == versions[1].version)
        #expect(versions[2].record.validTo != nil && versions[2].record.expiredAt != nil)
    }

    @Test func searchRanksFiltersAndScopesToTheNode() async throws {
        let fixture = try await Mem0Fixture()
        try await fixture.garageMemory("Motion in the garage is usual in the morning", seq: 1)
        try await fixture.api().test(.router) { client in
            try await client.mem0(.post, "/memories", [
                "messages": "The kitchen motion sensor sees the cat at night", "user_id": "alice", "infer": false,
                "metadata": ["category": "pets"],
            ])
            try await client.mem0(.post, "/memories", [
                "messages": "Kitchen lights go on at dusk", "user_id": "alice", "infer": false,
                "metadata": ["category": "lights"],
            ])
            let all = try #require(try await client.mem0(.post, "/search", ["query": "kitchen motion at night",
                                                                          "user_id": "alice"])["results"]?.arrayValue)
            #expect(all.first?["memory"] == "The kitchen motion sensor sees the cat at night")
            #expect(all.count == 2)
            let scores = all.compactMap { $0["score"]?.doubleValue }
            #expect(scores.count == 2 && scores[0] >= scores[1])
            #expect(all.first?["hash"] != nil && all.first?["metadata"]?["category"] == "pets")

            let filtered = try await client.mem0(.post, "/search", [
                "query": "kitchen motion at night", "filters": ["user_id": "alice", "category": ["eq": "lights"]],
            ])
            #expect(filtered["results"]?.arrayValue?.map { $0["memory"] } == ["Kitchen lights go on at dusk"])
            let top1 = try await client.mem0(.post, "/search", ["query": "kitchen", "user_id": "alice", "top_k": 1])
            #expect(top1["results"]?.arrayValue?.count == 1)
            let strict = try await client.mem0(.post, "/search", ["query": "kitchen motion at night today",
                                                                  "user_id": "alice", "threshold": 0.9])
            #expect(strict["results"]?.arrayValue?.isEmpty == true)

            let garage = try await client.mem0(.post, "/search", ["query": "motion morning", "agent_id": "garage"])
            #expect(garage["results"]?.arrayValue?.map { $0["memory"] } == ["Motion in the garage is usual in the morning"])
            #expect(fixture.searcher.asked.withLock { $0.last } == .some([fixture.garage]))

            for (body, message) in [(["user_id": "a"], "query must be"), (["query": ""], "query must be"),
                                    (["query": "x", "top_k": 0], "top_k"), (["query": "x", "threshold": 2], "threshold"),
                                    (["query": "x", "filters": ["a": ["regex": "x"]]], "Unsupported"),
                                    (["query": "x", "filters": ["OR": []]], "non-empty array")] as [(JSONValue, String)] {
                let reply = try await client.mem0(.post, "/search", body, status: .badRequest)
                #expect(reply["detail"]?.stringValue?.contains(message) == true, "\(body): \(reply)")
            }
        }
        let blind = try await Mem0Fixture(withSearch: false)
        try await blind.api().test(.router) { client in
            _ = try await client.mem0(.post, "/search", ["query": "x"], status: .serviceUnavailable)
        }
    }

    @Test func resetAndDeleteAllTombstoneButKeepHistory() async throws {
        let fixture = try await Mem0Fixture()
        let garage = try await fixture.garageMemory("The garage is cold at night", seq: 1)
        try await fixture.api().test(.router) { client in
            try await client.mem0(.post, "/memories", Self.note)
            let bob = try await client.mem0(.post, "/memories", ["messages": "bob note", "user_id": "bob", "infer": false])
            let deleted = try await client.mem0(.delete, "/memories?user_id=alice", key: Mem0Fixture.adminKey)
            #expect(deleted["message"] == "Memories deleted successfully!")
            #expect(try await client.mem0(.get, "/memories?user_id=alice")["results"]?.arrayValue?.isEmpty == true)
            #expect(try await client.mem0(.get, "/memories?agent_id=*")["results"]?.arrayValue?.count == 2)
            try await client.mem0(.delete, "/memories", key: Mem0Fixture.adminKey, status: .badRequest)

            let reset = try await client.mem0(.post, "/reset", key: Mem0Fixture.adminKey)
            #expect(reset["message"] == "All memories reset")
            #expect(try await client.mem0(.get, "/memories?agent_id=*")["results"]?.arrayValue?.isEmpty == true)
            let history = try await client.mem0(.get, "/memories/\(garage.id)/history")
            #expect(history.arrayValue?.map { $0["event"] } == ["ADD", "DELETE"])
            let bobID = try #require(bob["results"]?.arrayValue?.first?["id"]?.stringValue)
            #expect(try await fixture.database.knowledge.memoryVersions(id: bobID).count == 2)
        }
    }

    @Test func thePlatformPathsOfMem0sPythonClientReachTheSameHandlers() async throws {
        let fixture = try await Mem0Fixture()
        try await fixture.api().test(.router) { client in
            let ping = try await client.mem0(.get, "/v1/ping/", header: .authorization)
            #expect(ping["status"] == "ok" && ping["org_id"] != .null && ping["project_id"] != .null)
            try await client.mem0(.get, "/v1/ping/", key: nil, status: .unauthorized)
            let added = try await client.mem0(.post, "/v3/memories/add/", Self.note, header: .authorization)
            let id = try #require(added["results"]?.arrayValue?.first?["id"]?.stringValue)
            let listed = try await client.mem0(.post, "/v3/memories/", ["filters": ["user_id": "alice", "category": "comfort"]])
            #expect(listed["results"]?.arrayValue?.count == 2)
            try await client.mem0(.post, "/v3/memories/", ["filters": ["category": "comfort"]], status: .badRequest)
            let found = try await client.mem0(.post, "/v3/memories/search/", ["query": "kitchen degrees",
                                                                             "filters": ["user_id": "alice"]])
            #expect(found["results"]?.arrayValue?.isEmpty == false)
            #expect(try await client.mem0(.get, "/v1/memories/\(id)/")["id"]?.stringValue == id)
            try await client.mem0(.put, "/v1/memories/\(id)/", ["text": "I like the kitchen at 20 degrees"])
            #expect(try await client.mem0(.get, "/v1/memories/\(id)/history/").arrayValue?.count == 2)
            try await client.mem0(.delete, "/v1/memories/\(id)/")
            try await client.mem0(.get, "/v1/memories/\(id)/", status: .notFound)
        }
    }
}
