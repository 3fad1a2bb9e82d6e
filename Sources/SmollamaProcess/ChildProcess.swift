import CSpawn
import Foundation
import Synchronization

/// A child process started the one way smollama starts processes (llama-server, Ollama,
/// mosquitto, and the tools and servers tests run).
///
/// Every child starts with all signals unblocked and at their default actions (Foundation's
/// `Process` and `posix_spawn` pass on what the parent blocks and ignores: ServiceLifecycle
/// ignores SIGTERM to handle it itself, and a mosquitto started that way never stops on SIGTERM),
/// in a process group of its own (a Ctrl-C at the terminal reaches only smollama, which stops its
/// children in its own time; `signal` reaches the whole group), with only stdin/stdout/stderr open,
/// and with `PR_SET_PDEATHSIG` armed: when smollama dies, even by SIGKILL, the kernel kills the
/// child. See `CSpawn` for the fork and exec.
public final class ChildProcess: Sendable {
    /// Where the child's stdout and stderr go.
    public enum Output: Sendable {
        /// smollama's own stdout and stderr.
        case inherit
        case discard
        /// Appended to a file (created if missing).
        case file(String)
        /// Split into lines, each handed to the closure (on a reader thread), the last partial
        /// line at end of output.
        case lines(@Sendable (String) -> Void)
    }

    /// How the child ended.
    public enum Termination: Sendable, Hashable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)
        /// The child is gone but its status could not be read (something else reaped it).
        case unknown

        /// The shell's convention: the exit status, or 128 + the signal number.
        public var code: Int32 {
            switch self {
            case .exited(let status): status
            case .signalled(let signal): 128 + signal
            case .unknown: 255
            }
        }

        public var description: String {
            switch self {
            case .exited(let status): "exit status \(status)"
            case .signalled(let signal): "signal \(signal)"
            case .unknown: "exit status unknown"
            }
        }
    }

    public let pid: Int32
    public let executable: String
    private let exit = ExitBox()

    /// How the child ended and who waits for it; the reaper thread fills it in.
    final class ExitBox: Sendable {
        struct State {
            var termination: Termination?
            var waiters: [UInt64: CheckedContinuation<Termination?, Never>] = [:]
            var nextWaiter: UInt64 = 0
        }
        let state = Mutex(State())
    }

    /// Starts `executable` (a path, or a name looked up in PATH) with `arguments`. `environment`
    /// is added to (and overrides) smollama's own environment. The child gets SIGKILL when smollama
    /// dies.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                output: Output = .inherit) throws(SpawnError)
    {
        self.executable = executable
        guard let path = Self.resolve(executable) else {
            throw SpawnError(executable: executable, reason: "not found in PATH (\(Self.searchPath.joined(separator: ":")))")
        }
        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { $1 }
        let (stdoutFD, reader) = try Self.openOutput(output, executable: executable)
        let pid = Self.spawn(path: path, arguments: [executable] + arguments,
                             environment: merged.map { "\($0.key)=\($0.value)" }, output: stdoutFD)
        if case .file = output { close(stdoutFD) }
        if let reader { close(reader.writeEnd) }
        guard pid > 0 else {
            if let reader { close(reader.readEnd) }
            throw SpawnError(executable: executable, reason: String(cString: strerror(-pid)))
        }
        self.pid = pid
        if let reader, case .lines(let handler) = output {
            Self.startReader(fd: reader.readEnd, name: executable, handler: handler)
        }
        let reaper = Thread { [exit] in
            var raw: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(pid, &raw, 0) } while result < 0 && errno == EINTR
            let termination: Termination =
                result != pid ? .unknown : raw & 0x7f == 0 ? .exited((raw >> 8) & 0xff) : .signalled(raw & 0x7f)
            let waiters = exit.state.withLock { state in
                state.termination = termination
                defer { state.waiters = [:] }
                return Array(state.waiters.values)
            }
            for waiter in waiters { waiter.resume(returning: termination) }
        }
        reaper.name = "smollama-reap-\(pid)"
        reaper.stackSize = 64 * 1024
        reaper.start()
    }

    /// How the child ended, or nil while it runs.
    public var termination: Termination? { exit.state.withLock { $0.termination } }

    /// The exit status once the child has exited (a signal number + 128 if it was killed).
    public var status: Int32? { termination?.code }

    public var isRunning: Bool { termination == nil }

    /// Sends `signal` to the child's process group (the child and anything it started).
    public func signal(_ signal: Int32) {
        if isRunning { kill(-pid, signal) }
    }

    /// Returns how the child ended, once it has; nil if the calling task is cancelled first.
    public func wait() async -> Termination? {
        let id = exit.state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ended: Termination?? = exit.state.withLock { state in
                    if let termination = state.termination { return .some(termination) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let ended { continuation.resume(returning: ended) }
            }
        } onCancel: {
            exit.state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: nil)
        }
    }

    /// Waits at most `timeout` (real time) for the child to exit. Not cut short by cancellation,
    /// so shutdown paths can use it.
    @discardableResult
    public func wait(timeout: Duration) async -> Int32? {
        if let status { return status }
        let waiter = Task { await self.wait() }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            waiter.cancel()
        }
        defer { timer.cancel() }
        return await waiter.value?.code
    }

    /// Blocking variant for synchronous tests and tools.
    @discardableResult
    public func waitBlocking(timeout: Duration = .seconds(10)) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status { return status }
            usleep(10_000)
        }
        return status
    }

    /// SIGTERM to the group, then SIGKILL if the child still runs after `grace`; returns once
    /// it exited. Not cut short by cancellation (it runs during shutdown).
    @discardableResult
    public func terminate(grace: Duration = .seconds(5)) async -> Termination? {
        signal(SIGTERM)
        if await wait(timeout: grace) == nil {
            signal(SIGKILL)
            await wait(timeout: .seconds(5))
        }
        return termination
    }

    /// Blocking `terminate`, for synchronous callers.
    public func stop(grace: Duration = .seconds(5)) {
        signal(SIGTERM)
        if waitBlocking(timeout: grace) == nil {
            signal(SIGKILL)
            waitBlocking(timeout: .seconds(5))
        }
    }

    // MARK: starting

    static var searchPath: [String] {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
            .split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"]
    }

    /// The executable's path: as given when it has a slash, else the first match in PATH.
    static func resolve(_ executable: String) -> String? {
        if executable.contains("/") { return executable }
        for directory in searchPath {
            let candidate = directory + "/" + executable
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    struct Pipe {
        var readEnd: Int32
        var writeEnd: Int32
    }

    /// The descriptor the child writes to (-2: inherit, -1: /dev/null) and, for `.lines`, the pipe.
    static func openOutput(_ output: Output, executable: String) throws(SpawnError) -> (Int32, Pipe?) {
        switch output {
        case .inherit:
            return (-2, nil)
        case .discard:
            return (-1, nil)
        case .file(let path):
            let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw SpawnError(executable: executable, reason: "cannot open \(path) for its output: \(String(cString: strerror(errno)))")
            }
            return (fd, nil)
        case .lines:
            var ends: [Int32] = [0, 0]
            guard smollama_pipe_cloexec(&ends) == 0 else {
                throw SpawnError(executable: executable, reason: "cannot create a pipe: \(String(cString: strerror(errno)))")
            }
            return (ends[1], Pipe(readEnd: ends[0], writeEnd: ends[1]))
        }
    }

    static func spawn(path: String, arguments: [String], environment: [String], output: Int32) -> pid_t {
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        return path.withCString { cPath in
            argv.withUnsafeBufferPointer { argvBuffer in
                envp.withUnsafeBufferPointer { envpBuffer in
                    var request = smollama_spawn_request(
                        path: cPath, argv: argvBuffer.baseAddress, envp: envpBuffer.baseAddress, stdin_fd: -1,
                        stdout_fd: output == -2 ? 1 : output, stderr_fd: output == -2 ? 2 : output,
                        death_signal: SIGKILL)
                    return smollama_spawn(&request)
                }
            }
        }
    }

    /// Reads the child's output until end of file, handing it over line by line.
    static func startReader(fd: Int32, name: String, handler: @escaping @Sendable (String) -> Void) {
        let reader = Thread {
            var pending: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                pending.append(contentsOf: chunk[..<count])
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    handler(String(decoding: pending[..<newline], as: UTF8.self))
                    pending.removeSubrange(...newline)
                }
            }
            close(fd)
            if !pending.isEmpty { handler(String(decoding: pending, as: UTF8.self)) }
        }
        reader.name = "smollama-output-\(name)"
        reader.start()
    }
}

/// A child process could not be started.
public struct SpawnError: Error, CustomStringConvertible, Sendable {
    public var executable: String
    public var reason: String

    public var description: String { "cannot start \(executable): \(reason)" }
}
