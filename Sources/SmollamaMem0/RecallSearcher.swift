public import SmollamaCore
public import SmollamaMind
import SmollamaStore

/// `POST /search` through the recall engine (SmollamaMind): vector + words + recency +
/// importance over every node's memories, restricted to the given nodes in SQL first.
public struct RecallMemorySearcher: MemorySearching {
    public let recall: Recall

    public init(recall: Recall) {
        self.recall = recall
    }

    public func searchMemories(_ query: String, origins: [NodeID]?, limit: Int) async throws -> [ScoredMemoryID] {
        let hits = try await recall.search(
            RecallQuery(text: query, kinds: [.memory], origins: origins, validOnly: true, topK: max(1, min(limit, 1000))))
        return hits.compactMap { hit in hit.memory.map { ScoredMemoryID(id: $0.record.id, score: hit.score) } }
    }
}
