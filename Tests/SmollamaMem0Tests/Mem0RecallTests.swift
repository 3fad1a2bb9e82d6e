import Foundation
import SmollamaCore
import SmollamaLLM
@testable import SmollamaMem0
import SmollamaMind
import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing

/// `POST /mem0/search` through the real recall engine (words only here: no embedder), across
/// every node's memories and scoped to one node by `agent_id`.
@Suite struct Mem0RecallTests {
    @Test func searchUsesTheRecallEngineAcrossNodes() async throws {
        let base = try await Mem0Fixture()
        let recall = Recall(database: base.database, embedder: nil, vectorSearch: .off, logger: .quiet,
                            now: { Mem0Fixture.start })
        let memory = SharedMemory(
            database: base.database, node: base.hub, clock: base.clock,
            directory: StaticNodeDirectory(names: [base.hub: "hub", base.garage: "garage"]),
            searcher: RecallMemorySearcher(recall: recall))
        try await base.garageMemory("Motion in the garage is usual between 07:00 and 09:00", seq: 1)
        try await base.garageMemory("The garage freezer door was left open twice", seq: 2, kind: "fact")
        _ = try await memory.json.add(["messages": "Motion in the hallway at night means the cat", "user_id": "alice",
                                  "infer": false])

        let all = try await memory.json.search(["query": "motion", "agent_id": "*"])
        let texts = all["results"]?.arrayValue?.compactMap { $0["memory"]?.stringValue } ?? []
        #expect(Set(texts) == ["Motion in the garage is usual between 07:00 and 09:00",
                               "Motion in the hallway at night means the cat"])
        #expect(all["results"]?.arrayValue?.allSatisfy { ($0["score"]?.doubleValue ?? 0) > 0 } == true)

        let garage = try await memory.json.search(["query": "motion", "agent_id": "garage"])
        #expect(garage["results"]?.arrayValue?.compactMap { $0["memory"]?.stringValue }
                == ["Motion in the garage is usual between 07:00 and 09:00"])
        let freezer = try await memory.json.search(["query": "freezer door", "agent_id": "garage", "top_k": 1])
        #expect(freezer["results"]?.arrayValue?.first?["memory"] == "The garage freezer door was left open twice")
        let none = try await memory.json.search(["query": "motion", "agent_id": "garage",
                                            "filters": ["kind": "fact"]])
        #expect(none["results"]?.arrayValue?.isEmpty == true)
    }

    @Test func recallByNodeNameSearchesOnlyThatNode() async throws {
        let base = try await Mem0Fixture()
        let recall = Recall(database: base.database, embedder: nil, vectorSearch: .off, logger: .quiet,
                            now: { Mem0Fixture.start })
        let directory = StaticNodeDirectory(
            names: [base.hub: "hub", base.garage: "garage"],
            known: { (try? await base.database.events.eventOrigins(stream: .memories)) ?? [] })
        try await base.garageMemory("Motion in the garage is usual between 07:00 and 09:00", seq: 1)
        _ = try await base.memory.json.add(["messages": "Motion in the hallway at night means the cat", "user_id": "alice",
                                       "infer": false])
        let cross = CrossNodeRecall(recall: recall, directory: directory)
        let everywhere = try await cross.search("motion", topK: 5)
        #expect(Set(everywhere.map(\.node)) == ["garage", "hub"])
        let garage = try await cross.search("motion", node: "garage", topK: 5)
        #expect(garage.map(\.text) == ["Motion in the garage is usual between 07:00 and 09:00"])
        #expect(garage.first?.node == "garage" && garage.first?.kind == "memory")
        // An id prefix works too; an unknown name says what to use instead.
        #expect(try await cross.search("motion", node: String(base.garage.hex.prefix(8)), topK: 5).count == 1)
        await #expect(throws: CrossNodeRecall.Failure.unknownNode("attic")) {
            try await cross.search("motion", node: "attic")
        }
    }
}

@Suite struct FactExtractionTests {
    @Test func groundingRejectsInventedNumbersAndUnrelatedText() {
        let conversation = "user: I like the kitchen at 21 degrees\nuser: the garage door closes at 22:00"
        #expect(ModelFactExtractor.isGrounded("The user likes the kitchen at 21 degrees", in: conversation))
        #expect(ModelFactExtractor.isGrounded("The garage door closes at 22:00", in: conversation))
        #expect(!ModelFactExtractor.isGrounded("The user likes the kitchen at 25 degrees", in: conversation))
        #expect(!ModelFactExtractor.isGrounded("Bananas are yellow", in: conversation))
        #expect(!ModelFactExtractor.isGrounded("ok", in: conversation))
    }

    @Test func thePromptFitsASmallContext() throws {
        let extractor = ModelFactExtractor(model: OpenAIClient(model: "m", logger: .quiet))
        let long = (0..<500).map { ExtractionMessage(role: "user", content: "Message number \($0) about the kitchen.") }
        let transcript = extractor.transcript(long)
        #expect(transcript.count <= extractor.maxInputCharacters)
        #expect(transcript.hasSuffix("Message number 499 about the kitchen."))  // the newest part is kept
        // ~4 characters per token: instructions + schema + conversation stay well under 4 k tokens.
        let promptCharacters = ModelFactExtractor.instructions.count
            + ModelFactExtractor.schema(maxFacts: 8).jsonString.count + transcript.count
        #expect(promptCharacters / 4 + 384 < 3000)
        #expect(!extractor.transcript([ExtractionMessage(role: "system", content: "secret rules")]).contains("secret"))
    }
}
