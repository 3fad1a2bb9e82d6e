import ArgumentParser
import Foundation
import SmollamaCore
import SmollamaLLM
import SmollamaMind
import SmollamaMQTT
import SmollamaNode
import SmollamaStore
import SmollamaSync

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the node: identity, daemon, store, clock, sensor health.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the status as JSON.") var json = false

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let now = UTCMillis.now()
            let report = try await StatusReport.make(runtime: runtime, now: now, askRuntime: true, logger: quietLogger())
            if json { return try printJSON(report) }
            let bytes = Terminal.value(Double(report.databaseBytes), unit: "B")
            print("node      \(report.name) (\(report.role.rawValue)) \(report.nodeID)")
            print("daemon    " + (report.daemonPID.map { "running, pid \($0)" } ?? "not running (start: smollama run)"))
            print("dashboard \(report.dashboardURL)" + (report.daemonPID == nil ? " (when the daemon runs)" : ""))
            print("data      \(report.dataDirectory)")
            print("database  \(bytes), \(report.readingCount) readings, \(report.eventCount) events")
            for file in report.quarantined ?? [] {
                print(fit("DAMAGED   a damaged store was moved aside and a fresh one started: \(file)"))
            }
            if let oldest = report.oldestReadingTime, let newest = report.newestReadingTime {
                print("readings  \(Terminal.timestamp(oldest)) … \(Terminal.timestamp(newest))")
            }
            print("rollups   " + (report.rollupLag == 0 ? "up to date" : "\(report.rollupLag) readings behind"))
            print("clock     " + (report.clockQuality.map { $0 == .synced ? "synced" : "UNSYNCED (wall clock not trusted)" }
                                  ?? "no readings yet"))
            if let hub = report.hubClock { print(fit("          " + Self.hubClockLine(hub))) }
            if let llm = report.llm {
                let version = llm.version.map { ", \($0)" } ?? ""
                print(fit("llm       \(llm.backend) (\(llm.runtime)) \(llm.url): \(llm.health)\(version)"))
                if llm.health == "ok" {
                    for model in llm.models {
                        let context = model.contextLength.map { ", context \($0)" } ?? ""
                        let detail = model.available
                            ? (model.capabilities.isEmpty ? "" : " [\(model.capabilities.joined(separator: ", "))]") + context
                            : " — \(model.problem ?? "unavailable")"
                        print(fit("          \(model.role): \(model.name)\(detail)"))
                    }
                } else {
                    print(fit("          " + (llm.runtime == "managed"
                        ? "`smollama run` starts it (after scripts/setup-llm.sh)"
                        : (llm.healthDetail ?? "not answering"))))
                }
                for line in Self.installLines(llm) { print(fit("          " + line)) }
            }
            for (index, writer) in report.writers.enumerated() {
                print(Terminal.wrap(writer.reason, head: index == 0 ? "writes    " : "          "))
            }
            let healthy = report.sensorCount - report.faultySensorCount
            // Simulated sensors are marked here in text only: `--json` keeps its shape (the contract
            // snapshots pin it); scripts read `driver` in `smollama sensors --json`.
            let simulated = try await runtime.database.simulatedSensorKeys().count
            print("sensors   \(report.sensorCount) (\(healthy) healthy, \(report.faultySensorCount) faulty"
                  + (simulated > 0 ? "; \(simulated) SIMULATED, not measured)" : ")"))
            print("mqtt      " + Self.mqttLine(report, now: now))
            print("sync      " + (try await Self.syncLine(runtime)))
            guard !report.problems.isEmpty else { return }
            print("")
            print(Terminal.table(
                ["SENSOR", "FAULTS", "REFUSED", "LAST ERROR"],
                report.problems.map { problem in
                    [problem.sensor.rawValue + (problem.consecutiveFailures > 0 ? " !" : ""), "\(problem.faultCount)",
                     "\(problem.rejectedCount)", problem.lastError ?? ""]
                }))
        }
    }

    /// The wall clock's offset to the hub at the last handshake, its uncertainty, and whether
    /// stamps follow the hub's time.
    static func hubClockLine(_ hub: HubClockReading) -> String {
        let offset = Double(hub.offsetMilliseconds) / 1000
        let size = abs(offset) < 120 ? String(format: "%+.3f s", offset)
            : abs(offset) < 172_800 ? String(format: "%+.1f h", offset / 3600) : String(format: "%+.1f days", offset / 86_400)
        let follows = hub.followsHub ? "stamps follow the hub's time (wall clock not trusted)" : "wall clock in use"
        return "hub offset \(size) ± \(hub.uncertaintyMilliseconds) ms at \(Terminal.timestamp(hub.measuredAt)); \(follows)"
    }

    /// The pinned runtime and the models' digests, as setup recorded them.
    static func installLines(_ llm: LLMRuntimeReport) -> [String] {
        var lines: [String] = []
        if let version = llm.installedVersion { lines.append("installed \(version) (pins: scripts/pins.sh)") }
        let digests = llm.models.compactMap { model in model.sha256.map { "\(model.role) \($0.prefix(12))" } }
        if !digests.isEmpty { lines.append("sha256 " + digests.joined(separator: ", ")) }
        if let problem = llm.installProblem { lines.append(problem) }
        return lines
    }

    /// Cuts a line to the terminal width.
    func fit(_ line: String) -> String {
        line.count > Terminal.width ? String(line.prefix(Terminal.width - 1)) + "…" : line
    }

    static func syncLine(_ runtime: NodeRuntime) async throws -> String {
        guard runtime.config.sync.enabled else {
            return runtime.config.node.role == .llama ? "hub (smollama hub nodes)" : "off (smollama enroll --hub URL --token T)"
        }
        let streams = try await runtime.database.syncStatus(origin: runtime.identity.nodeID)
        let backlog = streams.map(\.backlog).reduce(0, +)
        let last = streams.compactMap(\.lastSuccess).max().map { "last success \(Terminal.timestamp($0))" } ?? "never synced"
        let error = streams.filter { ($0.lastErrorAt ?? 0) > ($0.lastSuccess ?? 0) }.compactMap(\.lastError).first
        return "backlog \(backlog), \(last)" + (error.map { "; last error: \($0)" } ?? "") + " (smollama sync --status)"
    }

    static func mqttLine(_ report: StatusReport, now: UTCMillis) -> String {
        guard !report.mqttBroker.isEmpty else { return "off (set mqtt.broker to publish and ingest)" }
        guard let state = report.mqtt, report.daemonPID != nil else { return "\(report.mqttBroker), daemon not running" }
        let client = state.client
        let stale = now - state.updatedAt > .seconds(30) ? " (state \((now - state.updatedAt).components.seconds) s old)" : ""
        let last = client.lastPublishTime.map { "last publish \(Terminal.timestamp($0))" } ?? "nothing published yet"
        let malformed = state.ingest.values.map(\.malformed).reduce(0, +)
        return "\(client.broker) \(client.connected ? "connected" : "DISCONNECTED")\(stale), queue \(client.queued)"
            + " (+\(client.inflight) in flight, \(client.dropped) dropped), \(last)"
            + (malformed > 0 ? ", \(malformed) malformed payloads ignored" : "")
            + (client.connected ? "" : client.lastError.map { ": \($0)" } ?? "")
    }
}
