import Logging
public import SmollamaMind
public import SmollamaServer
import SmollamaCore
import SmollamaLLM
import SmollamaStore

/// The mind behind the hub's memory explorer and ask page (`HubMind`): the same recall engine as
/// `smollama recall` and the same `Asker` as `smollama ask`, over the hub's merged store.
public enum HubPageWiring {
    public static func mind(recall: Recall, asker: @escaping @Sendable () async -> Asker) -> HubMind {
        HubMind(
            search: { text, filter, topK in
                var query = RecallQuery(text: text, topK: topK)
                query.filter = filter
                return try await recall.rank(query).hits.map { HubMind.Hit(id: $0.row.ref, kind: $0.row.kind.rawValue, score: $0.score) }
            },
            ask: { question in
                let answer = try await asker().ask(question)
                return HubMind.Answer(question: answer.question, answer: answer.answer, citations: answer.citations,
                                      mode: answer.mode.rawValue, model: answer.model)
            })
    }

    /// The daemon's: recall with the configured embedder, ask with the model when it passed the
    /// routing part of `smollama models check`, else by rules (as `smollama ask` decides).
    static func mind(runtime: NodeRuntime, clock: NodeClock, logger: Logger) -> HubMind {
        mind(recall: MemoryWiring.recall(runtime: runtime, logger: logger, interactive: true), asker: {
            let gate = await CalibrationWiring.decisions(config: runtime.config, paths: runtime.paths, network: false,
                                                         logger: logger)
            let modelPassed = gate.first { $0.role == .routing }?.useModel ?? false
            return Asker(model: runtime.config.llm.makeChatModel(logger: logger),
                         tools: MemoryWiring.tools(runtime: runtime, clock: clock, logger: logger),
                         strategy: modelPassed ? .model : .rules, timeZone: runtime.config.node.timeZone, logger: logger)
        })
    }
}
