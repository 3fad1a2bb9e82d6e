import Foundation
import Logging
import ServiceLifecycle
import SmollamaLLM
import Synchronization
import SmollamaTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Collects log records in memory so tests can look at what was logged.
final class LogCapture: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }
    let records = Mutex<[Record]>([])

    func logger(_ label: String = "test", level: Logger.Level = .debug) -> Logger {
        var logger = Logger(label: label) { _ in CaptureHandler(capture: self) }
        logger.logLevel = level
        return logger
    }

    var all: [Record] { records.withLock { $0 } }
}

struct CaptureHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        var flat: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { flat[key] = "\(value)" }
        capture.records.withLock { $0.append(.init(level: event.level, message: "\(event.message)", metadata: flat)) }
    }
}

/// Where the real runtime is: env overrides, else what scripts/setup-llm.sh installs.
struct RuntimePaths: Sendable {
    var server: String
    var chatModel: String
    var embedModel: String

    static func locate() throws -> RuntimePaths {
        let env = ProcessInfo.processInfo.environment
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        let cache = env["SMOLLAMA_CACHE"] ?? home + "/.cache/smollama"
        let paths = RuntimePaths(
            server: env["SMOLLAMA_LLAMA_SERVER"] ?? cache + "/llama.cpp/llama-server",
            chatModel: env["SMOLLAMA_CHAT_MODEL"] ?? cache + "/models/SmolLM2-135M-Instruct.Q4_1.gguf",
            embedModel: env["SMOLLAMA_EMBED_MODEL"] ?? cache + "/models/all-minilm-l6-v2-f32.gguf")
        for path in [paths.server, paths.chatModel, paths.embedModel] where !FileManager.default.fileExists(atPath: path) {
            throw SetupMissing(path: path)
        }
        try PinnedRuntime.check(cacheDirectory: cache, environment: env)
        return paths
    }
}

struct SetupMissing: Error, CustomStringConvertible {
    var path: String
    var description: String {
        "the real LLM runtime is missing (\(path) does not exist): run scripts/setup-llm.sh, "
            + "or set SMOLLAMA_LLAMA_SERVER / SMOLLAMA_CHAT_MODEL / SMOLLAMA_EMBED_MODEL"
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.

/// The real llama-server pair (chat + embeddings) that the live suite shares, run by our own
/// RuntimeSupervisor inside a ServiceGroup.
struct LiveServers: Sendable {
    var config: LLMConfig
    var supervisor: RuntimeSupervisor
    var capture: LogCapture

    /// Pid files of the running servers (written by the supervisor).
    var pidFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: config.cacheDirectory + "/run")) ?? []).filter { $0.hasSuffix(".pid") }
    }

    @TaskLocal static var current: LiveServers?

    var chat: OpenAIClient {
        OpenAIClient(
            url: config.url, model: config.chatModel, embeddingURL: config.embeddingURL, embeddingModel: config.embeddingModel,
            timeout: .seconds(90), logger: capture.logger("client", level: .info))
    }
}

/// Starts the live servers once around a whole suite and stops them (graceful shutdown) after.
struct LiveServerTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let paths = try RuntimePaths.locate()
        var config = LLMConfig()
        config.url = "http://127.0.0.1:\(freeLoopbackPort())"
        config.embeddingURL = "http://127.0.0.1:\(freeLoopbackPort())"
        config.managed.llamaServer = paths.server
        config.managed.chatModelFile = paths.chatModel
        config.managed.embeddingModelFile = paths.embedModel
        config.cacheDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("smollama-llm-tests-\(getpid())").path
        config.numCtx = 2048
        let capture = LogCapture()
        let logger = capture.logger("supervisor")
        let supervisor = RuntimeSupervisor(
            specs: try ManagedProcessSpec.llamaServer(for: config), managed: true, logger: logger, healthInterval: .seconds(2),
            startupTimeout: .seconds(60), minBackoff: .milliseconds(300), maxBackoff: .seconds(2),
            stateDirectory: config.cacheDirectory + "/run")
        let group = ServiceGroup(services: [supervisor], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var failure: (any Error)?
            if await supervisor.waitUntilReady(timeout: .seconds(90)) {
                do {
                    try await LiveServers.$current.withValue(LiveServers(config: config, supervisor: supervisor, capture: capture)) {
                        try await function()
                    }
                } catch { failure = error }
            } else {
                failure = LLMError.runtimeFailed("llama-server did not become healthy: \(supervisor.status())")
            }
            let pids = supervisor.pids()
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            // Graceful shutdown must leave no runtime process behind.
            for (name, pid) in pids {
                #expect(kill(pid, 0) != 0, "llama-server '\(name)' (pid \(pid)) still runs after shutdown")
            }
            // Pid files exist only while their process runs.
            let left = (try? FileManager.default.contentsOfDirectory(atPath: config.cacheDirectory + "/run")) ?? []
            #expect(left.filter { $0.hasSuffix(".pid") }.isEmpty, "pid files left: \(left)")
            try? FileManager.default.removeItem(atPath: config.cacheDirectory)
            if let failure { throw failure }
        }
    }
}

extension Trait where Self == LiveServerTrait {
    /// Runs the suite against a real llama-server + SmolLM2 (and the MiniLM embedding server).
    static var liveLlamaServer: LiveServerTrait { LiveServerTrait() }
}

func live() throws -> LiveServers {
    guard let servers = LiveServers.current else { throw SetupMissing(path: "(live servers not started)") }
    return servers
}

func cosine(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
}
