import Foundation
import HTTPTypes
import HummingbirdTesting
import SmollamaCore
import SmollamaLLM
@testable import SmollamaMem0
import SmollamaStore
import SmollamaTesting
import Testing

/// Issue 18, finding 9 (remainder): listings and bulk deletes select their scope in SQL, page as
/// mem0 does (`page`, `page_size`), and refuse filters too large to run over every memory.
@Suite struct Mem0PagingTests {
    static func ids(_ reply: JSONValue) -> [String] { (reply["results"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue } }

    @Test func listingsPageThroughTheirScope() async throws {
        let fixture = try await Mem0Fixture()
        for seq in 1...3 { try await fixture.garageMemory("garage note \(seq)", seq: Int64(seq)) }
        try await fixture.api().test(.router) { client in
            for index in 1...5 {
                fixture.clockSource.advance(milliseconds: 1000)
                try await client.mem0(.post, "/memories", ["messages": .string("alice note \(index)"), "user_id": "alice",
                                                           "infer": false, "metadata": ["n": .number(Double(index))]])
            }
            try await client.mem0(.post, "/memories", ["messages": "bob note", "user_id": "bob", "infer": false])
            let all = Self.ids(try await client.mem0(.get, "/memories?user_id=alice"))
            #expect(all.count == 5)
            var paged: [String] = []
            for page in 1...4 {
                let reply = try await client.mem0(.get, "/memories?user_id=alice&page_size=2&page=\(page)")
                #expect(Self.ids(reply).count == [2, 2, 1, 0][page - 1], "page \(page)")
                paged += Self.ids(reply)
            }
            #expect(paged == all, "pages overlap or skip: \(paged) vs \(all)")
            // mem0's client: page and page_size in the query, the scope in the body.
            let v3 = try await client.mem0(.post, "/v3/memories?page=2&page_size=2", ["filters": ["user_id": "alice"]])
            #expect(Self.ids(v3) == Array(all[2..<4]))
            let body = try await client.mem0(.post, "/v3/memories", ["filters": ["user_id": "alice"], "page": 3, "page_size": 2])
            #expect(Self.ids(body) == [all[4]])
            // Pages over a metadata filter count only what passes it.
            let odd = JSONValue.object(["n": ["in": [1, 3, 5]]]).jsonString.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let second = try await client.mem0(.get, "/memories?user_id=alice&page_size=2&page=2&filters=\(odd)")
            #expect(Self.ids(second) == [all[4]], "alice note 1 is the oldest odd one")
            // An agent is its node's name unless the memory says otherwise; a run is the day.
            #expect(Self.ids(try await client.mem0(.get, "/memories?agent_id=garage")).count == 3)
            let day = SharedMemory.day(UTCMillis(rawValue: Mem0Fixture.start.rawValue - 3_600_000))
            #expect(Self.ids(try await client.mem0(.get, "/memories?agent_id=garage&run_id=\(day)")).count == 3)
            #expect(Self.ids(try await client.mem0(.get, "/memories?agent_id=garage&run_id=1999-01-01")).isEmpty)
            #expect(Self.ids(try await client.mem0(.get, "/memories?agent_id=hub&user_id=*")).count == 6)

            try await client.mem0(.delete, "/memories?agent_id=garage", key: Mem0Fixture.adminKey)
            #expect(Self.ids(try await client.mem0(.get, "/memories?agent_id=*")).count == 6, "only the garage's went")
            #expect(Self.ids(try await client.mem0(.get, "/memories?agent_id=garage&show_expired=true")).count == 3)

            try await client.mem0(.get, "/memories?user_id=alice&page=0", status: .badRequest)
            try await client.mem0(.post, "/v3/memories?page=x", ["filters": ["user_id": "alice"]], status: .badRequest)
        }
    }

    @Test func filtersTooLargeToRunAreRefused() async throws {
        let fixture = try await Mem0Fixture()
        try await fixture.api().test(.router) { client in
            func refused(_ filters: JSONValue, _ words: String) async throws {
                let reply = try await client.mem0(.post, "/v3/memories", ["filters": filters], status: .badRequest)
                #expect(reply["detail"]?.stringValue?.contains(words) == true, "\(reply)")
            }
            var many: [String: JSONValue] = ["user_id": "alice"]
            for index in 0...Mem0Filter.maxConditions { many["k\(index)"] = .string("v") }
            try await refused(.object(many), "at most \(Mem0Filter.maxConditions)")
            var deep: JSONValue = ["k": "v"]
            for _ in 0...Mem0Filter.maxDepth { deep = ["AND": [deep]] }
            try await refused(["user_id": "alice", "AND": [deep]], "deep")
            let list = JSONValue.array((0...Mem0Filter.maxListValues).map { .number(Double($0)) })
            try await refused(["user_id": "alice", "n": ["in": list]], "at most \(Mem0Filter.maxListValues)")
            let long = String(repeating: "a", count: Mem0Filter.maxQueryBytes)
            let query = #"{"k":"\#(long)"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let tooLong = try await client.mem0(.get, "/memories?user_id=alice&filters=\(query)", status: .badRequest)
            #expect(tooLong["detail"]?.stringValue?.contains("longer than") == true, "\(tooLong)")
            try await client.mem0(.post, "/v3/memories", ["filters": ["user_id": "alice", "AND": [["k": "v"]]]])
        }
    }

    /// The store selects the scope: a user's memories come back whatever else the store holds.
    @Test func theScopeIsSelectedByTheStore() async throws {
        let fixture = try await Mem0Fixture()
        for seq in 1...3 { try await fixture.garageMemory("garage note \(seq)", seq: Int64(seq)) }
        _ = try await fixture.memory.json.add(["messages": "alice note", "user_id": "alice", "infer": false])
        let now = await fixture.clock.now()
        let alice = try await fixture.database.knowledge.memories(in: MemoryScope(user: .equals("alice"), visibleAt: now), offset: 0, limit: 10)
        #expect(alice.map(\.record.text) == ["alice note"])
        let garage = try await fixture.database.knowledge.memories(
            in: MemoryScope(agent: .equals("garage"), agentOrigins: [fixture.garage], visibleAt: now), offset: 0, limit: 10)
        #expect(garage.count == 3)
        let nobody = try await fixture.database.knowledge.memories(
            in: MemoryScope(agent: .equals("garage"), agentOrigins: [], visibleAt: now), offset: 0, limit: 10)
        #expect(nobody.isEmpty)
        #expect(try await fixture.database.knowledge.memories(in: MemoryScope(user: .present, visibleAt: now), offset: 1, limit: 10).isEmpty)
    }
}
