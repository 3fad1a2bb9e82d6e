import ArgumentParser
import Foundation
import SmollamaCore
import SmollamaStore
#if canImport(Glibc)
import Glibc
#endif
import Logging
import SmollamaLLM
import SmollamaMind
import SmollamaNode

/// `smollama models list|pull|import`: the runtime's models. The node's `llm:` config says which
/// runtime to talk to; `--backend` and `--url` override it (and work without a node).
struct ModelsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "List, pull, import or check the LLM runtime's models.",
        subcommands: [List.self, Pull.self, Import.self, Check.self],
        defaultSubcommand: List.self)

    struct RuntimeOptions: ParsableArguments {
        @OptionGroup var global: GlobalOptions

        @Option(
            help: "Runtime API: ollama or openai (llama-server, LM Studio, vLLM). Default: the config's llm.backend.",
            transform: { text in
                guard let backend = LLMBackend(rawValue: text.lowercased()) else {
                    throw ValidationError("--backend '\(text)' is not a backend; use ollama or openai")
                }
                return backend
            })
        var backend: LLMBackend?

        @Option(help: "Base URL of the runtime, e.g. http://127.0.0.1:11434. Default: the config's llm.url.")
        var url: String?

        @Option(help: "Cache directory holding llama-server models and the import registry. Default: ~/.cache/smollama.")
        var cacheDirectory: String?

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        func config() throws -> LLMConfig {
            let file = global.config ?? SmollamaPaths(home: global.resolvedHome).configFile
            var config = LLMConfig(backend: backend ?? .openai, runtime: .external)
            if FileManager.default.fileExists(atPath: file) {
                let node = try ConfigLoader.load(file: file, environment: global.environment, overrides: global.overrides)
                if backend == nil || backend == node.llm.backend { config = node.llm }
            }
            if let url {
                config.url = url
                if config.backend == .ollama { config.embeddingURL = url }
            }
            if let cacheDirectory { config.cacheDirectory = cacheDirectory }
            config.retry.attempts = 2
            return config
        }

        func validate() throws {
            if let url, URL(string: url)?.host == nil {
                throw ValidationError("--url '\(url)' is not a URL; write e.g. http://127.0.0.1:11434")
            }
        }
    }

    static func logger() -> Logger {
        var logger = Logger(label: "smollama.models")
        logger.logLevel = .warning
        return logger
    }

    static func fail(_ error: any Error) -> ExitCode {
        FileHandle.standardError.write(Data("smollama: \(error)\n".utf8))
        return ExitCode.failure
    }

    /// One compact JSON object on one line (a stream of them is JSON lines).
    static func printJSONLine(_ value: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .snakeCaseWords
        if let data = try? encoder.encode(value) { print(String(decoding: data, as: UTF8.self)) }
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .snakeCaseWords
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the models the runtime has (and imported GGUFs).")
        @OptionGroup var options: RuntimeOptions

        func run() async throws {
            let models: [ModelSummary]
            do {
                models = try await ModelManager(config: options.config(), logger: ModelsCommand.logger()).list()
            } catch { throw ModelsCommand.fail(error) }
            if options.json {
                try ModelsCommand.printJSON(models)
                return
            }
            if models.isEmpty {
                print("no models: `smollama models pull NAME` (Ollama) or `smollama models import FILE.gguf`")
                return
            }
            let rows = models.map { model in
                [
                    model.name, model.sizeBytes.map(ModelsCommand.bytes) ?? "-", model.parameterSize ?? "-", model.quantization ?? "-",
                    model.contextLength.map(String.init) ?? "-", model.loaded ? "yes" : "no", model.source,
                ]
            }
            print(ModelsCommand.table(["NAME", "SIZE", "PARAMS", "QUANT", "CTX", "LOADED", "SOURCE"], rows))
        }
    }

    struct Pull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a model (Ollama), with a progress bar.",
            discussion: "--json prints Ollama's progress as JSON lines: {\"status\", \"digest\", \"total\", \"completed\"}, the last one {\"status\":\"success\"}.")
        @OptionGroup var options: RuntimeOptions
        @Argument(help: "Model name, e.g. qwen2.5:0.5b or all-minilm.") var name: String

        func run() async throws {
            var options = options
            if options.backend == nil { options.backend = .ollama }
            let json = options.json
            let interactive = isatty(STDERR_FILENO) != 0
            do {
                try await ModelManager(config: options.config(), logger: ModelsCommand.logger()).pull(name) { progress in
                    if json {
                        ModelsCommand.printJSONLine(progress)
                    } else {
                        ModelsCommand.drawProgress(progress, interactive: interactive)
                    }
                }
            } catch { throw ModelsCommand.fail(error) }
            if !json { FileHandle.standardError.write(Data("\npulled \(name)\n".utf8)) }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a local GGUF usable offline (Ollama: create a model FROM it; llama-server: register it).")
        @OptionGroup var options: RuntimeOptions
        @Argument(help: "Path of the .gguf file.") var file: String
        @Option(help: "Model name (default: the file name without .gguf, lowercased).") var name: String?

        func run() async throws {
            let summary: ModelSummary
            do {
                summary = try await ModelManager(config: options.config(), logger: ModelsCommand.logger()).importGGUF(path: file, name: name)
            } catch { throw ModelsCommand.fail(error) }
            if options.json {
                try ModelsCommand.printJSON(summary)
            } else {
                print("imported \(summary.name) (\(summary.sizeBytes.map(ModelsCommand.bytes) ?? "?"), \(summary.digest ?? ""))")
                if (try? options.config())?.backend == .openai {
                    print("set llm.chat_model: \(summary.name) to serve it with the managed llama-server")
                }
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure the chat model on the fixed calibration set and store the score.",
            discussion: """
                Runs \(CalibrationSet.narration.count) narration tasks (evidence → observation, scored by the \
                verifier and by naming the right room and direction of change) and \
                \(CalibrationSet.routing.count) `ask` routing questions. The daemon lets the model write \
                observations (and route `ask`) only for the roles where it passed at least \
                observe.min_model_score of the tasks; otherwise rules write. A model whose digest changes \
                is checked again.
                """)
        @OptionGroup var options: RuntimeOptions
        @Option(help: "Run only the first N tasks of each set (a quick check; default: all).") var tasks: Int?
        @Option(help: "Run one part only: narration or routing (the other keeps its stored result).",
                transform: { text in
                    guard let role = ModelRole(rawValue: text) else {
                        throw ValidationError("--only '\(text)' is not a part; use narration or routing")
                    }
                    return role
                })
        var only: ModelRole?

        func validate() throws {
            if let tasks, tasks < 1 { throw ValidationError("--tasks must be 1 or more") }
        }

        func run() async throws {
            try await userFacing {
                let runtime = try await options.global.openNode()
                let config = try options.config()
                let logger = ModelsCommand.logger()
                let model = config.makeChatModel(logger: logger)
                let digest = await CalibrationWiring.digest(config: config, network: true, logger: logger) ?? "unknown"
                let json = options.json
                let runner = CalibrationRunner(model: model, maxCompletionTokens: runtime.config.observe.maxCompletionTokens,
                                               logger: logger)
                let now = UTCMillis.now()
                var report: CalibrationReport
                do {
                    let roles = only.map { Set([$0]) } ?? Set(ModelRole.allCases)
                    report = try await runner.run(limit: tasks, roles: roles, digest: digest, now: now) { result in
                        guard !json else { return }
                        let line = String(format: "%@ %@ %@ %.1fs  %@", result.role.rawValue.padding(
                            toLength: 9, withPad: " ", startingAt: 0), result.id.padding(toLength: 12, withPad: " ", startingAt: 0),
                            result.passed ? "pass" : "FAIL", result.seconds, result.detail)
                        let fitted = line.count > Terminal.width ? String(line.prefix(Terminal.width - 1)) + "…" : line
                        FileHandle.standardError.write(Data((fitted + "\n").utf8))
                    }
                } catch {
                    throw CheckError(url: config.url, underlying: error)
                }
                let store = CalibrationWiring.store(runtime.paths)
                if let only, let other = ModelRole.allCases.first(where: { $0 != only }),
                   let earlier = store.report(model: report.model, digest: digest) {
                    report = report.keeping(other, from: earlier)
                }
                try store.save(report)
                let decisions = ModelRole.allCases.map {
                    GateDecision.decide($0, model: report.model, digest: digest, report: report, latest: report,
                                        minScore: runtime.config.observe.minModelScore)
                }
                if json { return try ModelsCommand.printJSON(CheckOutput(report: report, decisions: decisions)) }
                print("model      \(report.model) (\(digest))")
                print(String(format: "narration  %d/%d verified, routing %d/%d correct, %.0f s",
                             report.narration.passed, report.narration.total, report.routing.passed,
                             report.routing.total, report.seconds))
                for (index, decision) in decisions.enumerated() {
                    print(Terminal.wrap(decision.reason, head: index == 0 ? "writes     " : "           "))
                }
            }
        }

        struct CheckOutput: Encodable {
            var report: CalibrationReport
            var decisions: [GateDecision]
        }

        struct CheckError: Error, CustomStringConvertible {
            var url: String
            var underlying: any Error
            var description: String {
                "the chat model at \(url) did not answer, so nothing was stored: \(underlying)"
            }
        }
    }

    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// `pulling c5396e06af29 [###############-----]  75% 298.4 MB / 397.8 MB`
    /// One line of at most 80 columns: the status (cut to 20, which holds "pulling <12 hex>"),
    /// then, for a layer with byte counts, a 20-wide bar, the percentage and the bytes.
    static func progressLine(_ progress: PullProgress) -> String {
        var line = progress.status
        if line.count > 20 { line = String(line.prefix(19)) + "…" }
        if let fraction = progress.fraction, let completed = progress.completed, let total = progress.total {
            let width = 20
            let filled = Int((fraction * Double(width)).rounded(.down))
            line = line.padding(toLength: 20, withPad: " ", startingAt: 0)
            line += " [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
            line += String(format: " %3d%% ", Int(fraction * 100)) + bytes(completed) + " / " + bytes(total)
        }
        return line
    }

    static func drawProgress(_ progress: PullProgress, interactive: Bool) {
        let line = progressLine(progress)
        let text = interactive ? "\r\u{1B}[2K" + line : line + "\n"
        FileHandle.standardError.write(Data(text.utf8))
    }
}
