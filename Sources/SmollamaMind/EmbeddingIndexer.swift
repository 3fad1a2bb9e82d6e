public import Logging
public import ServiceLifecycle
public import SmollamaCore
public import SmollamaLLM
public import SmollamaStore
import AsyncAlgorithms
import Synchronization

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

/// Runs the indexer on an interval; a failing runtime is retried on the next tick. A node
/// without an embedding runtime must not fill its journal: the first failure is a warning, the
/// same failure again is a debug line with a warning at most once an hour (how long it has been
/// failing and how many passes), and the first pass that works again says so.
public struct EmbeddingService: Service {
    public let indexer: EmbeddingIndexer
    public let interval: Duration
    /// How often a runtime that keeps failing is warned about again.
    public static let reminder: Duration = .seconds(3600)
    let clock: ServiceClock
    let logger: Logger
    private let failing = FailingRuntime()

    struct Failing {
        var since: Duration
        var warned: Duration
        var passes: Int
    }

    /// Shared by copies of the service (a struct), so each tick sees the last one's state.
    final class FailingRuntime: Sendable {
        let state = Mutex<Failing?>(nil)
    }

    public init(indexer: EmbeddingIndexer, interval: Duration, clock: ServiceClock = .continuous, logger: Logger) {
        self.indexer = indexer
        self.interval = interval
        self.clock = clock
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
            let embedded = try await indexer.indexPending()
            if let was = failing.state.withLock({ state in defer { state = nil }; return state }) {
                logger.info("the embedding runtime answers again; recall uses meaning as well as words",
                            metadata: ["smollama.recall.embedded": "\(embedded)",
                                       "smollama.recall.failed_passes": "\(was.passes)"])
            }
        } catch is CancellationError {
            return
        } catch {
            let now = clock.now
            let warn = failing.state.withLock { state -> Failing? in
                guard var current = state else {
                    state = Failing(since: now, warned: now, passes: 1)
                    return state
                }
                current.passes += 1
                let due = now - current.warned >= Self.reminder
                if due { current.warned = now }
                state = current
                return due ? current : nil
            }
            if let warn, warn.passes == 1 {
                logger.warning("""
                    embedding failed; recall uses words until the runtime answers \
                    (retried every \(interval.components.seconds) s, reminded hourly)
                    """,
                               metadata: ["smollama.recall.error": "\(error)"])
            } else if let warn {
                logger.warning("embedding still failing; recall uses words until the runtime answers",
                               metadata: ["smollama.recall.error": "\(error)",
                                          "smollama.recall.failing_minutes": "\((now - warn.since).components.seconds / 60)",
                                          "smollama.recall.failed_passes": "\(warn.passes)"])
            } else {
                logger.debug("embedding failed again", metadata: ["smollama.recall.error": "\(error)"])
            }
        }
    }
}
