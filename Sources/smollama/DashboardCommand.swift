import ArgumentParser
import Foundation
import SmollamaNode
import SmollamaServer

struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Print the dashboard's URL (it opens nothing by itself).",
        discussion: "The daemon (`smollama run`) serves the dashboard at http.host:http.port from config.yaml.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the URL and whether the daemon runs, as JSON.") var json = false

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let url = runtime.config.http.url()
            let running = Daemon.runningPID(paths: runtime.paths) != nil
            if json {
                struct Output: Encodable { var url: String; var daemonRunning: Bool; var tokenRequired: Bool }
                return try printJSON(Output(url: url, daemonRunning: running,
                                            tokenRequired: runtime.config.http.requiresToken))
            }
            print(url)
            if !running { FileHandle.standardError.write(Data("smollama: the daemon is not running; start it with `smollama run`\n".utf8)) }
        }
    }
}
