import ArgumentParser
import Foundation
import SmollamaCore
import SmollamaMind
import SmollamaNode
import SmollamaStore
import SmollamaLLM

struct ObserveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observe",
        abstract: "Observe past windows (e.g. imported history), then reflect them into memories.",
        discussion: """
            Runs the observation pipeline (evidence, model or rules, verification, dedup) over each \
            observe.interval window between --from and --to, then reflection at each day's end. \
            Times are ISO 8601 (2026-03-01, 2026-03-01T08:00, …Z) in this machine's time zone \
            unless they carry an offset. The model writes while it answers within \
            observe.backfill_model_budget; --rules uses rules only.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "Start of the range.") var from: String
    @Option(help: "End of the range (default: now).") var to: String?
    @Flag(help: "Write with rules only, without asking the model.") var rules = false
    @Flag(help: "Print the report as JSON.") var json = false

    static func time(_ text: String, option: String) throws -> UTCMillis {
        let parser = ImportTimeParser(timezone: .current)
        let full = text.count == 10 ? text + "T00:00" : text
        do {
            return try parser.parse(full)
        } catch {
            throw ValidationError("--\(option) '\(text)' is not a time: use 2026-03-01, 2026-03-01T08:00 or 2026-03-01T08:00Z")
        }
    }

    func run() async throws {
        try await userFacing {
            let start = try Self.time(from, option: "from")
            let end = try to.map { try Self.time($0, option: "to") } ?? UTCMillis.now()
            guard start < end else { throw ValidationError("--from must be before --to") }
            let runtime = try await global.openNode()
            _ = try await runtime.areas()  // an unknown sensor in `areas:` is an error before any window
            let logger = quietLogger()
            let clock = try await MemoryWiring.commandClock(runtime: runtime)
            try await runtime.database.readings.rollUpAll()
            let observe = runtime.config.observe
            let narrator: (any ObservationNarrator)? = rules ? nil : SlowModelGuard(
                StreamingNarrator(model: runtime.config.llm.makeChatModel(logger: logger)),
                budget: observe.backfillModelBudget.duration)
            let loop = ObserveHistory.loop(runtime: runtime, clock: clock, narrator: narrator, logger: logger)
            let reflection = runtime.config.memory.reflection
                ? MemoryWiring.reflection(runtime: runtime, clock: clock, logger: logger) : nil
            let bar = Terminal.ProgressBar(label: "observing")
            let report = try await ObserveHistory.observe(
                loop: loop, reflection: reflection, from: start, to: end, interval: observe.interval.duration
            ) { done, total in
                if !json { bar.update(fraction: Double(done) / Double(max(1, total)), detail: "\(done)/\(total) windows") }
            }
            if !json { bar.finish() }
            if json { return try printJSON(report) }
            let stored = report.stored.sorted { $0.key < $1.key }.map { "\($0.value) by \($0.key)" }
            print("Observed \(report.windows) windows from \(Terminal.timestamp(start)) to \(Terminal.timestamp(end)).")
            print("Observations: \(stored.isEmpty ? "none new" : stored.joined(separator: ", ")), "
                  + "\(report.merged) merged into earlier ones.")
            if report.digests > 0 { print("Daily digests: \(report.digests) new.") }
            if report.modelFallbacks > 0 {
                print("The model failed or was too slow on \(report.modelFallbacks) windows: rules wrote them.")
            }
            print("Memories: \(report.memoriesCreated) new, \(report.memoriesRefreshed) refreshed, "
                  + "\(report.memoriesClosed) closed.")
        }
    }
}
