import Foundation
import SmollamaCore
import SmollamaProcess
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
/// - `runtime: managed`: starts `llama-server` (a chat and an embedding instance) or `ollama serve`
///   through `ProcessSupervisor`, waits through 503 "loading", forwards the process's output to the
///   logger, restarts it with exponential backoff when it exits, and terminates it (SIGTERM, then
///   SIGKILL) on graceful shutdown. The processes die with smollama even when it is SIGKILLed.
///
/// Health intervals, the startup timeout and the backoff are measured on `clock`.
public final class RuntimeSupervisor: Service, Sendable {
    public let specs: [ManagedProcessSpec]
    let managed: Bool
    let logger: Logger
    let healthInterval: Duration
    let startupTimeout: Duration
    let backoff: RestartBackoff
    let outputLevel: Logger.Level
    let clock: ServiceClock
    /// Where pid files of managed processes go, so a process orphaned by a killed smollama is
    /// stopped on the next start instead of holding the port. nil: no pid files.
    let stateDirectory: String?
    let state: Mutex<[String: RuntimeStatus]>

    public init(
        specs: [ManagedProcessSpec], managed: Bool, logger: Logger, healthInterval: Duration = .seconds(15),
        startupTimeout: Duration = .seconds(120), minBackoff: Duration = .seconds(1), maxBackoff: Duration = .seconds(30),
        outputLevel: Logger.Level = .debug, stateDirectory: String? = nil, clock: some Clock<Duration> = ContinuousClock()
    ) {
        self.stateDirectory = stateDirectory
        self.specs = specs
        self.managed = managed
        self.logger = logger
        self.healthInterval = healthInterval
        self.startupTimeout = startupTimeout
        backoff = RestartBackoff(initial: minBackoff, maximum: maxBackoff, healthyAfter: .seconds(60))
        self.outputLevel = outputLevel
        self.clock = ServiceClock(clock)
        var initial: [String: RuntimeStatus] = [:]
        for spec in specs {
            initial[spec.name] = RuntimeStatus(name: spec.name, url: spec.url, health: RuntimeHealth(state: .unreachable), restarts: 0)
        }
        state = Mutex(initial)
    }

    /// The supervisor a config asks for.
    public convenience init(config: LLMConfig, logger: Logger, clock: some Clock<Duration> = ContinuousClock()) throws {
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
            startupTimeout: config.timeouts.startup.duration, maxBackoff: config.retry.maxDelay.duration,
            stateDirectory: config.runtime == .managed ? config.resolvedCacheDirectory + "/run" : nil, clock: clock)
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
            try? await clock.sleep(for: healthInterval)
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
        let pidFile = stateDirectory.map { Self.pidFilePath(spec, in: $0) }
        let lines = LineForwarder(logger: logger, name: spec.name, level: outputLevel)
        let supervisor = ProcessSupervisor(backoff: backoff, clock: clock)
        try? await supervisor.run(
            start: { try self.start(spec, pidFile: pidFile, lines: lines) },
            whileRunning: { child in await self.healthLoop(spec, child: child, startedAt: self.clock.now) },
            exited: { ending, delay in
                if let pidFile { try? FileManager.default.removeItem(atPath: pidFile) }
                self.update(spec.name) {
                    $0.pid = nil
                    $0.health = RuntimeHealth(state: .unreachable, detail: "\(ending)")
                    $0.restarts += 1
                    $0.lastExit = "\(ending)"
                }
                self.logger.warning(
                    "llm runtime exited; restarting",
                    metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.exit": "\(ending)", "smollama.llm.restart_in": "\(delay)"])
            },
            stopped: { child, _ in
                self.logger.info("stopped llm runtime", metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.pid": "\(child.pid)"])
                if let pidFile { try? FileManager.default.removeItem(atPath: pidFile) }
                self.update(spec.name) {
                    $0.pid = nil
                    $0.health = RuntimeHealth(state: .unreachable, detail: "stopped")
                }
            })
    }

    /// Starts the process (after stopping one an earlier, killed smollama left behind) and
    /// records its pid.
    func start(_ spec: ManagedProcessSpec, pidFile: String?, lines: LineForwarder) throws -> ChildProcess {
        if let pidFile { Self.reapStale(spec, pidFile: pidFile, logger: logger) }
        let process = try ChildProcess(spec.executable, spec.arguments, environment: spec.environment,
                                       output: .lines { lines.emit($0) })
        if let pidFile, let directory = stateDirectory {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try? Data("\(process.pid)\n".utf8).write(to: URL(fileURLWithPath: pidFile))
        }
        update(spec.name) {
            $0.pid = process.pid
            $0.health = RuntimeHealth(state: .loading, detail: "starting")
        }
        logger.info(
            "llm runtime started",
            metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.pid": "\(process.pid)", "smollama.llm.url": "\(spec.url)", "smollama.llm.command": "\(([spec.executable] + spec.arguments).joined(separator: " "))"])
        return process
    }

    static func pidFilePath(_ spec: ManagedProcessSpec, in directory: String) -> String {
        let port = URL(string: spec.url)?.port.map(String.init) ?? "default"
        return directory + "/\(spec.kind.rawValue)-\(spec.name)-\(port).pid"
    }

    /// Stops a process left over from an earlier run (its pid file survived because smollama was
    /// killed): only if that pid still runs `spec.executable`, so a reused pid is never touched.
    public static func reapStale(_ spec: ManagedProcessSpec, pidFile: String, logger: Logger) {
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 1,
            let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
        else { return }
        let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        // Same program (by path or name) with the very same arguments, which include the port.
        let sameProgram = arguments.first == spec.executable
            || arguments.first.map { ($0 as NSString).lastPathComponent } == (spec.executable as NSString).lastPathComponent
        guard sameProgram, arguments.dropFirst().elementsEqual(spec.arguments) else { return }
        logger.warning(
            "stopping an llm runtime left over from an earlier run",
            metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.pid": "\(pid)"])
        kill(pid, SIGTERM)
        for _ in 0..<30 where kill(pid, 0) == 0 {
            usleep(100_000)
            // Reap it if it happens to be our child; harmless otherwise.
            var status: Int32 = 0
            _ = waitpid(pid, &status, WNOHANG)
        }
        if kill(pid, 0) == 0 { kill(pid, SIGKILL) }
    }

    /// Polls health: during startup every 250 ms (503 = loading), then every `healthInterval`.
    /// Returns when cancelled, or when startup exceeded its timeout (then the process is killed
    /// so the supervisor restarts it).
    func healthLoop(_ spec: ManagedProcessSpec, child: ChildProcess, startedAt: Duration) async {
        var ready = false
        while !Task.isCancelled {
            let health = await Self.check(spec, logger: logger)
            if health.state == .ok {
                if !ready {
                    logger.info(
                        "llm runtime ready",
                        metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.url": "\(spec.url)", "smollama.llm.startup": "\(clock.now - startedAt)"])
                }
                ready = true
                update(spec.name) { $0.health = health }
            } else if ready {
                logger.warning("llm runtime unhealthy", metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.detail": "\(health.detail ?? "")"])
                update(spec.name) { $0.health = health }
            } else if clock.now - startedAt > startupTimeout {
                logger.error(
                    "llm runtime did not become healthy in time; killing it",
                    metadata: ["smollama.llm.runtime": "\(spec.name)", "smollama.llm.timeout": "\(startupTimeout)"])
                child.signal(SIGKILL)
                return
            } else {
                update(spec.name) { $0.health = RuntimeHealth(state: .loading, detail: health.detail) }
            }
            try? await clock.sleep(for: ready ? healthInterval : .milliseconds(250))
        }
    }
}

/// Logs each line of a process's output, at `level`, or at warning when it reads like an error.
struct LineForwarder: Sendable {
    let logger: Logger
    let name: String
    let level: Logger.Level

    func emit(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return }
        let lower = trimmed.lowercased()
        let level: Logger.Level = lower.contains("error") || lower.contains("failed") ? max(self.level, .warning) : self.level
        logger.log(level: level, "\(trimmed)", metadata: ["smollama.llm.runtime": "\(name)"])
    }
}
