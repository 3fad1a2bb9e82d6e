import Foundation
public import SmollamaCore
public import Logging
public import SmollamaLLM
public import SmollamaMind

/// Where calibration reports live and how the node decides who writes: the configured chat model
/// for the roles it passed (`observe.min_model_score`), rules otherwise. A model whose digest
/// changed is checked again.
public enum CalibrationWiring {
    public static func store(_ paths: SmollamaPaths) -> CalibrationStore {
        CalibrationStore(path: paths.dataDirectory + "/calibration.json")
    }

    /// The model's identity beyond its name: the runtime's digest (Ollama), else the GGUF file's
    /// size and modification time (llama-server), else nil when neither can be had. `network`:
    /// whether asking the runtime is allowed.
    public static func digest(config: LLMConfig, network: Bool, logger: Logger) async -> String? {
        if config.backend == .openai, let stamp = fileStamp(config.chatModelPath) { return stamp }
        guard network else { return nil }
        let models = try? await ModelManager(config: config, logger: logger).list()
        guard let model = models?.first(where: { $0.name == config.chatModel || $0.name.hasPrefix(config.chatModel + ":") })
        else { return nil }
        return model.digest ?? model.sizeBytes.map { "size:\($0)" }
    }

    static func fileStamp(_ path: String) -> String? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? NSNumber else { return nil }
        let modified = (attributes[.modificationDate] as? Date).map { Int64($0.timeIntervalSince1970) } ?? 0
        return "file:\(size.int64Value)-\(modified)"
    }

    /// The decision for each role from the stored reports.
    public static func decisions(config: NodeConfig, paths: SmollamaPaths, network: Bool, logger: Logger) async
        -> [GateDecision]
    {
        let store = store(paths)
        let model = config.llm.chatModel
        let digest = await digest(config: config.llm, network: network, logger: logger)
        let report = digest.flatMap { store.report(model: model, digest: $0) }
        let latest = store.latest(model: model)
        return ModelRole.allCases.map { role in
            GateDecision.decide(role, model: model, digest: digest ?? latest?.digest, report: report ?? latest,
                                latest: latest, minScore: config.observe.minModelScore)
        }
    }

    /// Who writes observations, as the dashboard shows it (no network call).
    public static func writer(config: NodeConfig, paths: SmollamaPaths, logger: Logger) async -> String? {
        await decisions(config: config, paths: paths, network: false, logger: logger)
            .first { $0.role == .narration }?.reason
    }

    /// Keeps the loop's gate current: reads the stored report for the model's digest; with none
    /// (a new or changed model) and `observe.calibrate` on, runs the full check once in the
    /// background and stores it (the gate reads it at its next refresh). Rules write meanwhile.
    public actor Refresher {
        let config: NodeConfig
        let paths: SmollamaPaths
        let model: any ChatModel
        let now: @Sendable () async -> UTCMillis
        let logger: Logger
        private var checking: Task<Void, Never>?
        private var checkedDigests: Set<String> = []
        private var last: GateDecision?
        /// After a failed check (runtime down), the next one waits this long.
        private var quietUntil: ContinuousClock.Instant?

        public init(config: NodeConfig, paths: SmollamaPaths, model: any ChatModel,
                    now: @escaping @Sendable () async -> UTCMillis, logger: Logger) {
            self.config = config
            self.paths = paths
            self.model = model
            self.now = now
            self.logger = logger
        }

        public func refresh() async -> GateDecision? {
            let decisions = await CalibrationWiring.decisions(config: config, paths: paths, network: true, logger: logger)
            guard let narration = decisions.first(where: { $0.role == .narration }) else { return nil }
            if last != narration {
                logger.info("observation writer", metadata: ["smollama.observe.writer": "\(narration.reason)"])
                last = narration
            }
            let digest = await CalibrationWiring.digest(config: config.llm, network: true, logger: logger)
            if config.observe.calibrate, narration.score == nil, checking == nil, let digest,
               !checkedDigests.contains(digest), quietUntil.map({ ContinuousClock.now >= $0 }) ?? true {
                start(digest: digest)
            }
            return narration
        }

        private func start(digest: String) {
            checkedDigests.insert(digest)
            let runner = CalibrationRunner(model: model, maxCompletionTokens: config.observe.maxCompletionTokens,
                                           logger: logger)
            let store = CalibrationWiring.store(paths)
            let now = self.now
            logger.info("checking the chat model before it writes observations (as `smollama models check`)",
                        metadata: ["smollama.model": "\(model.model)"])
            checking = Task {
                do {
                    let report = try await runner.run(digest: digest, now: await now())
                    try store.save(report)
                    self.finished(digest: digest, error: nil)
                } catch {
                    self.finished(digest: digest, error: error)
                }
            }
        }

        private func finished(digest: String, error: (any Error)?) {
            checking = nil
            guard let error else { return }
            checkedDigests.remove(digest)  // the runtime was down: try again in 10 minutes
            quietUntil = ContinuousClock.now + .seconds(600)
            logger.warning("model check failed; observations stay with rules", metadata: ["smollama.error": "\(error)"])
        }
    }
}
