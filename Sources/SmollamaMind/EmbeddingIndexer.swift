public import Logging
public import ServiceLifecycle
import SmollamaCore
public import SmollamaLLM
public import SmollamaStore
import AsyncAlgorithms

/// Embeds observations and memories that have no current embedding: new ones, edited ones, and
/// all of them after the embedding model changed (recall keeps working on words meanwhile).
public struct EmbeddingIndexer: Sendable {
    public let database: SmollamaDatabase
    public let embedder: any Embedder
    public var batchSize: Int
    let logger: Logger

    public init(database: SmollamaDatabase, embedder: any Embedder, batchSize: Int = 32, logger: Logger) {
        self.database = database
        self.embedder = embedder
        self.batchSize = max(1, batchSize)
        self.logger = logger
    }

    /// Embeds everything pending; returns how many items were embedded. Throws what the
    /// embedder throws (the runtime may be down); what was stored before stays stored.
    @discardableResult
    public func indexPending(limit: Int = .max) async throws -> Int {
        var done = 0
        try await database.recall.syncVectorIndex()
        while done < limit {
            try Task.checkCancellation()
            let pending = try await database.recall.pendingEmbeddings(model: embedder.model, limit: min(batchSize, limit - done))
            guard !pending.isEmpty else { break }
            let result = try await embedder.embed(pending.map(\.text))
            guard result.vectors.count == pending.count else {
                throw LLMError.unsupported(
                    "the embedding runtime returned \(result.vectors.count) vectors for \(pending.count) texts")
            }
            try await database.recall.storeEmbeddings(
                zip(pending, result.vectors).map { (item: $0.item, text: $0.text, vector: $1) }, model: embedder.model)
            done += pending.count
        }
        if done > 0 {
            logger.debug("embedded", metadata: ["smollama.recall.embedded": "\(done)", "smollama.recall.model": "\(embedder.model)"])
        }
        return done
    }
}

/// Runs the indexer on an interval; a failing runtime is logged and retried on the next tick.
public struct EmbeddingService: Service {
    public let indexer: EmbeddingIndexer
    public let interval: Duration
    let logger: Logger

    public init(indexer: EmbeddingIndexer, interval: Duration, logger: Logger) {
        self.indexer = indexer
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            // A pass waiting on the runtime is cancelled by shutdown rather than delaying it.
            await cancelWhenGracefulShutdown { await tick() }
        }
    }

    /// One pass; never throws.
    public func tick() async {
        do {
            try await indexer.indexPending()
        } catch is CancellationError {
            return
        } catch {
            logger.warning("embedding failed; recall uses words until the runtime answers",
                           metadata: ["smollama.recall.error": "\(error)"])
        }
    }
}
