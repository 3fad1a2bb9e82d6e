import Foundation
import SmollamaCore
public import Logging
public import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One runtime process smollama starts and watches.
public struct ManagedProcessSpec: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case llamaServer = "llama-server"
        case ollama
    }
    /// Name in logs and status, e.g. "chat", "embeddings", "ollama".
    public var name: String
    public var kind: Kind
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    /// Base URL the process serves, for health checks.
    public var url: String

    public init(name: String, kind: Kind, executable: String, arguments: [String], environment: [String: String] = [:], url: String) {
        self.name = name
        self.kind = kind
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.url = url
    }

    /// The llama-server command lines for a config: a chat instance, and an embedding instance
    /// (`--embeddings --pooling mean`; an instance with `--embeddings` serves nothing else).
    public static func llamaServer(for config: LLMConfig) throws -> [ManagedProcessSpec] {
        var specs: [ManagedProcessSpec] = []
        let binary = config.llamaServerPath
        let libraryDirectory = (binary as NSString).deletingLastPathComponent
        let environment = ["LD_LIBRARY_PATH": libraryDirectory]
        func common(_ url: String) throws -> [String] {
            guard let parsed = URL(string: url), let host = parsed.host, let port = parsed.port else {
                throw LLMError.runtimeFailed("llm.url '\(url)' needs a host and a port for a managed llama-server, e.g. http://127.0.0.1:8081")
            }
            var args = ["--host", host, "--port", String(port), "--parallel", String(max(1, config.managed.parallel)), "--no-webui"]
            if config.managed.threads > 0 { args += ["--threads", String(config.managed.threads)] }
            return args
        }
        specs.append(ManagedProcessSpec(
            name: "chat", kind: .llamaServer, executable: binary,
            arguments: ["-m", config.chatModelPath, "--alias", config.chatModel, "-c", String(config.numCtx)] + (try common(config.url))
                + config.managed.extraArgs,
            environment: environment, url: config.url))
        if config.embeddingURL != config.url {
            specs.append(ManagedProcessSpec(
                name: "embeddings", kind: .llamaServer, executable: binary,
                arguments: ["-m", config.embeddingModelPath, "--alias", config.embeddingModel, "--embeddings", "--pooling", "mean"]
                    + (try common(config.embeddingURL)) + config.managed.extraArgs,
                environment: environment, url: config.embeddingURL))
        }
        return specs
    }

    /// `ollama serve` listening where the config says.
    public static func ollama(for config: LLMConfig) throws -> ManagedProcessSpec {
        guard let parsed = URL(string: config.url), let host = parsed.host else {
            throw LLMError.runtimeFailed("llm.url '\(config.url)' is not a URL")
        }
        return ManagedProcessSpec(
            name: "ollama", kind: .ollama, executable: config.managed.ollama, arguments: ["serve"] + config.managed.extraArgs,
            environment: ["OLLAMA_HOST": "\(host):\(parsed.port ?? 11434)", "OLLAMA_KEEP_ALIVE": config.keepAlive], url: config.url)
    }
}

/// What the supervisor knows about one runtime.
public struct RuntimeStatus: Sendable, Hashable {
    public var name: String
    public var url: String
    public var health: RuntimeHealth
    public var pid: Int32?
    public var restarts: Int
    public var lastExit: String?
}

/// Keeps the LLM runtime alive (a `Service`).
///
/// - `runtime: external`: health-checks the configured URLs every `timeouts.health_interval` and
///   logs changes; never starts anything.
/// - `runtime: managed`: starts `llama-server` (a chat and an embedding instance) or `ollama serve`,
///   waits through 503 "loading", forwards the process's output to the logger, restarts it with
///   exponential backoff when it exits, and terminates it (SIGTERM, then SIGKILL) on graceful shutdown.
public final class RuntimeSupervisor: Service, Sendable {
    public let specs: [ManagedProcessSpec]
    let managed: Bool
    let logger: Logger
    let healthInterval: Duration
    let startupTimeout: Duration
    let minBackoff: Duration
    let maxBackoff: Duration
    let outputLevel: Logger.Level
    let state: Mutex<[String: RuntimeStatus]>
    let readyEvents: Mutex<[CheckedContinuation<Void, Never>]>

    public init(
        specs: [ManagedProcessSpec], managed: Bool, logger: Logger, healthInterval: Duration = .seconds(15),
        startupTimeout: Duration = .seconds(120), minBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(30),
        outputLevel: Logger.Level = .debug
    ) {
        self.specs = specs
        self.managed = managed
        self.logger = logger
        self.healthInterval = healthInterval
        self.startupTimeout = startupTimeout
        self.minBackoff = minBackoff
        self.maxBackoff = maxBackoff
        self.outputLevel = outputLevel
        var initial: [String: RuntimeStatus] = [:]
        for spec in specs {
            initial[spec.name] = RuntimeStatus(name: spec.name, url: spec.url, health: RuntimeHealth(state: .unreachable), restarts: 0)
        }
        state = Mutex(initial)
        readyEvents = Mutex([])
    }

    /// The supervisor a config asks for.
    public convenience init(config: LLMConfig, logger: Logger) throws {
        let specs: [ManagedProcessSpec]
        switch (config.runtime, config.backend) {
        case (.managed, .openai):
            specs = try ManagedProcessSpec.llamaServer(for: config)
            for path in [config.llamaServerPath, config.chatModelPath, config.embeddingModelPath]
            where !FileManager.default.fileExists(atPath: path) {
                throw LLMError.runtimeFailed(
                    "\(path) does not exist: run scripts/setup-llm.sh to install llama-server and the models, "
                        + "or set llm.managed.* to your files, or llm.runtime: external")
            }
        case (.managed, .ollama):
            specs = [try ManagedProcessSpec.ollama(for: config)]
        case (.external, .openai):
            var list = [ManagedProcessSpec(name: "chat", kind: .llamaServer, executable: "", arguments: [], url: config.url)]
            if config.embeddingURL != config.url {
                list.append(ManagedProcessSpec(name: "embeddings", kind: .llamaServer, executable: "", arguments: [], url: config.embeddingURL))
            }
            specs = list
        case (.external, .ollama):
            specs = [ManagedProcessSpec(name: "ollama", kind: .ollama, executable: "", arguments: [], url: config.url)]
        }
        self.init(
            specs: specs, managed: config.runtime == .managed, logger: logger, healthInterval: config.timeouts.healthInterval.duration,
            startupTimeout: config.timeouts.startup.duration, maxBackoff: config.retry.maxDelay.duration)
    }

    /// A snapshot for `smollama status`.
    public func status() -> [RuntimeStatus] {
        state.withLock { state in specs.compactMap { state[$0.name] } }
    }

    /// Process ids of the running managed processes, by name.
    public func pids() -> [String: Int32] {
        state.withLock { state in state.compactMapValues(\.pid) }
    }

    /// Returns once every runtime reported healthy (or after `timeout`: false).
    public func waitUntilReady(timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: timeout)
        while clock.now < end {
            if status().allSatisfy({ $0.health.state == .ok }) { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return status().allSatisfy { $0.health.state == .ok }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for spec in self.specs {
                    group.addTask {
                        if self.managed {
                            await self.supervise(spec)
                        } else {
                            await self.watch(spec)
                        }
                    }
                }
            }
        }
    }

    // MARK: external

    func watch(_ spec: ManagedProcessSpec) async {
        var last: RuntimeHealth.State?
        while !Task.isCancelled {
            let health = await Self.check(spec, logger: logger)
            update(spec.name) { $0.health = health }
            if health.state != last {
                let level: Logger.Level = health.state == .ok ? .info : .warning
                logger.log(
                    level: level, "llm runtime health changed",
                    metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.url": "\(spec.url)", "smollama.llm.health": "\(health.state.rawValue)", "smollama.llm.detail": "\(health.detail ?? "")"])
                last = health.state
            }
            try? await Task.sleep(for: healthInterval)
        }
    }

    static func check(_ spec: ManagedProcessSpec, logger: Logger) async -> RuntimeHealth {
        switch spec.kind {
        case .llamaServer:
            await OpenAIClient(url: spec.url, model: "", retry: .none, logger: logger).health()
        case .ollama:
            await OllamaClient(url: spec.url, model: "", timeout: .seconds(5), retry: .none, logger: logger).health()
        }
    }

    // MARK: managed

    func update(_ name: String, _ change: (inout RuntimeStatus) -> Void) {
        state.withLock { state in
            if var entry = state[name] {
                change(&entry)
                state[name] = entry
            }
        }
    }

    func supervise(_ spec: ManagedProcessSpec) async {
        var failures = 0
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let started = clock.now
            let outcome = await runOnce(spec)
            if Task.isCancelled { break }
            update(spec.name) {
                $0.pid = nil
                $0.health = RuntimeHealth(state: .unreachable, detail: outcome)
                $0.restarts += 1
                $0.lastExit = outcome
            }
            // A process that ran healthy for a while starts the backoff over.
            if clock.now - started > .seconds(60) { failures = 0 }
            failures += 1
            let exponent = min(failures - 1, 10)
            let delay = min(minBackoff * (1 << exponent), maxBackoff)
            logger.warning(
                "llm runtime exited; restarting",
                metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.exit": "\(outcome)", "smollama.llm.restart_in": "\(delay)"])
            do { try await Task.sleep(for: delay) } catch { break }
        }
    }

    /// Starts the process, health-checks it until it exits; returns why it ended. On cancellation
    /// (graceful shutdown) terminates it before returning.
    func runOnce(_ spec: ManagedProcessSpec) async -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: spec.executable)
        process.arguments = spec.arguments
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in spec.environment { environment[key] = value }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let (exits, exitContinuation) = AsyncStream<String>.makeStream()
        process.terminationHandler = { finished in
            let reason = finished.terminationReason == .uncaughtSignal ? "signal \(finished.terminationStatus)" : "exit status \(finished.terminationStatus)"
            exitContinuation.yield(reason)
            exitContinuation.finish()
        }
        let lines = LineForwarder(logger: logger, name: spec.name, level: outputLevel)
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
            } else {
                lines.feed(data)
            }
        }
        do {
            try process.run()
        } catch {
            pipe.fileHandleForReading.readabilityHandler = nil
            return "failed to start \(spec.executable): \(error)"
        }
        let pid = process.processIdentifier
        update(spec.name) {
            $0.pid = pid
            $0.health = RuntimeHealth(state: .loading, detail: "starting")
        }
        logger.info(
            "llm runtime started",
            metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.pid": "\(pid)", "smollama.llm.url": "\(spec.url)", "smollama.llm.command": "\(([spec.executable] + spec.arguments).joined(separator: " "))"])

        let outcome: String = await withTaskGroup(of: String?.self) { group in
            group.addTask {
                var iterator = exits.makeAsyncIterator()
                return await iterator.next() ?? "exited"
            }
            group.addTask { [self] in
                await self.healthLoop(spec, startedAt: ContinuousClock.now)
                return nil
            }
            var result = "exited"
            while let next = await group.next() {
                if let reason = next {
                    result = reason
                    group.cancelAll()
                    break
                }
                if Task.isCancelled { break }
            }
            return result
        }
        if Task.isCancelled || process.isRunning {
            await terminate(process, spec: spec, exits: exits)
        }
        pipe.fileHandleForReading.readabilityHandler = nil
        lines.flush()
        return outcome
    }

    /// Polls health: during startup every 250 ms (503 = loading), then every `healthInterval`.
    /// Returns when cancelled, or when startup exceeded its timeout (then the process is killed
    /// so the supervisor restarts it).
    func healthLoop(_ spec: ManagedProcessSpec, startedAt: ContinuousClock.Instant) async {
        var ready = false
        while !Task.isCancelled {
            let health = await Self.check(spec, logger: logger)
            let pidNow = state.withLock { $0[spec.name]?.pid }
            if health.state == .ok {
                if !ready {
                    logger.info(
                        "llm runtime ready",
                        metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.url": "\(spec.url)", "smollama.llm.startup": "\(ContinuousClock.now - startedAt)"])
                }
                ready = true
                update(spec.name) { $0.health = health }
            } else if ready {
                logger.warning("llm runtime unhealthy", metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.detail": "\(health.detail ?? "")"])
                update(spec.name) { $0.health = health }
            } else if ContinuousClock.now - startedAt > startupTimeout {
                logger.error(
                    "llm runtime did not become healthy in time; killing it",
                    metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.timeout": "\(startupTimeout)"])
                if let pidNow { kill(pidNow, SIGKILL) }
                return
            } else {
                update(spec.name) { $0.health = RuntimeHealth(state: .loading, detail: health.detail) }
            }
            try? await Task.sleep(for: ready ? healthInterval : .milliseconds(250))
        }
    }

    func terminate(_ process: Process, spec: ManagedProcessSpec, exits: AsyncStream<String>) async {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        logger.info("stopping llm runtime", metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.pid": "\(pid)"])
        process.terminate()
        // Wait up to 5 s for SIGTERM, then SIGKILL. This runs during shutdown, so it must not
        // depend on the (cancelled) task: poll with a non-throwing sleep.
        for _ in 0..<50 where process.isRunning {
            usleep(100_000)
        }
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        update(spec.name) {
            $0.pid = nil
            $0.health = RuntimeHealth(state: .unreachable, detail: "stopped")
        }
    }
}

/// Splits a process's output into lines and logs each one.
final class LineForwarder: Sendable {
    let logger: Logger
    let name: String
    let level: Logger.Level
    let buffer = Mutex<[UInt8]>([])

    init(logger: Logger, name: String, level: Logger.Level) {
        self.logger = logger
        self.name = name
        self.level = level
    }

    func feed(_ data: Data) {
        let lines: [String] = buffer.withLock { buffer in
            buffer.append(contentsOf: data)
            var out: [String] = []
            while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                out.append(String(decoding: buffer[..<newline], as: UTF8.self))
                buffer.removeSubrange(...newline)
            }
            return out
        }
        for line in lines { emit(line) }
    }

    func flush() {
        let rest = buffer.withLock { buffer in
            defer { buffer.removeAll() }
            return String(decoding: buffer, as: UTF8.self)
        }
        if !rest.isEmpty { emit(rest) }
    }

    func emit(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return }
        let lower = trimmed.lowercased()
        let level: Logger.Level = lower.contains("error") || lower.contains("failed") ? max(self.level, .warning) : self.level
        logger.log(level: level, "\(trimmed)", metadata: ["smollama.llm.runtime": "\(name)"])
    }
}
