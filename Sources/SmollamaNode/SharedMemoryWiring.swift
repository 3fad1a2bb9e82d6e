import Logging
import ServiceLifecycle
import SmollamaCore
import SmollamaLLM
import SmollamaMem0
import SmollamaMind
import SmollamaServer
import SmollamaStore

/// The hub's shared memory: the mem0-compatible API (served by the dashboard's HTTP server under
/// `/mem0`) and, when configured, the bridge to an external mem0 server.
struct SharedMemoryWiring {
    var mounts: [RouteMount] = []
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = []

    init(runtime: NodeRuntime, clock: NodeClock, logger: Logger) {
        let config = runtime.config
        guard config.node.role == .llama else {
            if !config.mem0.apiKey.isEmpty || config.mem0.bridge.isEnabled {
                logger.notice("mem0: the API and bridge run on the hub (node.role: llama) only; ignored here")
            }
            return
        }
        let database = runtime.database
        let directory = DatabaseNodeDirectory(
            database: database, node: runtime.identity.nodeID, nodeName: config.node.name)
        if config.mem0.apiKey.isEmpty {
            logger.notice("mem0: API off (mem0.api_key is empty)")
        } else {
            let memory = SharedMemory(
                database: database, node: runtime.identity.nodeID, clock: clock, directory: directory,
                extractor: ModelFactExtractor(model: config.llm.makeChatModel(logger: logger)),
                searcher: RecallMemorySearcher(recall: MemoryWiring.recall(runtime: runtime, logger: logger)))
            mounts.append(Mem0API(memory: memory, config: config.mem0).mount)
            // The port is known only once the server listens (0 picks one): the path is logged here.
            logger.info("mem0: API served under the dashboard's address", metadata: ["smollama.path": "/mem0"])
        }
        if config.mem0.bridge.isEnabled {
            let bridge = Mem0Bridge(database: database, config: config.mem0.bridge, directory: directory, logger: logger)
            services.append(.init(service: bridge, serviceName: "mem0-bridge"))
        }
    }
}
