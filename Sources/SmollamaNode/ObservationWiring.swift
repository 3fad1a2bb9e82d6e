import Foundation
import Logging
import ServiceLifecycle
import SmollamaCore
import SmollamaLLM
import SmollamaMind
import SmollamaMQTT
import SmollamaServer
import SmollamaStore

/// The observation loop of the daemon, from `observe:` and `llm:`: the model streams its tokens to
/// the dashboard's thought stream, each stored observation goes out on MQTT when a publisher runs.
enum ObservationWiring {
    static func service(runtime: NodeRuntime, clock: NodeClock, live: LivePublisher, mqtt: MQTTPublisher?,
                        logger: Logger) -> ServiceGroupConfiguration.ServiceConfiguration?
    {
        let config = runtime.config
        guard config.observe.enabled else {
            logger.info("observations off (observe.enabled: false)")
            return nil
        }
        let database = runtime.database
        let model = config.llm.makeChatModel(logger: logger)
        // Closed until the stored calibration report for this model says otherwise.
        let refresher = CalibrationWiring.Refresher(config: config, paths: runtime.paths, model: model,
                                                    now: { await clock.now() }, logger: logger)
        let gate = GatedNarrator(
            StreamingNarrator(model: model),
            decision: GateDecision.decide(.narration, model: model.model, digest: nil, report: nil, latest: nil,
                                          minScore: config.observe.minModelScore),
            refresh: { await refresher.refresh() })
        let loop = ObservationLoop(
            database: database, origin: runtime.identity.nodeID,
            builder: ObserveHistory.evidenceBuilder(runtime: runtime),
            narrator: gate,
            embedder: config.llm.makeEmbedder(logger: logger),
            memories: RecalledMemories(recall: MemoryWiring.recall(runtime: runtime, logger: logger), logger: logger),
            digest: ObserveHistory.digest(runtime: runtime),
            settings: ObservationLoopSettings(config: config.observe),
            stamp: { await clock.eventStamp() },
            thoughts: { event in
                switch event {
                case .reset: await live.publish(.thoughtReset)
                case .token(let token): await live.publish(.thought(token))
                }
            },
            published: { record in
                await mqtt?.publish(observation: MQTTPublisher.ObservationPayload(
                    text: record.text, kind: record.kind, subjects: record.subjects, timeMs: record.timeEnd))
            },
            logger: logger)
        let service = ObservationService(loop: loop, checkInterval: config.observe.checkInterval.duration) {
            await clock.now()
        }
        return .init(service: service, serviceName: "observations")
    }
}
