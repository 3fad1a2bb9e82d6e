import ArgumentParser
import Foundation
import Logging
import SmollamaCore
import SmollamaLLM
import SmollamaMCP
import SmollamaMem0
import SmollamaMind
import SmollamaNode
import SmollamaStore

/// Parses `--since/--from/--to` as the MCP tools do (`ToolTime`): a duration back from now
/// (`24h`, `7d`), an ISO 8601 time, a date (UTC) or Unix milliseconds.
enum TimeArgument {
    static func parse(_ text: String, now: UTCMillis, option: String) throws -> UTCMillis {
        guard let time = ToolTime.parse(text, now: now) else {
            throw ValidationError(
                "\(option) '\(text)' is not a time: use a duration back from now (24h, 7d), an ISO 8601 time "
                    + "(2026-11-25T07:00:00Z), a date (2026-11-25) or Unix milliseconds")
        }
        return time
    }
}

/// The tools for a command. What the daemon has not embedded yet is embedded first; when the
/// embedding runtime does not answer, the tools fall back to words at once (one wait, not one per
/// query) and the reason is returned.
func commandTools(_ runtime: NodeRuntime, clock: NodeClock, logger: Logger) async -> (MindTools, String?) {
    let tools = MemoryWiring.tools(runtime: runtime, clock: clock, logger: logger)
    guard let indexer = tools.indexer else { return (tools, nil) }
    do {
        try await indexer.indexPending(limit: 2000)
        return (tools, nil)
    } catch {
        return (MemoryWiring.tools(runtime: runtime, clock: clock, logger: logger, embeddings: false), "\(error)")
    }
}

func quietLogger() -> Logger {
    var logger = Logger(label: "smollama")
    logger.logLevel = .error
    return logger
}

struct RecallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recall",
        abstract: "Search memories and observations (embeddings + words, ranked with recency and importance).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "What to look for.") var query: String
    @Option(help: "Only memories or only observations.") var kind: RecallKindArgument?
    @Option(name: .customLong("record-kind"), help: "Only this record kind (routine, fact, anomaly, …); repeatable.")
    var recordKinds: [String] = []
    @Option(help: "Only items about this sensor; repeatable.") var sensor: [String] = []
    @Option(help: "Only items from this node: its name (on the hub, as enrolled), id, or id prefix (6+ hex digits); repeatable.")
    var node: [String] = []
    @Option(help: "Only items since then: 24h, 7d, an ISO 8601 time or a date.") var since: String?
    @Flag(help: "Include memories that no longer hold (closed or superseded).") var all = false
    @Option(help: "How many hits.") var top = 5
    @Flag(help: "Print the result as JSON (the same shape the recall tool gives the model).") var json = false

    func validate() throws {
        guard top >= 1, top <= 100 else { throw ValidationError("--top must be between 1 and 100") }
    }

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let logger = quietLogger()
            let clock = try await MemoryWiring.commandClock(runtime: runtime)
            let (tools, problem) = await commandTools(runtime, clock: clock, logger: logger)
            // Node names (the hub's enrolled nodes, this node's own), ids or id prefixes → origins.
            let directory = DatabaseNodeDirectory(database: runtime.database, node: runtime.identity.nodeID,
                                                  nodeName: runtime.config.node.name)
            var origins: [NodeID] = []
            for name in node {
                let matched = await directory.nodes(matching: name)
                guard !matched.isEmpty else { throw CrossNodeRecall.Failure.unknownNode(name) }
                origins += matched
            }
            let query = RecallQuery(
                text: self.query, kinds: kind.map { [$0.kind] }, recordKinds: recordKinds.isEmpty ? nil : recordKinds,
                sensors: sensor.isEmpty ? nil : sensor, origins: node.isEmpty ? nil : origins,
                from: try since.map { try TimeArgument.parse($0, now: UTCMillis.now(), option: "--since") },
                validOnly: !all, topK: top)
            var output = try await tools.recall(query)
            output.vectorProblem = output.vectorProblem ?? problem
            if json { return print(try MindTools.json(output)) }
            if output.hits.isEmpty { print("Nothing found.") }
            for hit in output.hits {
                var line = String(format: "%.3f  ", hit.score) + "\(hit.type.prefix(3)) \(hit.id.prefix(8))  \(Terminal.inert(hit.text))"
                if hit.validTo != nil || hit.expiredAt != nil { line += "  [no longer holds]" }
                print(line)
            }
            if let problem = output.vectorProblem { print("(words only: \(problem))") }
        }
    }
}

enum RecallKindArgument: String, ExpressibleByArgument, CaseIterable {
    case memory, observation
    var kind: RecallItemKind { self == .memory ? .memory : .observation }
}

struct RememberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remember", abstract: "Store a fact as a memory (source: user).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The fact, in one or two sentences.") var text: String
    @Option(help: "Sensor the fact is about; repeatable (default: sensor keys named in the text).") var sensor: [String] = []
    @Flag(help: "Print the memory as JSON.") var json = false

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let clock = try await MemoryWiring.commandClock(runtime: runtime)
            let tools = MemoryWiring.tools(runtime: runtime, clock: clock, logger: quietLogger())
            let output = try await tools.remember(text, subjects: sensor.isEmpty ? nil : sensor)
            if json { return print(try MindTools.json(output)) }
            print("Remembered \(output.id.prefix(8))" + (output.subjects.isEmpty ? "" : " about \(output.subjects.joined(separator: ", "))")
                  + (output.embedded ? "." : " (embedding waits for the LLM runtime; words work now)."))
        }
    }
}

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "A sensor's rollups over a time range (5-minute buckets up to 2 days, hourly beyond).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Sensor key, e.g. hallway.motion.") var sensor: String
    @OptionGroup var other: NodeOption
    @Option(help: "Start: 24h (back from now), an ISO 8601 time, a date or Unix ms.") var from = "24h"
    @Option(help: "End (default: now).") var to: String?
    @Flag(help: "Print the history as JSON.") var json = false

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let clock = try await MemoryWiring.commandClock(runtime: runtime)
            let tools = MemoryWiring.tools(runtime: runtime, clock: clock, logger: quietLogger())
            let now = UTCMillis.now()
            let start = try TimeArgument.parse(from, now: now, option: "--from")
            let end = try to.map { try TimeArgument.parse($0, now: now, option: "--to") } ?? now
            let output = try await tools.history(sensor: sensor, from: start, to: end, node: try await other.resolve(runtime))
            if json { return print(try MindTools.json(output)) }
            let binary = output.kind == "binary"
            print("\(output.sensor) (\(output.name)) \(Terminal.timestamp(start)) … \(Terminal.timestamp(end)), \(output.resolution) buckets")
            print(Terminal.table(
                binary ? ["BUCKET", "READINGS", "TURNED ON", "ON (min)"] : ["BUCKET", "READINGS", "MIN", "MEAN", "MAX"],
                output.points.map { point in
                    binary
                        ? [Terminal.timestamp(point.start), "\(point.count)", "\(point.onCount ?? 0)",
                           String(format: "%.1f", Double(point.onDurationMs ?? 0) / 60_000)]
                        : [Terminal.timestamp(point.start), "\(point.count)", point.min.map { "\($0)" } ?? "",
                           point.mean.map { "\($0)" } ?? "", point.max.map { "\($0)" } ?? ""]
                }))
        }
    }
}

struct StateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "The latest value of sensors (all, or the ones named).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Sensor keys (default: all).") var sensors: [String] = []
    @Flag(help: "Print the state as JSON.") var json = false

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let clock = try await MemoryWiring.commandClock(runtime: runtime)
            let tools = MemoryWiring.tools(runtime: runtime, clock: clock, logger: quietLogger())
            let output = try await tools.currentState(sensors: sensors.isEmpty ? nil : sensors)
            if json { return print(try MindTools.json(output)) }
            print(Terminal.table(
                ["SENSOR", "VALUE", "AGE", "STATUS"],
                output.sensors.map { entry in
                    [entry.sensor, entry.value.map { "\($0) \(entry.unit)" } ?? "—",
                     entry.ageSeconds.map { Terminal.age(.seconds($0)) } ?? "", entry.status]
                }))
        }
    }
}

struct ReflectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reflect",
        abstract: "Turn routines, presence schedules and typical ranges in the rollups into memories now (the daemon does it daily).")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the report as JSON.") var json = false

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let clock = try await MemoryWiring.commandClock(runtime: runtime)
            let reflection = MemoryWiring.reflection(runtime: runtime, clock: clock, logger: quietLogger())
            try await runtime.database.readings.rollUpAll()
            let report = try await reflection.reflect(now: await clock.now())
            if json { return print(try MindTools.json(report)) }
            for pattern in report.patterns { print(pattern.templateText) }
            for schedule in report.schedules { print(schedule.text) }
            for range in report.ranges { print(range.text) }
            print("\(report.patterns.count) routines, \(report.schedules.count) schedules, \(report.ranges.count) typical ranges; "
                  + "\(report.created.count) new memories, \(report.refreshed.count) refreshed, "
                  + "\(report.closed.count) closed, \(report.superseded.count) superseded.")
        }
    }
}

struct AskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ask",
        abstract: "Ask about the home; the answer cites the memories and observations it used.",
        discussion: "A tool-capable model calls recall/history/current_state itself; otherwise a router picks "
            + "one and the model answers from what was retrieved. Unless the model passed `smollama models "
            + "check` (and with --rules, or when the model fails), the question's words pick the tools and "
            + "the answer is composed from their output.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The question.") var question: String
    @Flag(help: "Answer from the tools by rules, without the model.") var rules = false
    @Flag(help: "Print the answer, citations and tool calls as JSON.") var json = false

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let logger = quietLogger()
            let clock = try await MemoryWiring.commandClock(runtime: runtime)
            let (tools, _) = await commandTools(runtime, clock: clock, logger: logger)
            // A model that failed (or never took) the routing part of `smollama models check` does
            // not answer: the rules compose the answer from the tools.
            let gate = await CalibrationWiring.decisions(config: runtime.config, paths: runtime.paths, network: true,
                                                         logger: logger)
            let modelPassed = gate.first { $0.role == .routing }?.useModel ?? false
            let asker = Asker(
                model: runtime.config.llm.makeChatModel(logger: logger), tools: tools,
                strategy: rules || !modelPassed ? .rules : .model,
                timeZone: runtime.config.node.timeZone, logger: logger)
            let answer = try await asker.ask(question)
            if json { return print(try MindTools.json(answer)) }
            // The answer may quote other nodes' memories: shown inert like every such text.
            print(answer.answer.split(separator: "\n", omittingEmptySubsequences: false)
                .map { Terminal.inert(String($0)) }.joined(separator: "\n"))
            if !answer.citations.isEmpty {
                print("\nsources: " + answer.citations.map { String($0.prefix(8)) }.joined(separator: ", "))
            }
        }
    }
}
