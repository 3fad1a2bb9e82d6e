// smollama-llm-bench: our LLM client vs curl straight to llama-server, in the same run
// (`client`, the default), and the observation loop's quality report (`observations`,
// ObservationBench.swift).
//
//   swift build -c release --product smollama-llm-bench
//   .build/release/smollama-llm-bench [client] [--runs 5] [--max-tokens 64] [--embed-batch 32]
//   .build/release/smollama-llm-bench observations [--days 7] [--stride-hours 15] [--verbose]
//
// Starts a chat llama-server (SmolLM2-135M-Instruct) and an embedding one (all-MiniLM-L6-v2) on
// free loopback ports through RuntimeSupervisor, from the paths scripts/setup-llm.sh installs (or
// SMOLLAMA_LLAMA_SERVER / SMOLLAMA_CHAT_MODEL / SMOLLAMA_EMBED_MODEL). Requests alternate between
// our client and curl so both see the same machine load.
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SmollamaLLM
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

@main
struct LLMBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smollama-llm-bench", abstract: "LLM benchmarks against a real llama-server.",
        subcommands: [Bench.self, ObservationBench.self], defaultSubcommand: Bench.self)
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "client", abstract: "LLM client overhead vs curl, embedding throughput.")

    @Option(help: "Timed requests per side.") var runs = 5
    @Option(help: "Token cap per chat request (the prompt ends naturally well before it).") var maxTokens = 400
    @Option(help: "Texts per embedding request.") var embedBatch = 32
    @Option(help: "Embedding requests per side.") var embedRuns = 5
    @Option(help: "llama-server threads (0: its default).") var threads = 0
    @Flag(help: "Print every sample.") var verbose = false

    func run() async throws {
        let config = Self.managedRuntime(threads: threads)
        var logger = Logger(label: "smollama-llm-bench")
        logger.logLevel = .warning
        let supervisor = try RuntimeSupervisor(config: config, logger: logger)
        let group = ServiceGroup(services: [supervisor], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            guard await supervisor.waitUntilReady(timeout: .seconds(120)) else {
                throw LLMError.runtimeFailed("llama-server did not become ready: \(supervisor.status())")
            }
            try await measure(config: config, logger: logger)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    func measure(config: LLMConfig, logger: Logger) async throws {
        let client = OpenAIClient(url: config.url, model: config.chatModel, embeddingURL: config.embeddingURL, embeddingModel: config.embeddingModel, logger: logger)
        let prompt = "Describe a quiet greenhouse at night in three sentences."
        let options = GenerationOptions(temperature: 0, maxTokens: maxTokens, seed: 7)
        let curlBody = try String(decoding: JSONEncoder().encode(JSONValue.object([
            "model": .string(config.chatModel), "messages": [["role": "user", "content": .string(prompt)]], "stream": true,
            "temperature": 0, "max_tokens": .number(Double(maxTokens)), "seed": 7, "stream_options": ["include_usage": true],
        ])), as: UTF8.self)

        // Warm up both paths (model pages, prompt cache, connection pool).
        _ = try? await streamOnce(client, prompt, options)
        _ = try curlStream(url: config.url + "/v1/chat/completions", body: curlBody)

        var ours: [Sample] = []
        var curls: [Sample] = []
        for _ in 0..<runs {
            ours.append(try await streamOnce(client, prompt, options))
            curls.append(try curlStream(url: config.url + "/v1/chat/completions", body: curlBody))
        }

        // Embeddings.
        let texts = (0..<embedBatch).map { "Sensor reading number \($0): the greenhouse temperature is \(15 + $0 % 10) degrees." }
        let embedBody = try String(decoding: JSONEncoder().encode(JSONValue.object([
            "model": .string(config.embeddingModel), "input": .array(texts.map(JSONValue.string)),
        ])), as: UTF8.self)
        _ = try await client.embed(texts)
        var ourEmbed: [Double] = []
        var curlEmbed: [Double] = []
        for _ in 0..<embedRuns {
            let clock = ContinuousClock()
            let start = clock.now
            _ = try await client.embed(texts)
            ourEmbed.append((clock.now - start).seconds)
            curlEmbed.append(try curlPlain(url: config.embeddingURL + "/v1/embeddings", body: embedBody))
        }

        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        }
        let oursTotal = median(ours.map(\.total)), curlTotal = median(curls.map(\.total))
        let oursTTFT = median(ours.map(\.ttft)), curlTTFT = median(curls.map(\.ttft))
        let tokens = median(ours.map { Double($0.tokens) })
        let curlTokens = median(curls.map { Double($0.tokens) })
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "?"
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        print("""
            ## LLM client overhead (smollama-llm-bench)

            Machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu); load average at the end: \(load).
            Chat: SmolLM2-135M-Instruct Q4_1 via llama-server, streamed (SSE), temperature 0, seed 7, token cap \(maxTokens), \(runs) runs per side, medians, alternating.

            | path | time to first token | total | completion tokens | tokens/s (wall) | server decode ms |
            | --- | --- | --- | --- | --- | --- |
            | smollama OpenAIClient.streamChat | \(ms(oursTTFT)) | \(ms(oursTotal)) | \(Int(tokens)) | \(String(format: "%.1f", tokens / oursTotal)) | \(String(format: "%.0f", median(ours.map(\.serverDecodeMs)))) |
            | curl -N straight to llama-server | \(ms(curlTTFT)) | \(ms(curlTotal)) | \(Int(curlTokens)) | \(String(format: "%.1f", curlTokens / curlTotal)) | \(String(format: "%.0f", median(curls.map(\.serverDecodeMs)))) |

            Overhead ratio (ours / curl): total \(String(format: "%.3f", oursTotal / curlTotal)), time to first token \(String(format: "%.3f", oursTTFT / curlTTFT)).

            Embeddings: all-MiniLM-L6-v2 f32 GGUF via llama-server --embeddings --pooling mean, batches of \(embedBatch) texts, \(embedRuns) runs per side.

            | path | per batch (median) | texts/s |
            | --- | --- | --- |
            | smollama OpenAIClient.embed | \(ms(median(ourEmbed))) | \(String(format: "%.1f", Double(embedBatch) / median(ourEmbed))) |
            | curl straight to llama-server | \(ms(median(curlEmbed))) | \(String(format: "%.1f", Double(embedBatch) / median(curlEmbed))) |
            """)
        _ = mean
    }

    struct Sample {
        var ttft: Double
        var total: Double
        var tokens: Int
        /// llama-server's own decode time for this request (ms).
        var serverDecodeMs: Double
    }

    func streamOnce(_ client: OpenAIClient, _ prompt: String, _ options: GenerationOptions) async throws -> Sample {
        let clock = ContinuousClock()
        let start = clock.now
        var first: Double?
        var tokens = 0
        var serverMs = 0.0
        for try await event in client.streamChat(ChatRequest(messages: [.user(prompt)], options: options)) {
            switch event {
            case .delta: if first == nil { first = (clock.now - start).seconds }
            case .done(let response):
                tokens = response.usage?.completionTokens ?? 0
                serverMs = response.timings?.generationMilliseconds ?? 0
            case .toolCalls: break
            }
        }
        let sample = Sample(ttft: first ?? 0, total: (clock.now - start).seconds, tokens: tokens, serverDecodeMs: serverMs)
        if verbose { print("ours: \(sample)") }
        return sample
    }

    /// Runs curl -N and timestamps its output as it arrives.
    func curlStream(url: String, body: String) throws -> Sample {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sN", "-H", "Content-Type: application/json", "--data-binary", body, url]
        let pipe = Pipe()
        process.standardOutput = pipe
        let state = Mutex<(text: String, first: Double?)>(("", nil))
        let clock = ContinuousClock()
        let start = clock.now
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            let now = (clock.now - start).seconds
            state.withLock { state in
                state.text += String(decoding: data, as: UTF8.self)
                if state.first == nil, state.text.contains(#""delta":{"content":""#) { state.first = now }
            }
        }
        try process.run()
        process.waitUntilExit()
        let total = (clock.now - start).seconds
        pipe.fileHandleForReading.readabilityHandler = nil
        let rest = pipe.fileHandleForReading.readDataToEndOfFile()
        let (text, first) = state.withLock { state in
            state.text += String(decoding: rest, as: UTF8.self)
            return (state.text, state.first)
        }
        var tokens = 0
        if let range = text.range(of: #""completion_tokens":"#) {
            tokens = Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }
        var serverMs = 0.0
        if let range = text.range(of: #""predicted_ms":"#) {
            serverMs = Double(text[range.upperBound...].prefix { $0.isNumber || $0 == "." }) ?? 0
        }
        let sample = Sample(ttft: first ?? total, total: total, tokens: tokens, serverDecodeMs: serverMs)
        if verbose { print("curl: \(sample)") }
        return sample
    }

    func curlPlain(url: String, body: String) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-s", "-o", "/dev/null", "-H", "Content-Type: application/json", "--data-binary", body, url]
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        process.waitUntilExit()
        return (clock.now - start).seconds
    }

    func ms(_ seconds: Double) -> String { String(format: "%.0f ms", seconds * 1000) }

    /// A managed llama-server pair from what scripts/setup-llm.sh installed (or the SMOLLAMA_*
    /// overrides), on free loopback ports.
    static func managedRuntime(threads: Int) -> LLMConfig {
        let env = ProcessInfo.processInfo.environment
        let cache = env["SMOLLAMA_CACHE"] ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/smollama"
        var config = LLMConfig()
        config.managed.llamaServer = env["SMOLLAMA_LLAMA_SERVER"] ?? cache + "/llama.cpp/llama-server"
        config.managed.chatModelFile = env["SMOLLAMA_CHAT_MODEL"] ?? cache + "/models/SmolLM2-135M-Instruct.Q4_1.gguf"
        config.managed.embeddingModelFile = env["SMOLLAMA_EMBED_MODEL"] ?? cache + "/models/all-minilm-l6-v2-f32.gguf"
        config.managed.threads = threads
        config.url = "http://127.0.0.1:\(freePort())"
        config.embeddingURL = "http://127.0.0.1:\(freePort())"
        return config
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
