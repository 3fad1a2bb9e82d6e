import ArgumentParser
import Foundation
import SmollamaCore
import SmollamaNode
import SmollamaStore

/// `smollama sensors` shows the sensors (the default); `smollama sensors detect` finds hardware.
struct SensorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensors",
        abstract: "Show the node's sensors, find sensors attached to this machine, or list what a broker's devices announce.",
        subcommands: [SensorsShowCommand.self, SensorsDetectCommand.self, SensorsDiscoverCommand.self],
        defaultSubcommand: SensorsShowCommand.self)
}

struct SensorsShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show each sensor's latest value, its age and the last hour's min/mean/max.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var other: NodeOption
    @Flag(help: "Redraw every few seconds until Ctrl-C.") var watch = false
    @Flag(help: "Print as JSON.") var json = false

    func validate() throws {
        if watch && json { throw ValidationError("--watch and --json do not go together; use one") }
    }

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let node = try await other.resolve(runtime)
            repeat {
                let now = UTCMillis.now()
                let sensors = if let node {
                    try await runtime.database.hubReadings.sensorSummaries(node: node, now: now)
                } else {
                    try await runtime.database.sensorSummaries(now: now)
                }
                if json { return try printJSON(sensors) }
                // Another node's sensors are simulated as that node reported at its handshake.
                let simulated = Set(sensors.filter(\.simulated).map(\.sensor.id.rawValue))
                if watch { print("\u{1B}[H\u{1B}[2J", terminator: "") }
                print(render(sensors, simulated: simulated, now: now))
                if watch { try await Task.sleep(for: .seconds(2)) }
            } while watch
        }
    }

    /// "3 refused: <last reason>" or the fault's reason; empty when all is well.
    static func problem(_ summary: SensorSummary) -> String {
        let reason = summary.lastError ?? ""
        if summary.status != "ok" { return reason }
        guard summary.rejectedCount > 0 else { return "" }
        return "\(summary.rejectedCount) refused" + (reason.isEmpty ? "" : ": \(reason)")
    }

    func render(_ sensors: [SensorSummary], simulated: Set<String>, now: UTCMillis) -> String {
        guard !sensors.isEmpty else { return "No sensors yet: start the daemon with `smollama run`." }
        let rows = sensors.map { summary -> [String] in
            let unit = summary.sensor.unit
            let binary = summary.sensor.kind == .binary
            let value = summary.lastValue.map { binary ? ($0 == 1 ? "on" : "off") : Terminal.value($0, unit: unit) } ?? "—"
            let age = summary.lastTime.map { Terminal.age(now - $0) } ?? "—"
            var hour = "—"
            if binary {
                hour = ""
            } else if let low = summary.hourMin, let mean = summary.hourMean, let high = summary.hourMax {
                hour = [low, mean, high].map { Terminal.value($0, unit: unit == "B" ? unit : "") }.joined(separator: "/")
            }
            let status = (summary.status == "ok" ? "" : " FAULTY") + (simulated.contains(summary.sensor.id.rawValue) ? " (sim)" : "")
            return [summary.sensor.id.rawValue + status, value, age, hour, Self.problem(summary)]
        }
        // The PROBLEM column only when a sensor has one (a fault, or payloads it refused).
        let showProblems = rows.contains { !$0[4].isEmpty }
        let table = showProblems
            ? Terminal.table(["SENSOR", "VALUE", "AGE", "1H MIN/MEAN/MAX", "PROBLEM"], rows)
            : Terminal.table(["SENSOR", "VALUE", "AGE", "1H MIN/MEAN/MAX"], rows.map { Array($0.prefix(4)) })
        guard !simulated.isEmpty else { return table }
        return table + "\n(sim): made up by the simulated house, not measured"
    }
}
