import Foundation
import SmollamaTesting
import Synchronization
import Testing

/// Runs the real `smollama` binary, as a user or a service manager would.
enum SmollamaBinary {
    /// `SMOLLAMA_BINARY`, else the debug build next to this package.
    static var path: String {
        if let path = ProcessInfo.processInfo.environment["SMOLLAMA_BINARY"] { return path }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/smollama").path
    }

    static func checkBuilt() throws {
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BinaryMissing(path: path)
        }
    }

    struct BinaryMissing: Error, CustomStringConvertible {
        var path: String
        var description: String { "\(path) is missing: run `swift build` before the tests (scripts/test does)" }
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs to completion. Waits without blocking a thread: tests run in parallel on a pool of one
    /// thread per core, and a blocked thread stalls every other test.
    static func run(_ arguments: [String], home: String, environment: [String: String] = [:]) async throws -> Output {
        let process = RunningNode(arguments: arguments, home: home, environment: environment)
        try process.start()
        while process.process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        await process.outputEnded()
        return Output(status: process.process.terminationStatus, stdout: process.stdout, stderr: process.stderr)
    }
}

/// A started `smollama` process whose output is collected as it comes.
final class RunningNode: Sendable {
    let process = Process()
    private let out = OutputBuffer()
    private let err = OutputBuffer()

    init(arguments: [String], home: String, environment: [String: String] = [:]) {
        process.executableURL = URL(fileURLWithPath: SmollamaBinary.path)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["SMOLLAMA_HOME"] = home
        // Daemons in tests serve their dashboard on a free port, never on a fixed one.
        env["SMOLLAMA_HTTP_PORT"] = "0"
        // Nodes started by these tests do not start llama-servers of their own (two per daemon on a
        // 2-core machine); the LLM suites start and check the runtime themselves.
        env["SMOLLAMA_LLM_RUNTIME"] = "external"
        // Hubs started by these tests do not announce themselves over mDNS (the host's network);
        // the mDNS tests turn it on, on loopback or in network namespaces of their own.
        env["SMOLLAMA_MDNS_ANNOUNCE"] = "false"
        env.merge(environment) { $1 }
        process.environment = env
    }

    func start() throws {
        try SmollamaBinary.checkBuilt()
        let stdoutPipe = Pipe(), stderrPipe = Pipe()
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        out.drain(stdoutPipe.fileHandleForReading)
        err.drain(stderrPipe.fileHandleForReading)
        try process.run()
    }

    var stdout: String { out.text }
    var stderr: String { err.text }

    /// Returns once both pipes reached end of file (the process exited and its last chunk arrived).
    func outputEnded() async {
        _ = try? await eventually { out.ended && err.ended }
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit, at most `timeout`.
    func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(50))
        }
        return process.terminationStatus
    }
}

final class OutputBuffer: Sendable {
    private let data = Mutex((bytes: Data(), ended: false))

    /// Reads `handle` (a pipe's reading end) to its end on a thread of its own, with blocking
    /// reads; an empty read is end of file. Not `readabilityHandler`: that is a dispatch read
    /// source, and when the pipe's descriptor is closed (the `Pipe` freed) before libdispatch has
    /// run the source's cancellation, its event loop touches a freed source — a SIGSEGV in
    /// `_dispatch_event_loop_drain`, which ended a full test run twice.
    func drain(_ handle: FileHandle) {
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                data.withLock {
                    if chunk.isEmpty { $0.ended = true } else { $0.bytes.append(chunk) }
                }
                if chunk.isEmpty { return }
            }
        }
        thread.start()
    }

    var ended: Bool { data.withLock { $0.ended } }
    var text: String { data.withLock { String(decoding: $0.bytes, as: UTF8.self) } }
}

/// A node home for tests that run daemons: `init --demo`, then a config with an external LLM
/// runtime, 200 ms flushes, 1 s sync rounds and the simulated house read every 100 ms, plus
/// `extra` (more top-level YAML). The directory's name starts with `prefix`.
func daemonTestHome(_ prefix: String, name: String, role: String, extra: String = "") async throws
    -> TemporaryDirectory
{
    let home = try TemporaryDirectory("\(prefix)-\(name)")
    let initialised = try await SmollamaBinary.run(["init", "--demo", "--name", name, "--role", role], home: home.path)
    try #require(initialised.status == 0, "init failed: \(initialised.stderr)")
    let config = """
        node:
          name: \(name)
          role: \(role)
        llm:
          runtime: external
        store:
          flush_interval: 200ms
        sync:
          interval: 1s
          max_backoff: 2s
        sensors:
          drivers:
            - driver: simulated_house
              interval: 100ms
              on_change: false
        \(extra)
        """
    try config.write(toFile: home.path + "/config.yaml", atomically: true, encoding: .utf8)
    return home
}
