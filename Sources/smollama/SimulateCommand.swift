import ArgumentParser
import Foundation
import Logging
import SmollamaCore
import SmollamaNode
import SmollamaStore

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Fill a fresh store with the simulated house's history (compressed time).",
        discussion: "Generates readings for the configured simulated_house drivers from DAYS ago until now, "
            + "then brings rollups up to date. Only before live readings exist (use it right after init).")

    @OptionGroup var global: GlobalOptions
    @Option(help: "How many days of history to generate.") var days: Double = 7
    @Flag(help: "Print the result as JSON.") var json = false

    func validate() throws {
        guard days > 0, days <= 3660 else { throw ValidationError("--days must be between 0 and 3660") }
    }

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let context = runtime.driverContext(environment: global.environment, logger: Logger(label: "smollama"))
            let bar = Terminal.ProgressBar(label: "simulating")
            let started = Date()
            let count = try await Backfill.simulate(
                runtime: runtime, duration: Int64(days * 86_400_000), end: UTCMillis.now().rawValue,
                context: context
            ) { progress in
                if !json {
                    bar.update(fraction: Double(progress.done) / Double(max(1, progress.total)),
                               detail: "\(progress.readings) readings")
                }
            }
            if !json { bar.finish() }
            let seconds = Date().timeIntervalSince(started)
            struct Result: Encodable { var readings: Int; var days: Double; var seconds: Double }
            if json { return try printJSON(Result(readings: count, days: days, seconds: seconds)) }
            print("Wrote \(count) readings covering \(days) days in \(String(format: "%.1f", seconds)) s.")
        }
    }
}
