public import ArgumentParser
import Foundation
import SmollamaCore
import SmollamaNode
import SmollamaStore

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a node: commented config, data directory, node id and secret key.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "alpaca (edge node) or llama (hub).")
    var role: NodeConfig.Role = .alpaca

    @Option(help: "Display name (default: this machine's hostname).")
    var name: String?

    @Flag(help: "Rewrite the config of an existing node. Its identity (node id, key) is always kept.")
    var force = false

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() async throws {
        try await userFacing {
            let home = global.resolvedHome
            let paths = SmollamaPaths(home: home, configFile: global.config)
            let result = try await NodeSetup.initialise(
                paths: paths, name: name ?? ProcessInfo.processInfo.hostName, role: role, force: force,
                now: UTCMillis.now().rawValue)
            if json { return try printJSON(result) }
            print(result.createdIdentity ? "Created node \(result.nodeID)" : "Kept node \(result.nodeID); config rewritten")
            print("  config: \(result.configFile)")
            print("  data:   \(result.dataDirectory)")
            print("Next: smollama run" + (global.home.map { " --home \($0)" } ?? ""))
        }
    }
}

extension NodeConfig.Role: ExpressibleByArgument {}
