import Foundation
import Synchronization

/// A child process started with a clean signal state. Foundation's `Process` passes on the
/// parent's blocked and ignored signals (ServiceLifecycle ignores SIGTERM to handle it itself),
/// and a mosquitto started that way never stops on SIGTERM. `posix_spawn` here resets SIGTERM,
/// SIGINT, SIGHUP and SIGPIPE to their defaults and unblocks every signal.
public final class ChildProcess: Sendable {
    public let pid: Int32
    public let executable: String
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` (looked up in PATH) with `arguments`. Output goes to `output` (a file
    /// path, appended) or is inherited when nil. With `ownProcessGroup` a Ctrl-C at the terminal
    /// (or `timeout`) reaches only the parent, which then stops the child in its own time.
    public init(_ executable: String, _ arguments: [String], output: String? = nil, ownProcessGroup: Bool = false)
        throws(MQTTError)
    {
        self.executable = executable
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var reset = sigset_t()
        sigemptyset(&reset)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&reset, signal) }
        posix_spawnattr_setsigdefault(&attributes, &reset)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if ownProcessGroup {
            flags |= POSIX_SPAWN_SETPGROUP
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if let output {
            posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let result = posix_spawnp(&child, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw MQTTError.setup("cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
    }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Reaps the child if it exited.
    public var isRunning: Bool { status == nil }

    /// The exit status once the child has exited (a signal number + 128 if it was killed).
    public var status: Int32? {
        exitStatus.withLock { known in
            if let known { return known }
            var raw: Int32 = 0
            guard waitpid(pid, &raw, WNOHANG) == pid else { return nil }
            let code = raw & 0x7f == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            known = code
            return code
        }
    }

    /// Waits for the child to exit, polling (children are few and exits rare), at most `timeout`.
    @discardableResult
    public func wait(timeout: Duration = .seconds(3600)) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status { return status }
            do { try await Task.sleep(for: .milliseconds(50)) } catch { return status }
        }
        return status
    }

    /// Blocking variant for deinit paths and synchronous tests.
    @discardableResult
    public func waitBlocking(timeout: Duration = .seconds(10)) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status { return status }
            usleep(20_000)
        }
        return status
    }

    /// SIGTERM, then SIGKILL if it is still running after `grace`.
    public func stop(grace: Duration = .seconds(5)) {
        signal(SIGTERM)
        if waitBlocking(timeout: grace) == nil {
            signal(SIGKILL)
            waitBlocking(timeout: .seconds(5))
        }
    }
}
