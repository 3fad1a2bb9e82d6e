import ArgumentParser
import Foundation
import SmollamaCore
import SmollamaNode
import SmollamaStore

/// `smollama doctor [--json]`: every check, ok/warn/fail, each with the command that fixes it.
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the store, disk, clock, daemon, LLM runtime, sensors, hub, MQTT and config.",
        discussion: "Exit code 0 when every check is ok, 1 with warnings, 2 with a failure.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the checks as JSON.") var json = false
    @Option(help: "Seconds to wait for the hub's answer.") var hubTimeout = 5

    func run() async throws {
        let report = try await userFacing {
            let runtime = try await global.openNode()
            return await DoctorReport.make(
                runtime: runtime, now: .now(), hubTimeout: .seconds(max(1, hubTimeout)), logger: quietLogger())
        }
        if json {
            try printJSON(report)
        } else {
            for check in report.checks {
                let mark = check.status == .ok ? "ok  " : check.status.rawValue.uppercased()
                print(Terminal.wrap(Terminal.inert(check.detail), head: "\(mark)  " + check.name.padding(toLength: 8, withPad: " ", startingAt: 0)))
                if let fix = check.fix { print(Terminal.wrap(Terminal.inert(fix), head: "              fix: ")) }
            }
        }
        if report.exitCode != 0 { throw ExitCode(report.exitCode) }
    }
}
