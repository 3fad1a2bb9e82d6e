import ArgumentParser
import Foundation
import Logging
import SmollamaCore
import SmollamaNode

@main
struct Smollama: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smollama",
        abstract: "A small-LLM sensor node for Raspberry Pi-class machines.",
        discussion: """
            Start with `smollama init`, then `smollama run`. Other commands read the same store \
            while the daemon runs. SMOLLAMA_HOME (default ~/.smollama) holds the config and data.
            """,
        version: SmollamaVersion.current,
        subcommands: [
            InitCommand.self, RunCommand.self, StatusCommand.self, SensorsCommand.self, LogsCommand.self,
            SimulateCommand.self, ModelsCommand.self, DashboardCommand.self, SyncCommand.self, EnrollCommand.self,
            HubCommand.self, RecallCommand.self, RememberCommand.self, HistoryCommand.self, StateCommand.self,
            AskCommand.self, ReflectCommand.self, ImportCommand.self, ObserveCommand.self, PresenceCommand.self, DoctorCommand.self,
            ServiceCommand.self, BackupCommand.self, RestoreCommand.self, MCPCommand.self,
        ])

    static func main() async {
        // Under systemd the journal stamps each line and reads its priority from a `<N>` prefix.
        let journal = JournalLogHandler.isUnderSystemd(environment: ProcessInfo.processInfo.environment)
        LoggingSystem.bootstrap { label in
            if journal { return JournalLogHandler(label: label) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .info
            return handler
        }
        do {
            var command = try parseAsRoot(LogsCommand.fillingTailDefault(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
