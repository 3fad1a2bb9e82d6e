import Foundation
public import SmollamaLLM
public import Logging
import ServiceLifecycle
public import Testing
#if canImport(Glibc)
import Glibc
#endif

extension Tag {
    /// Suites against the real LLM runtime (llama-server + SmolLM2 and MiniLM): minutes of CPU,
    /// so scripts/test runs them on their own, one after another. `swift test` (Swift 6.3) cannot
    /// select by tag (`--filter`/`--skip` match test ids only), so scripts/test selects them by
    /// `LiveRuntime.suiteNamePattern`, and `.liveRuntime` refuses a suite whose tag and name disagree.
    @Tag public static var live: Self
}

/// The real llama-server pair (chat + embeddings) a live suite runs against, started once around
/// the suite by our own `RuntimeSupervisor` on free loopback ports. Tests read it from `current`.
public struct LiveRuntime: Sendable {
    public var config: LLMConfig
    public var supervisor: RuntimeSupervisor
    /// Everything the supervisor logged, llama-server's own output included.
    public var capture: LogCapture

    @TaskLocal public static var current: LiveRuntime?

    /// What scripts/test passes to `--filter` (live step) and `--skip` (main suite).
    public static let suiteNamePattern = "LiveLlamaServerTests|LiveMem0BridgeTests"

    /// The suite's runtime; an error if the test runs outside `.liveRuntime`.
    public static func require() throws -> LiveRuntime {
        guard let current else { throw LiveRuntimeMissing(what: "the live runtime is not started: add .liveRuntime to the suite") }
        return current
    }

    /// Pid files of the running servers (written by the supervisor).
    public var pidFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: config.cacheDirectory + "/run")) ?? []).filter { $0.hasSuffix(".pid") }
    }

    /// A client for both servers.
    public func client(timeout: Duration = .seconds(120), retry: RetryPolicy = .init(), logger: Logger = .quiet) -> OpenAIClient {
        OpenAIClient(url: config.url, model: config.chatModel, embeddingURL: config.embeddingURL,
                     embeddingModel: config.embeddingModel, timeout: timeout, retry: retry, logger: logger)
    }

    /// Where the runtime is: `SMOLLAMA_LLAMA_SERVER`, `SMOLLAMA_CHAT_MODEL`, `SMOLLAMA_EMBED_MODEL`
    /// (or `SMOLLAMA_CACHE`), else what scripts/setup-llm.sh installs in ~/.cache/smollama. Throws
    /// (a live test fails, never skips) when a file is missing or the cache is not the pinned one.
    public static func paths() throws -> (server: String, chatModel: String, embedModel: String) {
        let env = ProcessInfo.processInfo.environment
        let cache = env["SMOLLAMA_CACHE"] ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/smollama"
        let paths = (server: env["SMOLLAMA_LLAMA_SERVER"] ?? cache + "/llama.cpp/llama-server",
                     chatModel: env["SMOLLAMA_CHAT_MODEL"] ?? cache + "/models/SmolLM2-135M-Instruct.Q4_1.gguf",
                     embedModel: env["SMOLLAMA_EMBED_MODEL"] ?? cache + "/models/all-minilm-l6-v2-f32.gguf")
        for path in [paths.server, paths.chatModel, paths.embedModel] where !FileManager.default.fileExists(atPath: path) {
            throw LiveRuntimeMissing(what: "the real LLM runtime is missing (\(path) does not exist): run scripts/setup-llm.sh, "
                                     + "or set SMOLLAMA_LLAMA_SERVER / SMOLLAMA_CHAT_MODEL / SMOLLAMA_EMBED_MODEL")
        }
        // What a model says is only repeatable against the build and weights a test was written for.
        try PinnedRuntime.check(cacheDirectory: cache, environment: env)
        return paths
    }
}

public struct LiveRuntimeMissing: Error, CustomStringConvertible {
    public var what: String
    public var description: String { what }
}

/// Starts the live runtime once around a suite and stops it (graceful shutdown) after, checking
/// that no llama-server and no pid file is left behind.
public struct LiveRuntimeTrait: SuiteTrait, TestScoping {
    /// llama-server's `-c` for the chat instance.
    public var contextSize = 2048
    public var isRecursive: Bool { false }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void)
        async throws
    {
        let named = test.name.firstMatch(of: try Regex(LiveRuntime.suiteNamePattern)) != nil
        guard test.tags.contains(.live), named else {
            throw LiveRuntimeMissing(what: "suite \(test.name) uses the live runtime: tag it .live and give it a name matching "
                                     + "\(LiveRuntime.suiteNamePattern), so scripts/test runs it in the live step only")
        }
        let paths = try LiveRuntime.paths()
        var config = LLMConfig()
        config.url = "http://127.0.0.1:\(freeLoopbackPort())"
        config.embeddingURL = "http://127.0.0.1:\(freeLoopbackPort())"
        config.managed.llamaServer = paths.server
        config.managed.chatModelFile = paths.chatModel
        config.managed.embeddingModelFile = paths.embedModel
        config.cacheDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("smollama-live-\(getpid())-\(UUID().uuidString.prefix(8))").path
        config.numCtx = contextSize
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
                    try await LiveRuntime.$current.withValue(LiveRuntime(config: config, supervisor: supervisor, capture: capture)) {
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

extension Trait where Self == LiveRuntimeTrait {
    /// Runs the suite against the real llama-server pair (see `LiveRuntime`).
    public static var liveRuntime: LiveRuntimeTrait { LiveRuntimeTrait() }

    /// The live runtime with a larger chat context.
    public static func liveRuntime(contextSize: Int) -> LiveRuntimeTrait { LiveRuntimeTrait(contextSize: contextSize) }
}
