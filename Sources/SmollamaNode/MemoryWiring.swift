import Foundation
public import Logging
import ServiceLifecycle
import SmollamaCore
public import SmollamaLLM
public import SmollamaMind
public import SmollamaStore

/// Builds the mind's memory parts (recall, tools, reflection) for the daemon and the CLI.
public enum MemoryWiring {
    /// sqlite-vec's library: `memory.vec0_path`, else `SMOLLAMA_VEC0`, else setup's venv; nil when
    /// vector search is off or nothing is found (recall then scans exactly).
    public static func vectorExtension(config: NodeConfig, environment: [String: String]) -> String? {
        let memory = config.memory
        guard memory.embeddings, memory.vectorSearch != .off, memory.vectorSearch != .exact else { return nil }
        if !memory.vec0Path.isEmpty { return memory.vec0Path }
        return VectorExtension.locate(environment: environment, cacheDirectory: config.llm.resolvedCacheDirectory)
    }

    /// The embedder, when embeddings are on.
    public static func embedder(config: NodeConfig, logger: Logger) -> (any Embedder)? {
        config.memory.embeddings ? config.llm.makeEmbedder(logger: logger) : nil
    }

    public static func recall(runtime: NodeRuntime, logger: Logger) -> Recall {
        Recall(
            database: runtime.database, embedder: embedder(config: runtime.config, logger: logger),
            vectorSearch: runtime.config.memory.embeddings ? runtime.config.memory.vectorSearch : .off, logger: logger)
    }

    /// The tools over this node's store; stamps come from `clock`.
    public static func tools(runtime: NodeRuntime, clock: NodeClock, logger: Logger) -> MindTools {
        let indexer = embedder(config: runtime.config, logger: logger).map {
            EmbeddingIndexer(database: runtime.database, embedder: $0, logger: logger)
        }
        return MindTools(
            database: runtime.database, recall: recall(runtime: runtime, logger: logger),
            node: runtime.identity.nodeID, indexer: indexer, logger: logger,
            stamp: { await clock.stamp().stamp })
    }

    public static func reflection(runtime: NodeRuntime, clock: NodeClock, logger: Logger) -> Reflection {
        Reflection(
            database: runtime.database, node: runtime.identity.nodeID,
            settings: runtime.config.memory.reflectionSettings,
            phraser: runtime.config.memory.phraseWithLLM ? runtime.config.llm.makeChatModel(logger: logger) : nil,
            logger: logger, stamp: { await clock.stamp().stamp })
    }

    /// A clock for commands that write knowledge while (or without) the daemon running.
    public static func commandClock(runtime: NodeRuntime) async throws -> NodeClock {
        NodeClock(source: SystemClockSource(), persisted: try await runtime.database.maxIssuedTimestamp(),
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
