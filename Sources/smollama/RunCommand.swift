import ArgumentParser
import Logging
import SmollamaNode

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the node daemon (sensors, store, maintenance) until SIGTERM or Ctrl-C.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            var logger = Logger(label: "smollama")
            logger.logLevel = Logger.Level(rawValue: runtime.config.log.level.rawValue) ?? .info
            try await Daemon.run(runtime: runtime, environment: global.environment, logger: logger)
        }
    }
}
