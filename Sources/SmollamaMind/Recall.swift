import Foundation
public import Logging
public import SmollamaCore
public import SmollamaLLM
public import SmollamaStore

/// What to look for: words or a question, the restrictions applied in SQL before any top-k is
/// taken (`RecallFilter`, the store's own type), and how many hits to keep.
public struct RecallQuery: Sendable, Hashable {
    /// Words or a question. Empty text with filters lists the newest matching items.
    public var text: String
    /// Kinds, record kinds, sensors, origins, time span, validity and metadata.
    public var filter: RecallFilter
    public var topK: Int
    /// Hits scoring below this are left out.
    public var threshold: Double?

    public init(
        text: String, kinds: Set<RecallItemKind>? = nil, recordKinds: [String]? = nil, sensors: [String]? = nil,
        origins: [NodeID]? = nil, from: UTCMillis? = nil, to: UTCMillis? = nil, validOnly: Bool = true,
        metadata: [String: String] = [:], topK: Int = 5, threshold: Double? = nil
    ) {
        self.text = text
        filter = RecallFilter(
            kinds: kinds, recordKinds: recordKinds, sensors: sensors, origins: origins, from: from, to: to,
            validOnly: validOnly, metadata: metadata)
        self.topK = topK
        self.threshold = threshold
    }
}

/// Which signals found an item.
public enum RecallSignal: String, Codable, Sendable, Hashable {
    /// Embedding similarity.
    case vector
    /// Word match (FTS5).
    case text
}

/// The parts of a hit's score.
public struct RecallScores: Codable, Sendable, Hashable {
    /// Cosine similarity of the embeddings, when the item was a vector candidate.
    public var vector: Double?
    /// BM25 scaled so the best word match is 1, when the item matched words.
    public var text: Double?
    /// 1 for brand new, halving every `Recall.Ranking.recencyHalfLife`.
    public var recency: Double
    public var importance: Double
}

/// A memory or an observation with its score.
public struct RecallHit: Sendable, Hashable {
    public enum Item: Sendable, Hashable {
        case memory(StoredMemory)
        case observation(StoredObservation)
    }

    public var item: Item
    /// Higher is better; roughly 0…1.
    public var score: Double
    public var signals: [RecallSignal]
    public var scores: RecallScores

    public var id: String {
        switch item {
        case .memory(let memory): memory.record.id
        case .observation(let observation): observation.record.id
        }
    }

    public var kind: RecallItemKind {
        switch item {
        case .memory: .memory
        case .observation: .observation
        }
    }

    public var text: String {
        switch item {
        case .memory(let memory): memory.record.text
        case .observation(let observation): observation.record.text
        }
    }

    public var memory: StoredMemory? {
        if case .memory(let memory) = item { return memory }
        return nil
    }

    public var observation: StoredObservation? {
        if case .observation(let observation) = item { return observation }
        return nil
    }
}

/// A search's hits before their records are read: the ranking rows, best first.
public struct RankedRecall: Sendable, Hashable {
    public struct Hit: Sendable, Hashable {
        public var row: RecallRow
        public var score: Double
        public var scores: RecallScores
        public var signals: [RecallSignal]
    }

    public var hits: [Hit]
    public var vectorPath: RecallResult.VectorPath
    public var vectorProblem: String?
}

/// A search's hits and how they were found.
public struct RecallResult: Sendable, Hashable {
    public enum VectorPath: String, Codable, Sendable, Hashable {
        /// The in-memory index: sign-bit Hamming prefilter, int8 re-score, exact cosine rerank.
        case inMemory = "in-memory"
        /// sqlite-vec: bit-quantized KNN prefilter, exact cosine rerank.
        case sqliteVec = "sqlite-vec"
        /// Every stored vector compared in Swift.
        case exact
        /// No vector signal: embeddings off, the runtime unreachable, or nothing embedded yet.
        case none
    }

    public var hits: [RecallHit]
    public var vectorPath: VectorPath
    /// Why there was no vector signal, when there should have been.
    public var vectorProblem: String?
}

/// Hybrid recall over the store's observations and memories: embeddings (the in-memory index,
/// sqlite-vec or an exact scan) + FTS5 words, one ranking of relevance, recency and importance. The hub's mem0
/// `/search` and cross-node recall use this same engine over the merged store.
public struct Recall: Sendable {
    /// How vectors are searched.
    public enum VectorSearch: String, Codable, Sendable, Hashable, CaseIterable {
        /// The in-memory index (the default; needs no extension).
        case automatic
        /// sqlite-vec's bit-quantized KNN (the slower path before the in-memory index; kept to
        /// compare against, and for stores that want no index in memory).
        case sqliteVec = "sqlite-vec"
        case exact
        /// Words only.
        case off
    }

    /// How the signals combine: `score = relevance·w + recency·w + importance·w`, where relevance
    /// is `vector·w + text·(1-w)` (text alone when there is no vector signal).
    public struct Ranking: Sendable, Hashable {
        public var relevance = 0.8
        public var recency = 0.1
        public var importance = 0.1
        /// Share of the vector signal within relevance.
        public var vectorShare = 0.75
        public var recencyHalfLife: Duration = .seconds(14 * 86_400)
        /// Candidates each signal contributes before ranking, per requested hit.
        public var candidatesPerHit = 8
        /// sqlite-vec: KNN candidates passed to the exact rerank (at least 4 per pooled hit).
        public var quantizedOversample = 200
        /// Candidates the in-memory Hamming prefilter passes to the int8 re-score.
        public var bitCandidates = 2000
        /// Of those, per pooled hit, how many the exact float rerank reads (int8 order is close
        /// to exact, so a small margin suffices).
        public var exactRerankPerHit = 2
        /// The word signal ranks (BM25) the newest this many items matching the words: ranking
        /// every match of a common word cost ~20 ms at 100 k items (BENCHMARKS.md, Recall).
        public var wordMatchesRanked = 1000
        public init() {}
    }

    public let database: SmollamaDatabase
    public let embedder: (any Embedder)?
    public let vectorSearch: VectorSearch
    public let ranking: Ranking
    let now: @Sendable () -> UTCMillis
    let logger: Logger

    public init(
        database: SmollamaDatabase, embedder: (any Embedder)?, vectorSearch: VectorSearch = .automatic,
        ranking: Ranking = .init(), logger: Logger,
        now: @escaping @Sendable () -> UTCMillis = { UTCMillis.now() }
    ) {
        self.database = database
        self.embedder = embedder
        self.vectorSearch = vectorSearch
        self.ranking = ranking
        self.logger = logger
        self.now = now
    }

    /// The best hits, best first.
    public func search(_ query: RecallQuery) async throws -> [RecallHit] {
        try await searchWithDetails(query).hits
    }

    /// The best hits and which vector path found them.
    public func searchWithDetails(_ query: RecallQuery) async throws -> RecallResult {
        guard query.topK >= 1 else { throw RecallError.invalidTopK(query.topK) }
        if query.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return RecallResult(
                hits: try await newest(filter: query.filter, limit: query.topK, threshold: query.threshold),
                vectorPath: .none, vectorProblem: nil)
        }
        let ranked = try await rank(query)
        let items = try await load(ranked.hits.map(\.row))
        var hits: [RecallHit] = []
        for (entry, item) in zip(ranked.hits, items) {
            guard let item else { continue }
            hits.append(RecallHit(item: item, score: entry.score, signals: entry.signals, scores: entry.scores))
        }
        return RecallResult(hits: hits, vectorPath: ranked.vectorPath, vectorProblem: ranked.vectorProblem)
    }

    /// The best hits of a search with words, ranked but not read: which item (its kind and id)
    /// and its score. For a caller that reads the records itself (the hub's memory explorer
    /// reads its own page of memories, with their filters, and would otherwise decode every hit
    /// twice). Nothing for a query without words.
    public func rank(_ query: RecallQuery) async throws -> RankedRecall {
        guard query.topK >= 1 else { throw RecallError.invalidTopK(query.topK) }
        let filter = query.filter
        let text = query.text.trimmingCharacters(in: .whitespacesAndNewlines)
        let pool = max(query.topK * ranking.candidatesPerHit, 40)
        guard !text.isEmpty else { return RankedRecall(hits: [], vectorPath: .none, vectorProblem: nil) }

        // Words and vectors are searched at the same time (separate read connections).
        async let wordHits = database.recall.textSearch(
            Self.words(text), filter: filter, limit: pool, newestMatches: ranking.wordMatchesRanked)
        var vectorScores: [Int64: Double] = [:]
        var rows: [Int64: RecallRow] = [:]
        var path = RecallResult.VectorPath.none
        var problem: String?
        if vectorSearch != .off, let embedder {
            do {
                let vector = try await embedder.embed([text]).vectors.first ?? []
                let (hits, used) = try await vectorHits(vector, model: embedder.model, filter: filter, limit: pool)
                path = used
                for hit in hits {
                    vectorScores[hit.item] = hit.score
                    rows[hit.item] = hit.row
                }
                if hits.isEmpty { problem = "nothing is embedded with \(embedder.model) yet" }
            } catch let error as CancellationError {
                throw error
            } catch let error as RecallError {
                throw error
            } catch {
                problem = "\(error)"
                logger.warning(
                    "recall without embeddings", metadata: ["smollama.recall.error": "\(error)"])
            }
        }

        var textScores: [Int64: Double] = [:]
        for hit in try await wordHits {
            textScores[hit.item] = hit.score
            rows[hit.item] = hit.row
        }

        let nowMs = now()
        let hasVector = !vectorScores.isEmpty
        var ranked: [(row: RecallRow, score: Double, scores: RecallScores, signals: [RecallSignal])] = []
        for (item, row) in rows {
            let vector = vectorScores[item]
            let words = textScores[item]
            let relevance =
                hasVector
                ? ranking.vectorShare * max(0, vector ?? 0) + (1 - ranking.vectorShare) * (words ?? 0)
                : (words ?? 0)
            let recency = Self.recency(age: nowMs - row.time, halfLife: ranking.recencyHalfLife)
            let importance = row.kind == .memory ? row.importance * (0.5 + 0.5 * row.confidence) : row.importance
            let score = ranking.relevance * relevance + ranking.recency * recency + ranking.importance * importance
            var signals: [RecallSignal] = []
            if vector != nil { signals.append(.vector) }
            if words != nil { signals.append(.text) }
            ranked.append(
                (row, score, RecallScores(vector: vector, text: words, recency: recency, importance: importance), signals))
        }
        ranked.sort { $0.score > $1.score || ($0.score == $1.score && $0.row.item < $1.row.item) }
        if let threshold = query.threshold { ranked.removeAll { $0.score < threshold } }
        return RankedRecall(
            hits: ranked.prefix(query.topK).map {
                RankedRecall.Hit(row: $0.row, score: $0.score, scores: $0.scores, signals: $0.signals)
            }, vectorPath: path, vectorProblem: problem)
    }

    /// Vector candidates by the configured path.
    func vectorHits(_ vector: [Float], model: String, filter: RecallFilter, limit: Int) async throws
        -> ([IndexHit], RecallResult.VectorPath)
    {
        guard !vector.isEmpty else { return ([], .none) }
        let rerank = max(ranking.quantizedOversample, limit * 4)
        if vectorSearch == .automatic {
            let hits = try await database.recall.memoryVectorSearch(
                vector, model: model, filter: filter, limit: limit, prefilter: ranking.bitCandidates,
                rerank: limit * ranking.exactRerankPerHit)
            return (hits, .inMemory)
        }
        if vectorSearch == .sqliteVec,
            let hits = try await database.recall.quantizedVectorSearch(
                vector, model: model, filter: filter, limit: limit,
                oversample: rerank)
        {
            return (hits, .sqliteVec)
        }
        if vectorSearch == .sqliteVec {
            throw RecallError.vectorExtensionMissing
        }
        return (try await database.recall.exactVectorSearch(vector, model: model, filter: filter, limit: limit), .exact)
    }

    /// With no words: the newest items that pass the filters.
    func newest(filter: RecallFilter, limit: Int, threshold: Double?) async throws -> [RecallHit] {
        let rows = try await database.recall.newestRecallRows(filter: filter, limit: limit)
        let nowMs = now()
        var hits: [RecallHit] = []
        for (row, item) in zip(rows, try await load(rows)) {
            guard let item else { continue }
            let recency = Self.recency(age: nowMs - row.time, halfLife: ranking.recencyHalfLife)
            let score = ranking.recency * recency + ranking.importance * row.importance
            if let threshold, score < threshold { continue }
            hits.append(
                RecallHit(
                    item: item, score: score, signals: [],
                    scores: RecallScores(vector: nil, text: nil, recency: recency, importance: row.importance)))
        }
        return hits
    }

    /// The records behind `rows`, in their order (nil for one deleted since), in one read.
    func load(_ rows: [RecallRow]) async throws -> [RecallHit.Item?] {
        let found = try await database.knowledge.records(
            observations: rows.filter { $0.kind == .observation }.map(\.ref),
            memories: rows.filter { $0.kind == .memory }.map(\.ref))
        return rows.map { row in
            switch row.kind {
            case .memory: found.memories[row.ref].map { .memory($0) }
            case .observation: found.observations[row.ref].map { .observation($0) }
            }
        }
    }

    static func recency(age: Duration, halfLife: Duration) -> Double {
        guard age > .zero else { return 1 }
        return pow(0.5, age / max(.milliseconds(1), halfLife))
    }

    /// Words worth matching: lowercased, no stop words, no single letters.
    static func words(_ text: String) -> [String] {
        let pieces = text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
        var seen = Set<String>()
        return pieces.filter { $0.count > 1 && !stopWords.contains($0) && seen.insert($0).inserted }
    }

    static let stopWords: Set<String> = [
        "the", "a", "an", "is", "are", "was", "were", "be", "been", "do", "does", "did", "what", "when", "where",
        "which", "who", "how", "why", "of", "in", "on", "at", "to", "for", "and", "or", "it", "its", "this", "that",
        "there", "any", "usually", "typically", "normally", "my", "me", "i", "you", "we", "our", "with", "by", "from",
        "has", "have", "had", "about", "tell", "can", "could", "should", "would", "so", "as", "if", "not", "no",
    ]
}

public enum RecallError: Error, CustomStringConvertible, Equatable {
    case invalidTopK(Int)
    case vectorExtensionMissing

    public var description: String {
        switch self {
        case .invalidTopK(let value): "top_k must be at least 1 (got \(value))"
        case .vectorExtensionMissing:
            "recall is set to sqlite-vec but the extension is not loaded: run scripts/setup-llm.sh, set SMOLLAMA_VEC0 "
                + "to vec0.so, or set memory.vector_search: automatic"
        }
    }
}
