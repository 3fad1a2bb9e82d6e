public import SmollamaCore

/// How long to wait before restarting a child that exited: doubling from `initial` up to
/// `maximum`; a child that ran for at least `healthyAfter` starts the doubling over.
public struct RestartBackoff: Sendable, Hashable {
    public var initial: Duration
    public var maximum: Duration
    public var healthyAfter: Duration

    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(30), healthyAfter: Duration = .seconds(60)) {
        self.initial = initial
        self.maximum = maximum
        self.healthyAfter = healthyAfter
    }

    /// The delay after the `failures`-th exit in a row (1 for the first).
    public func delay(afterFailures failures: Int) -> Duration {
        min(initial * (1 << min(max(failures, 1) - 1, 10)), maximum)
    }
}

/// Keeps one child process running: starts it, watches it beside `whileRunning` (health checks),
/// restarts it with `RestartBackoff` when it exits, and stops it (SIGTERM to its process group,
/// SIGKILL after `stopGrace`) when the task running `run` is cancelled. The one supervisor
/// behind llama-server, Ollama and mosquitto; backoff waits are on `clock`, so tests advance them.
public struct ProcessSupervisor: Sendable {
    /// Why one run of the child ended.
    public enum Ending: Sendable, CustomStringConvertible {
        case exited(ChildProcess.Termination)
        case failedToStart(any Error)

        public var description: String {
            switch self {
            case .exited(let termination): "\(termination)"
            case .failedToStart(let error): "\(error)"
            }
        }
    }

    public var backoff: RestartBackoff
    public var stopGrace: Duration
    public var clock: ServiceClock

    public init(backoff: RestartBackoff = RestartBackoff(), stopGrace: Duration = .seconds(5),
                clock: some Clock<Duration> = ContinuousClock()) {
        self.init(backoff: backoff, stopGrace: stopGrace, clock: ServiceClock(clock))
    }

    /// For services that already keep their clock as a `ServiceClock`.
    public init(backoff: RestartBackoff, stopGrace: Duration = .seconds(5), clock: ServiceClock) {
        self.backoff = backoff
        self.stopGrace = stopGrace
        self.clock = clock
    }

    /// Runs until cancelled. `start` starts the child (its error counts as an exit); `whileRunning`
    /// runs beside it until it exits (its return does not end the run); `exited` hears why a run
    /// ended and when the next starts, and may throw to give up (`run` then rethrows).
    /// `stopped` hears the ending of the child stopped at cancellation.
    public func run(
        start: @Sendable () async throws -> ChildProcess,
        whileRunning: @escaping @Sendable (ChildProcess) async -> Void = { _ in },
        exited: @Sendable (Ending, _ restartIn: Duration) async throws -> Void,
        stopped: @Sendable (ChildProcess, ChildProcess.Termination?) async -> Void = { _, _ in }
    ) async throws {
        var failures = 0
        while !Task.isCancelled {
            let started = clock.now
            let ending: Ending
            do {
                let child = try await start()
                guard let termination = await Self.watch(child, whileRunning: whileRunning) else {
                    await stopped(child, await child.terminate(grace: stopGrace))
                    return
                }
                // Exited as shutdown began (a Ctrl-C reaches the whole terminal's group): no restart.
                if Task.isCancelled {
                    await stopped(child, termination)
                    return
                }
                ending = .exited(termination)
            } catch {
                if Task.isCancelled { return }
                ending = .failedToStart(error)
            }
            failures = clock.now - started >= backoff.healthyAfter ? 1 : failures + 1
            let delay = backoff.delay(afterFailures: failures)
            try await exited(ending, delay)
            do { try await clock.sleep(for: delay) } catch { return }
        }
    }

    /// The child's termination, or nil when the task was cancelled first (the child still runs).
    static func watch(_ child: ChildProcess, whileRunning: @escaping @Sendable (ChildProcess) async -> Void) async
        -> ChildProcess.Termination?
    {
        await withTaskGroup(of: ChildProcess.Termination?.self) { group in
            group.addTask { await child.wait() }
            group.addTask {
                await whileRunning(child)
                return nil
            }
            while let next = await group.next() {
                if next != nil || Task.isCancelled {
                    group.cancelAll()
                    return next
                }
            }
            return nil
        }
    }
}
