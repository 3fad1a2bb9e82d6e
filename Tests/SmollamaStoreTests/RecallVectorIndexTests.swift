import Foundation
import GRDB
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaStore

/// The in-memory vector index (sign-bit prefilter, int8 re-score, exact rerank) against the
/// exact scan, with filters, and kept in step with `recall_embeddings`.
@Suite struct RecallVectorIndexTests {
    static let model = "test-model"
    static let t0: UTCMillis = 1_795_000_000_000

    /// `count` memories m0… (subject `s<index % 50>`), each with its vector stored; returns the
    /// vectors by item.
    @discardableResult
    func seed(_ database: SmollamaDatabase, node: NodeID, vectors: [[Float]], model: String = model) async throws
        -> [Int64: [Float]]
    {
        for index in vectors.indices {
            let record = MemoryRecord(
                id: "m\(index)", kind: "routine", subjects: ["s\(index % 50)"], text: "memory \(index)",
                confidence: 0.8, importance: 0.5, validFrom: Self.t0, createdAt: Self.t0 + Int64(index),
                source: .reflection)
            try await database.knowledge.record(record, origin: node, stamp: .test(Self.t0 + Int64(index), bootID: "b"))
        }
        let pending = try await database.recall.pendingEmbeddings(model: model, limit: vectors.count)
        #expect(pending.count == vectors.count)
        // Items are numbered in insertion order: memory m<i> is item i + 1.
        var byItem: [Int64: [Float]] = [:]
        for entry in pending { byItem[entry.item] = vectors[Int(entry.item) - 1] }
        try await database.recall.storeEmbeddings(
            pending.map { ($0.item, $0.text, byItem[$0.item]!) }, model: model)
        return byItem
    }

    func nearest(_ database: SmollamaDatabase, _ query: [Float], filter: RecallFilter = RecallFilter(), limit: Int = 10)
        async throws -> [IndexHit]
    {
        try await database.recall.memoryVectorSearch(
            query, model: Self.model, filter: filter, limit: limit, prefilter: 200, rerank: 40)
    }

    @Test func agreesWithTheExactScanOnTopOneForThreeThousandClusteredVectors() async throws {
        let store = try await TestStore()
        var random = SplitMix64(state: 7)
        let centers = (0..<15).map { _ in random.unit(384) }
        // Like sentence embeddings: many near neighbours (clusters of 200 at noise 0.08).
        let vectors = (0..<3000).map { random.near(centers[$0 % centers.count], spread: 0.08) }
        try await seed(store.database, node: store.node, vectors: vectors)

        var agree = 0
        var overlap = 0
        let queries = 200
        for _ in 0..<queries {
            let query = random.near(centers[Int.random(in: 0..<centers.count, using: &random)], spread: 0.1)
            let fast = try await nearest(store.database, query)
            let exact = try await store.database.recall.exactVectorSearch(
                query, model: Self.model, filter: RecallFilter(), limit: 10)
            #expect(fast.count == 10)
            if fast.first?.item == exact.first?.item { agree += 1 }
            overlap += Set(fast.map(\.item)).intersection(exact.map(\.item)).count
            // Scores are exact cosines, not quantized estimates.
            for hit in fast {
                if let same = exact.first(where: { $0.item == hit.item }) { #expect(abs(same.score - hit.score) < 1e-9) }
            }
        }
        // 3000 vectors → 200 by Hamming → 40 by int8 → 10 exact.
        #expect(Double(agree) / Double(queries) >= 0.99, "top-1 agreed on \(agree) of \(queries)")
        #expect(Double(overlap) / Double(queries * 10) >= 0.95, "recall@10 \(Double(overlap) / Double(queries * 10))")
    }

    @Test func filtersApplyBeforeTopK() async throws {
        let store = try await TestStore()
        var random = SplitMix64(state: 11)
        let center = random.unit(128)
        let vectors = (0..<1000).map { _ in random.near(center, spread: 0.05) }
        try await seed(store.database, node: store.node, vectors: vectors)
        let query = random.near(center, spread: 0.05)

        // One sensor keeps 20 of 1000 items, none of them likely among the unfiltered 40.
        let filter = RecallFilter(sensors: ["s7"])
        let fast = try await nearest(store.database, query, filter: filter)
        let exact = try await store.database.recall.exactVectorSearch(query, model: Self.model, filter: filter, limit: 10)
        #expect(fast.count == 10)
        #expect(fast.map(\.item) == exact.map(\.item))
        #expect(fast.allSatisfy { ($0.item - 1) % 50 == 7 })

        // A filter nothing passes gives nothing, not the unfiltered neighbours.
        #expect(try await nearest(store.database, query, filter: RecallFilter(kinds: [.observation])).isEmpty)
    }

    @Test func staysInStepWithWritesDeletesOtherConnectionsAndARestart() async throws {
        let store = try await TestStore()
        var random = SplitMix64(state: 13)
        // 96 dimensions: not a multiple of 64, so the last bit word is padded.
        let vectors = (0..<300).map { _ in random.unit(96) }
        try await seed(store.database, node: store.node, vectors: vectors)
        let query = random.unit(96)
        let before = try await nearest(store.database, query)
        #expect(try await nearest(store.database, vectors[41]).first?.item == 42)

        // A re-embedded item moves: item 42 now points along the query, in place (no reload).
        try await store.database.recall.storeEmbeddings([(42, "memory 41", query)], model: Self.model)
        let generation = try await store.database.reader.read { try RecallSchema.generation($0) }
        #expect(await store.database.vectorIndex.isCurrent(model: Self.model, dimension: 96, generation: generation))
        #expect(try await nearest(store.database, query).first?.item == 42)

        // Stored under another model, it leaves this model's index.
        try await store.database.recall.storeEmbeddings([(42, "memory 41", query)], model: "other-model")
        #expect(try await nearest(store.database, query).map(\.item) == before.map(\.item))
        try await store.database.recall.storeEmbeddings([(42, "memory 41", query)], model: Self.model)

        // Removed from the table by anyone (here raw SQL): the next search reloads and misses it.
        try await store.database.writer.write { db in
            try db.execute(sql: "DELETE FROM recall_embeddings WHERE item = 42")
        }
        #expect(try await nearest(store.database, query).map(\.item) == before.map(\.item))
        #expect(await store.database.vectorIndex.count == 299)

        // Another connection to the same file (another process) writes: seen on the next search.
        let other = try SmollamaDatabase.open(path: store.path)
        try await other.recall.storeEmbeddings([(7, "memory 6", query)], model: Self.model)
        #expect(try await nearest(store.database, query).first?.item == 7)

        // A restart loads the same index from the table.
        let reopened = try SmollamaDatabase.open(path: store.path)
        #expect(await reopened.vectorIndex.count == 0)
        let fresh = try await nearest(reopened, query)
        #expect(fresh == (try await nearest(store.database, query)))
        #expect(fresh.first?.item == 7)
        #expect(await reopened.vectorIndex.count == 299)
        let footprint = try await reopened.recall.vectorIndexFootprint(model: Self.model, dimension: 96)
        #expect(footprint.vectors == 299)
    }
}

extension SplitMix64 {
    /// A random unit vector.
    fileprivate mutating func unit(_ dimension: Int) -> [Float] {
        Self.normalized((0..<dimension).map { _ in gaussian() })
    }

    /// A unit vector near `center` (normal noise of `spread` per component).
    fileprivate mutating func near(_ center: [Float], spread: Float) -> [Float] {
        Self.normalized(center.map { $0 + spread * gaussian() })
    }

    fileprivate static func normalized(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }
}
