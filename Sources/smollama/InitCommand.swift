public import ArgumentParser
import Foundation
import SmollamaCore
import SmollamaNode
import SmollamaStore
import SmollamaHardware
import SmollamaLLM
import SmollamaSensors
import Logging

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a node: commented config, data directory, node id and secret key.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "alpaca (edge node) or llama (hub).")
    var role: NodeConfig.Role = .alpaca

    @Option(help: "Display name (default: this machine's hostname).")
    var name: String?

    @Flag(help: "Configure a simulated house instead of the sensors found on this machine.")
    var demo = false

    @Option(help: "The LLM backend: openai (llama-server, the default) or ollama (its URL and models).")
    var backend: LLMBackend = .openai

    @Flag(help: "Rewrite the config of an existing node. Its identity (node id, key) is always kept.")
    var force = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        try await userFacing {
            let home = global.resolvedHome
            let paths = SmollamaPaths(home: home, configFile: global.config)
            let sensors: ConfigTemplate.Sensors = demo ? .demo : .detected(detectedDevices())
            let result = try await NodeSetup.initialise(
                paths: paths, name: name ?? ProcessInfo.processInfo.hostName, role: role, sensors: sensors,
                backend: backend, force: force, now: UTCMillis.now().rawValue)
            if json { return try printJSON(result) }
            print(result.createdIdentity ? "Created node \(result.nodeID)" : "Kept node \(result.nodeID); config rewritten")
            print("  config:  \(result.configFile)")
            print("  data:    \(result.dataDirectory)")
            print("  sensors: " + Self.describe(sensors))
            print("Next: smollama run" + (global.home.map { " --home \($0)" } ?? ""))
        }
    }

    /// What `sensors detect` finds here (nothing off Linux).
    func detectedDevices() -> [DetectedDevice] {
        #if os(Linux)
        let environment = ProcessInfo.processInfo.environment
        let context = DriverContext(
            systemRoot: environment["SMOLLAMA_SYSFS_ROOT"] ?? "/", deviceRoot: environment["SMOLLAMA_DEV_ROOT"] ?? "/",
            dataDirectory: FileManager.default.currentDirectoryPath, logger: Logger(label: "smollama.init"))
        return HardwareDetector(context: context, backends: .linux).detect().devices
        #else
        return []
        #endif
    }

    static func describe(_ sensors: ConfigTemplate.Sensors) -> String {
        switch sensors {
        case .demo: return "a simulated house and this machine's own"
        case .detected(let devices):
            let found = devices.filter { $0.entry != nil }.map(\.summary)
            guard !found.isEmpty else {
                return "this machine's own only; no sensor hardware found\n"
                    + "           (`smollama sensors detect`; `init --demo --force` for a simulated house)"
            }
            return Terminal.inert(found.joined(separator: ", ")) + " and this machine's own"
        }
    }
}

extension NodeConfig.Role: ExpressibleByArgument {}
extension LLMBackend: ExpressibleByArgument {}
