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
/// support) and all-MiniLM-L6-v2 (embeddings), started by our RuntimeSupervisor. The name
/// contains "LiveLlamaServerTests" so scripts/test runs it in the serialized live step.
/// Fails (never skips) when setup has not been run.
@Suite(.serialized, .recallLiveRuntime, .timeLimit(.minutes(10)))
struct RecallLiveLlamaServerTests {
    @Test func miniLMRecallPutsTheRightMemoryFirstWithSqliteVecAndExactScan() async throws {
        let runtime = try RecallLiveRuntime.require()
        let store = try await MindStore()
        try await RecallFixture.seed(store)
        let embedder = runtime.client
        let indexed = try await EmbeddingIndexer(database: store.database, embedder: embedder, logger: .quiet).indexPending()
        #expect(indexed == RecallFixture.memories.count)
        let status = try await store.database.embeddingStatus(model: embedder.model)
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
        let runtime = try RecallLiveRuntime.require()
        let store = try await MindStore()
        try await RecallFixture.seed(store)
        let indexer = EmbeddingIndexer(database: store.database, embedder: runtime.client, logger: .quiet)
        try await indexer.indexPending()
        let counter = MemoryStampCounter(RecallFixture.created + 10_000)
        let tools = MindTools(
            database: store.database, recall: Recall(database: store.database, embedder: runtime.client, logger: .quiet),
            node: store.node, indexer: indexer, logger: .quiet, stamp: { counter.next() })
        let asker = Asker(model: runtime.client, tools: tools, maxAnswerTokens: 120, logger: .quiet)
        let answer = try await asker.ask("When does the post usually arrive?")
        #expect(answer.mode == .router)
        #expect(answer.toolCalls.first?.name == "recall")
        #expect(answer.citations.contains("m25"), "\(answer)")
        #expect(!answer.answer.isEmpty)
    }
}

/// The real llama-server pair for this suite, run by our RuntimeSupervisor.
struct RecallLiveRuntime: Sendable {
    var config: LLMConfig
    @TaskLocal static var current: RecallLiveRuntime?

    var client: OpenAIClient {
        OpenAIClient(
            url: config.url, model: config.chatModel, embeddingURL: config.embeddingURL,
            embeddingModel: config.embeddingModel, timeout: .seconds(120), logger: .quiet)
    }

    static func require() throws -> RecallLiveRuntime {
        guard let current else { throw RecallLiveSetupMissing(path: "(live servers not started)") }
        return current
    }
}

struct RecallLiveSetupMissing: Error, CustomStringConvertible {
    var path: String
    var description: String {
        "the real LLM runtime is missing (\(path)): run scripts/setup-llm.sh, "
            + "or set SMOLLAMA_LLAMA_SERVER / SMOLLAMA_CHAT_MODEL / SMOLLAMA_EMBED_MODEL"
    }
}

struct RecallLiveRuntimeTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }


    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let env = ProcessInfo.processInfo.environment
        let cache = env["SMOLLAMA_CACHE"] ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/smollama"
        let server = env["SMOLLAMA_LLAMA_SERVER"] ?? cache + "/llama.cpp/llama-server"
        let chat = env["SMOLLAMA_CHAT_MODEL"] ?? cache + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
        let embed = env["SMOLLAMA_EMBED_MODEL"] ?? cache + "/models/all-minilm-l6-v2-f32.gguf"
        for path in [server, chat, embed] where !FileManager.default.fileExists(atPath: path) {
            throw RecallLiveSetupMissing(path: path)
        }
        try PinnedRuntime.check(cacheDirectory: cache, environment: env)
        var config = LLMConfig()
        config.url = "http://127.0.0.1:\(freeLoopbackPort())"
        config.embeddingURL = "http://127.0.0.1:\(freeLoopbackPort())"
        config.managed.llamaServer = server
        config.managed.chatModelFile = chat
        config.managed.embeddingModelFile = embed
        config.cacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("smollama-recall-live-\(getpid())").path
        config.numCtx = 2048
        let logger = Logger.quiet
        let supervisor = RuntimeSupervisor(
            specs: try ManagedProcessSpec.llamaServer(for: config), managed: true, logger: logger, healthInterval: .seconds(2),
            startupTimeout: .seconds(60), minBackoff: .milliseconds(300), maxBackoff: .seconds(2),
            stateDirectory: config.cacheDirectory + "/run")
        let group = ServiceGroup(services: [supervisor], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var failure: (any Error)?
            if await supervisor.waitUntilReady(timeout: .seconds(90)) {
                do {
                    try await RecallLiveRuntime.$current.withValue(RecallLiveRuntime(config: config)) { try await function() }
                } catch { failure = error }
            } else {
                failure = LLMError.runtimeFailed("llama-server did not become healthy: \(supervisor.status())")
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            try? FileManager.default.removeItem(atPath: config.cacheDirectory)
            if let failure { throw failure }
        }
    }
}

extension Trait where Self == RecallLiveRuntimeTrait {
    static var recallLiveRuntime: RecallLiveRuntimeTrait { RecallLiveRuntimeTrait() }
}
