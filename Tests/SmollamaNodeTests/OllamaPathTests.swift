import Foundation
import SmollamaLLM
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// Issue 17, item 6, through the real binary and script: `smollama models pull` against a
/// recorded Ollama (progress lines of at most 80 columns, JSON lines with --json), and
/// `scripts/setup-llm.sh` with an `ollama` on PATH pulling the default models and writing the
/// node's config.
@Suite(.serialized) struct OllamaPathTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func modelsPullShowsProgressInEightyColumnsAndJSONLines() async throws {
        let ollama = try await RecordedOllama.start()
        defer { Task { await ollama.close() } }
        let home = try TemporaryDirectory("ollama-pull")
        let pulled = try await SmollamaBinary.run(["models", "pull", "qwen2.5:0.5b", "--url", ollama.url], home: home.path)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let lines = pulled.stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        #expect(lines.first == "pulling manifest" && lines.last == "pulled qwen2.5:0.5b", "\(pulled.stderr)")
        #expect(lines.allSatisfy { $0.count <= 80 }, "wider than 80 columns: \(lines.filter { $0.count > 80 })")
        #expect(lines.contains("pulling c5396e06af29 [###############-----]  75% 298.4 MB / 397.8 MB"), "\(pulled.stderr)")
        #expect(lines.contains("pulling c5396e06af29 [####################] 100% 397.8 MB / 397.8 MB"))

        let json = try await SmollamaBinary.run(["models", "pull", "qwen2.5:0.5b", "--url", ollama.url, "--json"], home: home.path)
        #expect(json.status == 0, "\(json.stderr)")
        let objects = try json.stdout.split(separator: "\n").map { try JSONDecoder().decode(PullProgress.self, from: Data($0.utf8)) }
        #expect(objects.count == 12 && objects.last?.status == "success")
        #expect(objects.filter { $0.total == 397_807_936 }.compactMap(\.completed) == [99_451_984, 298_355_952, 397_807_936])
    }

    func runSetupLLM(home: String, listed: String) async throws -> (status: Int32, output: String, pulls: String) {
        let bin = try TemporaryDirectory("fake-ollama")
        let log = bin.path + "/pulls.log"
        let fake = try bin.write("ollama", """
            #!/bin/sh
            case "$1" in
              list) printf 'NAME ID SIZE MODIFIED\\n%s\\n' "\(listed)" ;;
              pull) echo "$2" >> "\(log)" ;;
              *) exit 2 ;;
            esac
            """)
        chmod(fake, 0o755)
        let cache = try TemporaryDirectory("setup-llm-cache")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.root + "/scripts/setup-llm.sh"]
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = bin.path + ":" + URL(fileURLWithPath: SmollamaBinary.path).deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["SMOLLAMA_HOME"] = home
        environment["SMOLLAMA_CACHE"] = cache.path
        environment["PYTHON"] = "python3"
        environment["SMOLLAMA_SKIP_VEC0"] = "1"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test func setupLLMWithOllamaPullsTheDefaultModelsAndWritesTheConfig() async throws {
        let home = try TemporaryDirectory("setup-llm-node")
        #expect(try await SmollamaBinary.run(["init", "--demo", "--name", "pi"], home: home.path).status == 0)
        let before = try ConfigLoader.load(file: home.path + "/config.yaml")
        #expect(before.llm.backend == .openai && before.llm.runtime == .managed)

        let run = try await runSetupLLM(home: home.path, listed: "all-minilm:latest 1b226e2802db 45 MB 2 days ago")
        #expect(run.status == 0, "\(run.output)")
        #expect(run.pulls == "qwen2.5:0.5b\n", "only the model not listed is pulled: \(run.pulls)")
        let after = try ConfigLoader.load(file: home.path + "/config.yaml")
        #expect(after.llm.backend == .ollama && after.llm.runtime == .external)
        #expect(after.llm.url == "http://127.0.0.1:11434" && after.llm.chatModel == "qwen2.5:0.5b" && after.llm.embeddingModel == "all-minilm")
        // Everything else is as it was.
        var unchanged = after
        unchanged.llm = before.llm
        #expect(unchanged == before)
        #expect(FileManager.default.fileExists(atPath: home.path + "/config.yaml.before-ollama"))

        // A second run changes nothing more, and a config without an llm: section gets one.
        let again = try await runSetupLLM(home: home.path, listed: "qwen2.5:0.5b a8b0c5157701 397 MB now\nall-minilm:latest 1b226e2802db 45 MB now")
        #expect(again.status == 0 && again.pulls.isEmpty, "\(again.output)")
        #expect(try ConfigLoader.load(file: home.path + "/config.yaml") == after)
        try "node:\n  name: bare\nsensors:\n  drivers:\n    - driver: system\n".write(
            toFile: home.path + "/config.yaml", atomically: true, encoding: .utf8)
        let bare = try await runSetupLLM(home: home.path, listed: "qwen2.5:0.5b x 1 now\nall-minilm:latest y 1 now")
        #expect(bare.status == 0, "\(bare.output)")
        let written = try ConfigLoader.load(file: home.path + "/config.yaml")
        #expect(written.llm.backend == .ollama && written.llm.runtime == .external && written.node.name == "bare")
    }
}
