import Foundation
public import Logging
public import SmollamaCore
public import SmollamaLLM

/// Passed / asked for one role.
public struct CalibrationScore: Codable, Sendable, Hashable {
    public var passed: Int
    public var total: Int

    public init(passed: Int, total: Int) {
        self.passed = passed
        self.total = total
    }

    public var share: Double { total == 0 ? 0 : Double(passed) / Double(total) }
}

/// What `smollama models check` measured for one model (name and digest): stored in the data dir
/// and read by the daemon, `status` and the dashboard to decide who writes.
public struct CalibrationReport: Codable, Sendable, Hashable {
    public struct TaskResult: Codable, Sendable, Hashable {
        public var id: String
        public var role: ModelRole
        public var passed: Bool
        /// What the model wrote (its first observation, or its route), or why it failed.
        public var detail: String
        public var seconds: Double
    }

    public var model: String
    /// The runtime's digest of the model (or its file's size and time): a new one needs a new check.
    public var digest: String
    /// Node-clock milliseconds of the check.
    public var checkedAt: UTCMillis
    public var narration: CalibrationScore
    public var routing: CalibrationScore
    public var results: [TaskResult]
    public var seconds: Double

    public init(model: String, digest: String, checkedAt: UTCMillis, narration: CalibrationScore, routing: CalibrationScore,
                results: [TaskResult], seconds: Double) {
        self.model = model
        self.digest = digest
        self.checkedAt = checkedAt
        self.narration = narration
        self.routing = routing
        self.results = results
        self.seconds = seconds
    }

    public func score(_ role: ModelRole) -> CalibrationScore { role == .narration ? narration : routing }

    /// This report with `role`'s score and results taken from `other` (a check of one role keeps
    /// the other role's earlier result for the same model and digest).
    public func keeping(_ role: ModelRole, from other: CalibrationReport) -> CalibrationReport {
        var merged = self
        if role == .narration { merged.narration = other.narration } else { merged.routing = other.routing }
        merged.results = other.results.filter { $0.role == role } + results.filter { $0.role != role }
        return merged
    }
}

/// What a model may do once calibrated.
public enum ModelRole: String, Codable, Sendable, Hashable, CaseIterable {
    /// Writing observations from evidence.
    case narration
    /// Picking the tool that answers an `ask` question.
    case routing
}

/// Runs the calibration set through a chat model: each narration task is the observation prompt of
/// its packet (the loop's own prompt and schema); a task passes when every draft verifies and the
/// first names the task's room and, for a level, the direction of the change. Each routing question
/// passes when the router picks the known tool (and sensor).
public struct CalibrationRunner: Sendable {
    public let model: any ChatModel
    public var maxCompletionTokens: Int
    let logger: Logger

    public init(model: any ChatModel, maxCompletionTokens: Int = 200, logger: Logger) {
        self.model = model
        self.maxCompletionTokens = maxCompletionTokens
        self.logger = logger
    }

    /// The first `limit` tasks of each role (all with nil). Throws only when the runtime cannot
    /// be reached: a model that is down is not a model that failed.
    /// `roles`: the parts to run (both by default).
    public func run(limit: Int? = nil, roles: Set<ModelRole> = Set(ModelRole.allCases), digest: String, now: UTCMillis,
                    progress: @escaping @Sendable (CalibrationReport.TaskResult) async -> Void = { _ in })
        async throws -> CalibrationReport
    {
        let started = ContinuousClock.now
        var results: [CalibrationReport.TaskResult] = []
        for task in CalibrationSet.narration.prefix(roles.contains(.narration) ? limit ?? .max : 0) {
            let result = try await narrate(task)
            results.append(result)
            await progress(result)
        }
        let router = AskRouter(model: model, logger: logger)
        let sensors = CalibrationSet.sensors.keys.map(\.rawValue).sorted()
        for task in CalibrationSet.routing.prefix(roles.contains(.routing) ? limit ?? .max : 0) {
            let clock = ContinuousClock.now
            var result = CalibrationReport.TaskResult(id: task.id, role: .routing, passed: false, detail: "", seconds: 0)
            do {
                let route = try await router.decide(task.question, sensors: sensors)
                result.passed = route.tool == task.tool && (task.sensor == nil || route.sensor == task.sensor)
                result.detail = "\(route.tool) \(route.sensor)"
            } catch let error as LLMError where Self.aborts(error) {
                throw error
            } catch {
                result.detail = "\(error)"
            }
            result.seconds = ObservationLoop.seconds(ContinuousClock.now - clock)
            results.append(result)
            await progress(result)
        }
        func score(_ role: ModelRole) -> CalibrationScore {
            let mine = results.filter { $0.role == role }
            return CalibrationScore(passed: mine.filter(\.passed).count, total: mine.count)
        }
        return CalibrationReport(
            model: model.model, digest: digest, checkedAt: now, narration: score(.narration), routing: score(.routing),
            results: results, seconds: ObservationLoop.seconds(ContinuousClock.now - started))
    }

    func narrate(_ task: NarrationTask) async throws -> CalibrationReport.TaskResult {
        let started = ContinuousClock.now
        var result = CalibrationReport.TaskResult(id: task.id, role: .narration, passed: false, detail: "", seconds: 0)
        let prompt = ObservationPrompt.build(packet: task.packet, recent: [], memories: [], maxTokens: 600)
        let request = ChatRequest(
            messages: prompt.messages, format: .jsonSchema(name: "observations", schema: prompt.schema),
            options: .init(temperature: 0, maxTokens: maxCompletionTokens, seed: 1))
        do {
            let reply = try decodeStructured(ObservationReply.self, from: try await model.chat(request).text)
            result.detail = reply.observations.first?.text ?? "no observations"
            let verdicts = ObservationVerifier().verify(reply: reply.observations, against: task.packet)
            if let failure = verdicts.compactMap(\.failure).first {
                result.detail = "refused: \(failure)"
            } else if let first = reply.observations.first {
                if let missing = Self.content(first.text, task: task) {
                    result.detail = "\(missing): \(first.text)"
                } else {
                    result.passed = true
                }
            }
        } catch let error as LLMError where Self.aborts(error) {
            throw error
        } catch {
            result.detail = "\(error)"
        }
        result.seconds = ObservationLoop.seconds(ContinuousClock.now - started)
        return result
    }

    /// Errors that end the check without a report: nobody answers. A timeout is the model being
    /// too slow for the task, so it fails that task instead.
    static func aborts(_ error: LLMError) -> Bool {
        if case .timeout = error { return false }
        return ObservationLoop.isRuntimeDown(error)
    }

    static let upWords: Set<String> = ["above", "higher", "high", "warmer", "warm", "rose", "risen", "rising", "up",
                                       "more", "increase", "increased", "brighter", "humid", "stuffy", "exceeds"]
    static let downWords: Set<String> = ["below", "lower", "low", "cooler", "cool", "colder", "cold", "fell", "fallen",
                                         "dropped", "down", "less", "decrease", "decreased", "darker", "dim", "dry"]

    /// What the sentence fails to say: the room, or the direction of a level's change (nil: both said).
    public static func content(_ text: String, task: NarrationTask) -> String? {
        let lower = text.lowercased()
        let room = task.room.lowercased()
        guard lower.contains(room) || lower.contains(room.replacingOccurrences(of: " ", with: "")) else {
            return "does not name the \(task.room)"
        }
        let words = Set(lower.split { !$0.isLetter }.map(String.init))
        let up = !words.isDisjoint(with: upWords)
        let down = !words.isDisjoint(with: downWords)
        switch task.direction {
        case .up where !up || down: return "does not say the level is up"
        case .down where !down || up: return "does not say the level is down"
        default: return nil
        }
    }
}

/// The reports of `smollama models check`, one file in the data dir (`calibration.json`): the
/// newest report per model and digest.
public struct CalibrationStore: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public func load() throws -> [CalibrationReport] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        do {
            return try JSONDecoder().decode([CalibrationReport].self, from: data)
        } catch {
            throw CalibrationStoreError(path: path, reason: "\(error)")
        }
    }

    /// Keeps the newest report per (model, digest), at most 20.
    public func save(_ report: CalibrationReport) throws {
        var reports = (try? load()) ?? []
        reports.removeAll { $0.model == report.model && $0.digest == report.digest }
        reports.append(report)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(Array(reports.suffix(20))).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    public func report(model: String, digest: String) -> CalibrationReport? {
        ((try? load()) ?? []).last { $0.model == model && $0.digest == digest }
    }

    public func latest(model: String) -> CalibrationReport? {
        ((try? load()) ?? []).filter { $0.model == model }.max { $0.checkedAt < $1.checkedAt }
    }
}

public struct CalibrationStoreError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String {
        "\(path) is not a calibration file (\(reason)); delete it and run `smollama models check` again"
    }
}

/// Whether the model writes for a role, and the sentence `status` and the dashboard show for it.
public struct GateDecision: Codable, Sendable, Hashable {
    public var role: ModelRole
    public var model: String
    public var useModel: Bool
    public var reason: String
    public var score: CalibrationScore?

    /// Decides from the report for the model's current digest: the model writes for a role only
    /// when it passed at least `minScore` of that role's tasks.
    public static func decide(_ role: ModelRole, model: String, digest: String?, report: CalibrationReport?,
                              latest: CalibrationReport?, minScore: Double) -> GateDecision {
        let what = role == .narration ? "observations written by" : "`ask` routed by"
        let tasks = role == .narration ? "narration tasks verified" : "routing questions answered"
        guard let report, let digest, report.digest == digest else {
            let why = latest == nil ? "not checked yet" : "changed since its check"
            return GateDecision(role: role, model: model, useModel: false,
                                reason: "\(model): \(why) — \(what) rules until `smollama models check` passes")
        }
        let score = report.score(role)
        let passed = score.total > 0 && score.share >= minScore
        var reason = "\(model): \(score.passed)/\(score.total) \(tasks) — \(what) \(passed ? "the model" : "rules")"
        if !passed { reason += "; a ≥0.5B instruct model is recommended" }
        return GateDecision(role: role, model: model, useModel: passed, reason: reason, score: score)
    }
}

/// The loop's narrator behind the calibration gate: the model writes only while the decision for
/// `narration` says so; otherwise the loop writes by rules without asking it.
/// With a refresh hook, the decision is looked at again when the loop first asks and every
/// `refreshEvery` after (the hook reads the stored report, and may start a check of a new model).
public actor GatedNarrator: ObservationNarrator {
    let inner: any ObservationNarrator
    public private(set) var decision: GateDecision
    let refreshEvery: Duration
    let refresh: (@Sendable () async -> GateDecision?)?
    private var lastRefresh: ContinuousClock.Instant?

    public init(_ inner: any ObservationNarrator, decision: GateDecision, refreshEvery: Duration = .seconds(60),
                refresh: (@Sendable () async -> GateDecision?)? = nil) {
        self.inner = inner
        self.decision = decision
        self.refreshEvery = refreshEvery
        self.refresh = refresh
    }

    public func trusted() async -> Bool {
        let now = ContinuousClock.now
        if let refresh, lastRefresh.map({ now - $0 >= refreshEvery }) ?? true {
            lastRefresh = now
            if let fresh = await refresh() { decision = fresh }
        }
        return decision.useModel
    }

    public nonisolated func narrate(_ request: ChatRequest, onToken: @escaping @Sendable (String) async -> Void)
        async throws -> ChatResponse
    {
        try await inner.narrate(request, onToken: onToken)
    }
}
