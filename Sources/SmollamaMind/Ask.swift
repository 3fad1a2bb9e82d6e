public import Foundation
public import Logging
import SmollamaCore
public import SmollamaLLM
import SmollamaStore

/// An answer with the observation/memory ids it rests on.
public struct AskAnswer: Codable, Sendable, Hashable {
    public enum Mode: String, Codable, Sendable, Hashable {
        /// The model called tools itself (it has the tools capability).
        case tools
        /// A constrained-JSON router picked one tool; the model answered from its output.
        case router
        /// No model (or it failed): the question's words picked the tools and the answer was composed
        /// from their output (`RulesAnswerer`).
        case rules
        /// Neither the model nor the rules could answer; the retrieved items are the answer.
        case retrieval
    }

    public struct Call: Codable, Sendable, Hashable {
        public var name: String
        /// The arguments as JSON text.
        public var arguments: String
        public var failed: Bool
    }

    public var question: String
    public var answer: String
    /// Ids of the memories/observations the answer was given (and cites).
    public var citations: [String]
    public var mode: Mode
    public var toolCalls: [Call]
    public var model: String
}

/// Who answers `ask`: the model (falling back to rules when its call fails), or the rules alone
/// (for a model that failed calibration, or none at all).
public enum AskStrategy: String, Codable, Sendable, Hashable {
    case model
    case rules
}

/// `smollama ask`: with a tool-capable model, a bounded tool loop; otherwise the router path
/// (retrieve first, answer from the retrieved context). With `.rules`, or when the model call
/// fails, `RulesAnswerer` composes the answer from the tools without a model.
public struct Asker: Sendable {
    public let model: any ChatModel
    public let tools: MindTools
    public var strategy: AskStrategy
    /// Local time of the node, for the rules' "last night", "today" and the times they print.
    public var timeZone: TimeZone
    /// Most tool rounds before the model must answer.
    public var maxToolRounds: Int
    /// Most tokens of an answer.
    public var maxAnswerTokens: Int
    /// False when the model failed the routing part of calibration: questions go to recall
    /// without asking it to pick a tool.
    public var routeWithModel = true
    let logger: Logger

    public init(model: any ChatModel, tools: MindTools, strategy: AskStrategy = .model, timeZone: TimeZone = LocalClock.utc,
                maxToolRounds: Int = 4, maxAnswerTokens: Int = 200, logger: Logger) {
        self.model = model
        self.tools = tools
        self.strategy = strategy
        self.timeZone = timeZone
        self.maxToolRounds = maxToolRounds
        self.maxAnswerTokens = maxAnswerTokens
        self.logger = logger
    }

    static let system = """
        You answer questions about a home from its sensors' records. Use only the given facts. \
        Be brief. Cite the ids of the records you used in square brackets, like [id].
        """

    public func ask(_ question: String) async throws -> AskAnswer {
        let trimmed = question.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw MindToolError.emptyText }
        let rules = RulesAnswerer(tools: tools, timeZone: timeZone)
        guard strategy == .model else { return try await rules.answer(trimmed) }
        do {
            let capabilities = (try? await model.modelInfo(nil).capabilities) ?? []
            if capabilities.contains(.tools) {
                return try await toolLoop(trimmed)
            }
            return try await routed(trimmed)
        } catch let error as LLMError {
            logger.warning("the model could not answer; answering by rules", metadata: ["smollama.ask.error": "\(error)"])
            return try await rules.answer(trimmed)
        }
    }

    // MARK: - Tool loop

    func toolLoop(_ question: String) async throws -> AskAnswer {
        var messages: [ChatMessage] = [.system(Self.system), .user(question)]
        var calls: [AskAnswer.Call] = []
        var citations: [String] = []
        for round in 0...maxToolRounds {
            let offerTools = round < maxToolRounds
            let response = try await model.chat(ChatRequest(
                messages: messages, tools: offerTools ? MindTools.definitions : [],
                options: .init(temperature: 0, maxTokens: maxAnswerTokens, seed: 42)))
            let requested = response.message.toolCalls
            guard offerTools, !requested.isEmpty else {
                return AskAnswer(
                    question: question, answer: response.text.trimmingCharacters(in: .whitespacesAndNewlines),
                    citations: Self.cited(in: response.text, from: citations), mode: .tools, toolCalls: calls,
                    model: response.model)
            }
            messages.append(ChatMessage(role: .assistant, content: response.text, toolCalls: requested))
            for call in requested {
                let output = await tools.execute(call)
                calls.append(.init(name: call.name, arguments: call.arguments.jsonString, failed: output.failed))
                for id in output.citations where !citations.contains(id) { citations.append(id) }
                messages.append(.tool(output.content, name: call.name, callID: call.id))
            }
        }
        throw LLMError.unsupported("the tool loop ended without an answer")  // unreachable: the last round offers no tools
    }

    // MARK: - Router

    func route(_ question: String, sensors: [String]) async -> AskRouter.Route {
        await AskRouter(model: model, logger: logger).route(question, sensors: sensors)
    }

    func routed(_ question: String) async throws -> AskAnswer {
        let sensors = try await tools.database.readings.registeredSensors().map(\.descriptor.id.rawValue).sorted()
        let route = routeWithModel ? await route(question, sensors: sensors) : AskRouter.Route(tool: "recall", sensor: "none")
        let sensor = sensors.contains(route.sensor) ? route.sensor : nil
        var calls: [AskAnswer.Call] = []
        var context: [String] = []
        var citations: [String] = []

        // Recall always contributes: memories make sense of any number.
        let recallCall = ToolCall(name: "recall", arguments: ["query": .string(question)])
        let recalled = try await tools.recall(RecallQuery(text: question, topK: route.tool == "recall" ? 4 : 2))
        calls.append(.init(name: "recall", arguments: recallCall.arguments.jsonString, failed: false))
        for hit in recalled.hits {
            context.append("[\(hit.id)] \(hit.text)")
            citations.append(hit.id)
        }
        switch route.tool {
        case "current_state":
            let state = try await tools.currentState(sensors: sensor.map { [$0] })
            calls.append(.init(name: "current_state", arguments: sensor.map { "{\"sensors\":[\"\($0)\"]}" } ?? "{}", failed: false))
            for entry in state.sensors.prefix(12) {
                let value = entry.value.map { Self.number($0) } ?? "no reading"
                context.append("now: \(entry.sensor) = \(value)\(entry.unit.isEmpty ? "" : " " + entry.unit) (\(entry.status))")
            }
        case "history" where sensor != nil:
            if let sensor {
                let end = tools.now()
                let history = try await tools.history(sensor: sensor, from: end - .seconds(86_400), to: end)
                calls.append(.init(name: "history", arguments: "{\"hours\":24,\"sensor\":\"\(sensor)\"}", failed: false))
                if history.kind == "binary" {
                    context.append("last 24 h: \(sensor) turned on \(history.onCount ?? 0) times, on for "
                        + "\((history.onDurationMs ?? 0) / 60_000) minutes")
                } else if let mean = history.mean, let low = history.min, let high = history.max {
                    context.append("last 24 h: \(sensor) min \(Self.number(low)), mean \(Self.number(mean)), max \(Self.number(high)) \(history.unit)")
                }
            }
        default:
            break
        }

        let facts = context.isEmpty ? "(nothing recorded)" : context.joined(separator: "\n")
        let response = try await model.chat(ChatRequest(
            messages: [.system(Self.system), .user("Facts:\n\(facts)\n\nQuestion: \(question)")],
            options: .init(temperature: 0, maxTokens: maxAnswerTokens, seed: 42)))
        let answer = response.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return AskAnswer(
            question: question, answer: answer.isEmpty ? facts : answer,
            citations: Self.cited(in: answer, from: citations), mode: .router, toolCalls: calls,
            model: response.model)
    }

    /// The ids the answer names; when it names none, every id it was given (the context used).
    static func cited(in answer: String, from available: [String]) -> [String] {
        let named = available.filter { answer.contains($0) || answer.contains(String($0.prefix(8))) }
        return named.isEmpty ? available : named
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}

/// The router of `ask` without a tools-capable model: one constrained-JSON call that picks the
/// tool (recall, history, current_state) and the sensor a question is about. Calibration scores it.
public struct AskRouter: Sendable {
    public struct Route: Decodable, Sendable, Hashable {
        public var tool: String
        public var sensor: String

        public init(tool: String, sensor: String) {
            self.tool = tool
            self.sensor = sensor
        }
    }

    public let model: any ChatModel
    let logger: Logger

    public init(model: any ChatModel, logger: Logger) {
        self.model = model
        self.logger = logger
    }

    /// The model's route, or recall when the model fails.
    public func route(_ question: String, sensors: [String]) async -> Route {
        do {
            return try await decide(question, sensors: sensors)
        } catch {
            logger.info("router failed; recalling", metadata: ["smollama.ask.error": "\(error)"])
            return Route(tool: "recall", sensor: "none")
        }
    }

    /// Asks the model (JSON constrained to the known tools and sensors) which tool answers the question.
    public func decide(_ question: String, sensors: [String]) async throws -> Route {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "tool": ["type": "string", "enum": ["recall", "history", "current_state"]],
                "sensor": ["type": "string", "enum": .array((sensors + ["none"]).map { .string($0) })],
            ],
            "required": ["tool", "sensor"],
            "additionalProperties": false,
        ]
        return try await model.generate(
            Route.self, schema: schema, name: "route",
            messages: [
                .system("""
                    Pick the tool for the question. recall: routines, habits, what is usual, remembered facts, \
                    past events. current_state: what a sensor reads right now. history: how a sensor changed \
                    over recent hours. Sensor: the one the question is about, or none.
                    """),
                .user(question),
            ], options: .deterministic(maxTokens: 40))
    }
}
