import Foundation
public import Logging
import ServiceLifecycle
import SmollamaCore
public import SmollamaLLM
public import SmollamaMind
public import SmollamaStore

/// Builds the mind's memory parts (recall, tools, reflection) for the daemon and the CLI.
public enum MemoryWiring {
    /// sqlite-vec's library when `vector_search: sqlite-vec` asks for it: `memory.vec0_path`, else
    /// `SMOLLAMA_VEC0`, else setup's venv. The default path (the in-memory index) needs none.
    public static func vectorExtension(config: NodeConfig, environment: [String: String]) -> String? {
        let memory = config.memory
        guard memory.embeddings, memory.vectorSearch == .sqliteVec else { return nil }
        if !memory.vec0Path.isEmpty { return memory.vec0Path }
        return VectorExtensionFile.locate(environment: environment, cacheDirectory: config.llm.resolvedCacheDirectory)
    }

    /// The embedder, when embeddings are on. `interactive`: one attempt, short timeout — a command
    /// falls back to words at once instead of waiting out the daemon's retry policy.
    public static func embedder(config: NodeConfig, logger: Logger, interactive: Bool = false) -> (any Embedder)? {
        guard config.memory.embeddings, config.memory.vectorSearch != .off else { return nil }
        var llm = config.llm
        if interactive {
            llm.retry.attempts = 1
            llm.timeouts.request = .seconds(20)
        }
        return llm.makeEmbedder(logger: logger)
    }

    public static func recall(runtime: NodeRuntime, logger: Logger, interactive: Bool = false, embeddings: Bool = true)
        -> Recall
    {
        Recall(
            database: runtime.database,
            embedder: embeddings ? embedder(config: runtime.config, logger: logger, interactive: interactive) : nil,
            vectorSearch: runtime.config.memory.embeddings ? runtime.config.memory.vectorSearch : .off, logger: logger)
    }

    /// The tools over this node's store; stamps come from `clock`.
    /// `embeddings: false` leaves vectors out (words only), e.g. when the runtime did not answer.
    public static func tools(
        runtime: NodeRuntime, clock: NodeClock, logger: Logger, interactive: Bool = true, embeddings: Bool = true
    ) -> MindTools {
        let indexer = (embeddings ? embedder(config: runtime.config, logger: logger, interactive: interactive) : nil).map {
            EmbeddingIndexer(database: runtime.database, embedder: $0, logger: logger)
        }
        return MindTools(
            database: runtime.database,
            recall: recall(runtime: runtime, logger: logger, interactive: interactive, embeddings: embeddings),
            node: runtime.identity.nodeID, indexer: indexer, logger: logger,
            stamp: { await clock.eventStamp() })
    }

    public static func reflection(runtime: NodeRuntime, clock: NodeClock, logger: Logger) -> Reflection {
        Reflection(
            database: runtime.database, node: runtime.identity.nodeID,
            settings: runtime.config.memory.reflectionSettings(timeZone: runtime.config.node.timeZone),
            phraser: runtime.config.memory.phraseWithLLM ? runtime.config.llm.makeChatModel(logger: logger) : nil,
            logger: logger, stamp: { await clock.eventStamp() })
    }

    /// A clock for commands that write knowledge while (or without) the daemon running.
    public static func commandClock(runtime: NodeRuntime) async throws -> NodeClock {
        NodeClock(source: SystemClockSource(), persisted: try await runtime.database.meta.maxIssuedTimestamp(),
                  policy: runtime.config.clock.policy)
    }

    /// The daemon's memory services: embedding indexer and reflection, as configured.
    static func services(runtime: NodeRuntime, clock: NodeClock, logger: Logger)
        -> [ServiceGroupConfiguration.ServiceConfiguration]
    {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        let memory = runtime.config.memory
        if let embedder = embedder(config: runtime.config, logger: logger) {
            let indexer = EmbeddingIndexer(database: runtime.database, embedder: embedder, logger: logger)
            services.append(.init(
                service: EmbeddingService(indexer: indexer, interval: memory.embeddingInterval.duration, logger: logger),
                serviceName: "embeddings"))
        }
        if memory.reflection {
            services.append(.init(
                service: ReflectionService(
                    reflection: reflection(runtime: runtime, clock: clock, logger: logger),
                    interval: memory.reflectionInterval.duration, logger: logger, now: { await clock.now() }),
                serviceName: "reflection"))
        }
        return services
    }
}
