import ArgumentParser
import Foundation
import SmollamaNode

/// Options every command takes: which node, which config, and one-off overrides.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The node's home directory (default: $SMOLLAMA_HOME or ~/.smollama).")
    var home: String?

    @Option(name: .long, help: "Config file (default: HOME/config.yaml).")
    var config: String?

    @Option(name: .customLong("set"), help: "Override a config key, e.g. --set store.batch_size=500 (repeatable).")
    var overrides: [String] = []

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    var resolvedHome: String {
        let home = home ?? SmollamaPaths.resolveHome(environment: environment)
        return home.hasPrefix("/") ? home : FileManager.default.currentDirectoryPath + "/" + home
    }

    func openNode() async throws -> NodeRuntime {
        try await NodeRuntime.open(home: resolvedHome, configFile: config, environment: environment, overrides: overrides)
    }
}

/// Runs a command body; errors from the libraries already say what went wrong and what to do,
/// so they are printed as they are (no usage text, no type names) and the exit code is 1.
func userFacing<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        FileHandle.standardError.write(Data("smollama: \(error)\n".utf8))
        throw ExitCode.failure
    }
}
