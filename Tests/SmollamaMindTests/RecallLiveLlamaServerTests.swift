import Foundation
import Logging
import ServiceLifecycle
import SmollamaCore
import SmollamaLLM
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaMind
#if canImport(Glibc)
import Glibc
#endif

/// Recall and `ask` against the real runtime: llama-server with SmolLM2-135M (chat, no tool
/// support) and all-MiniLM-L6-v2 (embeddings), the shared `.liveRuntime`. Tagged `.live`, so
/// scripts/test runs it in the serialized live step. Fails (never skips) when setup has not been run.
@Suite(.serialized, .tags(.live), .liveRuntime, .timeLimit(.minutes(10)))
struct RecallLiveLlamaServerTests {
    @Test func miniLMRecallPutsTheRightMemoryFirstWithSqliteVecAndExactScan() async throws {
        let runtime = try LiveRuntime.require()
        let store = try await MindStore()
        try await RecallFixture.seed(store)
        let embedder = runtime.client()
        let indexed = try await EmbeddingIndexer(database: store.database, embedder: embedder, logger: .quiet).indexPending()
        #expect(indexed == RecallFixture.memories.count)
        let status = try await store.database.recall.embeddingStatus(model: embedder.model)
        #expect(status.current == RecallFixture.memories.count)
        #expect(status.vectorExtension != nil)

        let vec = Recall(database: store.database, embedder: embedder, vectorSearch: .sqliteVec, logger: .quiet)
        let exact = Recall(database: store.database, embedder: embedder, vectorSearch: .exact, logger: .quiet)
        var right = 0
        var misses: [String] = []
        for (question, expected) in RecallFixture.questions {
            let a = try await vec.searchWithDetails(RecallQuery(text: question, topK: 3))
            let b = try await exact.searchWithDetails(RecallQuery(text: question, topK: 3))
            #expect(a.vectorPath == .sqliteVec && b.vectorPath == .exact)
            #expect(a.hits.first?.id == b.hits.first?.id, "sqlite-vec and exact scan disagree on: \(question)")
            if a.hits.first?.id == expected { right += 1 } else { misses.append("\(question) → \(a.hits.map(\.id))") }
        }
        #expect(right >= 20, "right first: \(right) of \(RecallFixture.questions.count); misses: \(misses)")
        #expect(misses.isEmpty, "\(misses)")
    }

    /// SmolLM2 has no tool support: `ask` takes the router path and cites what recall returned.
    @Test func askUsesTheRouterAndCitesRetrievedMemories() async throws {
        let runtime = try LiveRuntime.require()
        let store = try await MindStore()
        try await RecallFixture.seed(store)
        let indexer = EmbeddingIndexer(database: store.database, embedder: runtime.client(), logger: .quiet)
        try await indexer.indexPending()
        let counter = MemoryStampCounter(RecallFixture.created + 10_000)
        let tools = MindTools(
            database: store.database, recall: Recall(database: store.database, embedder: runtime.client(), logger: .quiet),
            node: store.node, indexer: indexer, logger: .quiet, stamp: { counter.next() })
        let asker = Asker(model: runtime.client(), tools: tools, maxAnswerTokens: 120, logger: .quiet)
        let answer = try await asker.ask("When does the post usually arrive?")
        #expect(answer.mode == .router)
        #expect(answer.toolCalls.first?.name == "recall")
        #expect(answer.citations.contains("m25"), "\(answer)")
        #expect(!answer.answer.isEmpty)
    }
}
