import Foundation
import Logging
import SmollamaCore
import SmollamaLLM
import SmollamaStore
import SmollamaTesting
import Synchronization
import Testing
@testable import SmollamaMind

@Suite struct RecallTests {
    func recall(_ store: MindStore, _ embedder: (any Embedder)?, _ mode: Recall.VectorSearch) -> Recall {
        Recall(database: store.database, embedder: embedder, vectorSearch: mode, logger: .quiet,
               now: { RecallFixture.created + 86_400_000 })
    }

    @Test func twentyFiveQuestionsGetTheRightMemoryFirstWithEveryVectorPath() async throws {
        let store = try await MindStore()
        try await RecallFixture.seed(store)
        let embedder = WordHashEmbedder()
        let indexed = try await EmbeddingIndexer(database: store.database, embedder: embedder, logger: .quiet).indexPending()
        #expect(indexed == RecallFixture.memories.count)
        #expect(await store.database.recall.vectorExtensionVersion() != nil)

        var misses: [String] = []
        for (question, expected) in RecallFixture.questions {
            let vec = try await recall(store, embedder, .sqliteVec).searchWithDetails(RecallQuery(text: question, topK: 3))
            let exact = try await recall(store, embedder, .exact).searchWithDetails(RecallQuery(text: question, topK: 3))
            let memory = try await recall(store, embedder, .automatic).searchWithDetails(RecallQuery(text: question, topK: 3))
            #expect(vec.vectorPath == .sqliteVec)
            #expect(exact.vectorPath == .exact)
            #expect(memory.vectorPath == .inMemory)
            #expect(vec.hits.first?.id == exact.hits.first?.id, "\(question)")
            #expect(memory.hits.map(\.id) == exact.hits.map(\.id), "\(question)")
            if vec.hits.first?.id != expected { misses.append("\(question) → \(vec.hits.map(\.id))") }
            #expect(vec.hits.first?.signals.contains(.vector) == true)
        }
        #expect(misses.isEmpty, "\(misses)")
    }

    @Test func filtersApplyBeforeTopK() async throws {
        let store = try await MindStore()
        let other = NodeID.random()
        let t = RecallFixture.created
        func memory(_ id: String, _ text: String, subjects: [String], metadata: [String: String] = [:]) -> MemoryRecord {
            MemoryRecord(id: id, kind: "routine", subjects: subjects, text: text, confidence: 0.9, importance: 0.5,
                         validFrom: t, createdAt: t, source: .reflection, metadata: metadata)
        }
        // Many strong matches from this node; the one from the other node is the weakest match.
        for index in 0..<30 {
            try await store.database.knowledge.record(
                memory("local\(index)", "Hallway motion motion motion in the morning \(index).", subjects: ["hallway.motion"]),
                origin: store.node, stamp: store.stamp(t + Int64(index)))
        }
        try await store.database.knowledge.record(
            memory("remote", "Some motion in the barn.", subjects: ["barn.motion"], metadata: ["user_id": "alice"]),
            origin: other, stamp: store.stamp(t + 100))
        let embedder = WordHashEmbedder()
        try await EmbeddingIndexer(database: store.database, embedder: embedder, logger: .quiet).indexPending()

        for mode in [Recall.VectorSearch.sqliteVec, .exact] {
            let engine = recall(store, embedder, mode)
            let byOrigin = try await engine.search(RecallQuery(text: "hallway motion morning", origins: [other], topK: 5))
            #expect(byOrigin.map(\.id) == ["remote"], "\(mode)")
            let bySensor = try await engine.search(RecallQuery(text: "motion", sensors: ["barn.motion"], topK: 5))
            #expect(bySensor.map(\.id) == ["remote"])
            let byMetadata = try await engine.search(RecallQuery(text: "motion", metadata: ["user_id": "alice"], topK: 5))
            #expect(byMetadata.map(\.id) == ["remote"])
            let none = try await engine.search(RecallQuery(text: "motion", metadata: ["user_id": "bob"], topK: 5))
            #expect(none.isEmpty)
            let observationsOnly = try await engine.search(RecallQuery(text: "motion", kinds: [.observation], topK: 5))
            #expect(observationsOnly.isEmpty)
        }
    }

    @Test func closedMemoriesAreLeftOutUnlessAskedFor() async throws {
        let store = try await MindStore()
        let t = RecallFixture.created
        var old = MemoryRecord(id: "old", kind: "routine", subjects: ["hallway.motion"],
                               text: "Hallway motion on weekdays 07:00-09:00.", confidence: 0.9, importance: 0.5,
                               validFrom: t, createdAt: t, source: .reflection)
        let first = try await store.database.knowledge.record(old, origin: store.node, stamp: store.stamp(t))
        old.validTo = t + 10
        old.expiredAt = t + 10
        old.parent = MemoryVersionRef(origin: store.node, seq: first.seq)
        try await store.database.knowledge.record(old, origin: store.node, stamp: store.stamp(t + 10))
        let embedder = WordHashEmbedder()
        try await EmbeddingIndexer(database: store.database, embedder: embedder, logger: .quiet).indexPending()
        let engine = recall(store, embedder, .automatic)
        #expect(try await engine.search(RecallQuery(text: "hallway motion")).isEmpty)
        let all = try await engine.search(RecallQuery(text: "hallway motion", validOnly: false))
        #expect(all.map(\.id) == ["old"])
        #expect(all.first?.memory?.record.validTo == t + 10)
    }

    @Test func aDeadRuntimeFallsBackToWordsAndAModelChangeReembeds() async throws {
        let store = try await MindStore()
        try await RecallFixture.seed(store)
        let embedder = WordHashEmbedder()
        try await EmbeddingIndexer(database: store.database, embedder: embedder, logger: .quiet).indexPending()

        embedder.failing.withLock { $0 = true }
        let words = try await recall(store, embedder, .automatic).searchWithDetails(
            RecallQuery(text: "When does the washing machine run?"))
        #expect(words.vectorPath == .none)
        #expect(words.vectorProblem?.contains("down") == true)
        #expect(words.hits.first?.id == "m19")
        #expect(words.hits.first?.signals == [.text])

        // A new model: everything is pending again, search keeps working on words meanwhile.
        let newModel = WordHashEmbedder(model: "word-hash-64-v2")
        let pending = try await store.database.recall.pendingEmbeddings(model: newModel.model, limit: 100)
        #expect(pending.count == RecallFixture.memories.count)
        let meanwhile = try await recall(store, newModel, .automatic).searchWithDetails(RecallQuery(text: "fridge cold"))
        #expect(meanwhile.hits.first?.id == "m17")
        let service = EmbeddingService(
            indexer: EmbeddingIndexer(database: store.database, embedder: newModel, batchSize: 7, logger: .quiet),
            interval: .seconds(60), logger: .quiet)
        await service.tick()
        let status = try await store.database.recall.embeddingStatus(model: newModel.model)
        #expect(status.current == RecallFixture.memories.count)
        #expect(status.items == RecallFixture.memories.count)
        let after = try await recall(store, newModel, .sqliteVec).searchWithDetails(RecallQuery(text: "fridge cold"))
        #expect(after.vectorPath == .sqliteVec)
        #expect(after.hits.first?.id == "m17")
    }

    @Test func aRuntimeThatStaysDownIsWarnedAboutOnceAnHourNotEveryPass() async throws {
        let store = try await MindStore()
        try await RecallFixture.seed(store)
        let embedder = WordHashEmbedder()
        embedder.failing.withLock { $0 = true }
        let clock = ManualClock()
        let capture = LogCapture()
        let service = EmbeddingService(
            indexer: EmbeddingIndexer(database: store.database, embedder: embedder, logger: .quiet),
            interval: .seconds(30), clock: ServiceClock(clock), logger: capture.logger())
        func warnings() -> [String] { capture.all.filter { $0.level == .warning }.map(\.message) }

        await service.tick()  // the first failure: a warning
        #expect(warnings().count == 1)
        #expect(warnings().first?.contains("recall uses words") == true)
        for _ in 0..<119 {  // an hour less 30 s of passes every 30 s: debug lines only
            clock.advance(by: .seconds(30))
            await service.tick()
        }
        #expect(warnings().count == 1)
        #expect(capture.all.filter { $0.level == .debug && $0.message == "embedding failed again" }.count == 119)
        clock.advance(by: .seconds(30))
        await service.tick()  // an hour on: reminded, with how long and how many passes
        #expect(warnings().count == 2)
        let reminder = try #require(capture.all.last { $0.level == .warning })
        #expect(reminder.message.contains("still failing"))
        #expect(reminder.metadata["smollama.recall.failing_minutes"] == "60")
        #expect(reminder.metadata["smollama.recall.failed_passes"] == "121")

        embedder.failing.withLock { $0 = false }
        await service.tick()  // back: said once, and the memories are embedded
        let back = capture.all.filter { $0.level == .info }
        #expect(back.count == 1)
        #expect(back.first?.metadata["smollama.recall.embedded"] == "\(RecallFixture.memories.count)")
        await service.tick()
        #expect(capture.all.filter { $0.level == .info }.count == 1)
        embedder.failing.withLock { $0 = true }
        let t = RecallFixture.created
        try await store.database.knowledge.record(
            MemoryRecord(id: "new", kind: "fact", subjects: [], text: "The shed light is on a timer.", confidence: 0.8,
                         importance: 0.5, validFrom: t, createdAt: t, source: .user),
            origin: store.node, stamp: store.stamp(t + 1000))
        await service.tick()  // a new outage (something to embed, the runtime down) warns at once again
        #expect(warnings().count == 3)
    }

    @Test func anEditedTextIsReembeddedAndWordIndexFollows() async throws {
        let store = try await MindStore()
        let t = RecallFixture.created
        var memory = MemoryRecord(id: "e1", kind: "fact", subjects: [], text: "The boiler is in the cellar.",
                                  confidence: 1, importance: 0.5, validFrom: t, createdAt: t, source: .user)
        let first = try await store.database.knowledge.record(memory, origin: store.node, stamp: store.stamp(t))
        let embedder = WordHashEmbedder()
        let indexer = EmbeddingIndexer(database: store.database, embedder: embedder, logger: .quiet)
        #expect(try await indexer.indexPending() == 1)
        memory.text = "The boiler moved to the attic."
        memory.parent = MemoryVersionRef(origin: store.node, seq: first.seq)
        try await store.database.knowledge.record(memory, origin: store.node, stamp: store.stamp(t + 1))
        #expect(try await indexer.indexPending() == 1)
        let engine = recall(store, embedder, .sqliteVec)
        #expect(try await engine.search(RecallQuery(text: "attic")).map(\.id) == ["e1"])
        let cellar = try await engine.search(RecallQuery(text: "cellar", threshold: 0.3))
        #expect(cellar.isEmpty)
    }

    @Test func badTopKIsAClearError() async throws {
        let store = try await MindStore(withVec: false)
        let engine = recall(store, nil, .automatic)
        await #expect(throws: RecallError.invalidTopK(0)) { try await engine.search(RecallQuery(text: "x", topK: 0)) }
        await #expect(throws: RecallError.vectorExtensionMissing) {
            try await EmbeddingIndexer(database: store.database, embedder: WordHashEmbedder(), logger: .quiet).indexPending()
            _ = try await recall(store, WordHashEmbedder(), .sqliteVec).searchWithDetails(RecallQuery(text: "x"))
        }
    }
}
