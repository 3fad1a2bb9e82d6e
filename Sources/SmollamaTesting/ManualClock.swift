import Synchronization

/// A clock that moves only when the test says: services sleep on it, the test waits until they
/// do (`sleepers`) and then `advance`s it, so nothing depends on how fast the machine is.
public final class ManualClock: Clock, Sendable {
    public struct Instant: InstantProtocol, Sendable {
        public var offset: Duration

        public func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        public func duration(to other: Instant) -> Duration { other.offset - offset }
        public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    struct State {
        var now = Instant(offset: .zero)
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
        /// How many sleeps ever started: tests wait for it to grow ("the service slept again").
        var sleepsStarted = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var now: Instant { state.withLock { $0.now } }
    public var minimumResolution: Duration { .zero }

    public func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    state.sleepsStarted += 1
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward, waking every sleeper whose deadline has come.
    public func advance(by duration: Duration) {
        let due = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers.removeValue(forKey: id) }
            return due.values.sorted { $0.deadline < $1.deadline }
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Sleepers waiting now.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    /// Sleeps started since the clock was made (including ones already woken).
    public var sleepsStarted: Int { state.withLock { $0.sleepsStarted } }

    /// Advances by `step` again and again, pausing a moment of real time between steps for the
    /// services to run, until `condition` holds (true) or `timeout` of real time passed (false).
    public func advance(by step: Duration, until condition: () async throws -> Bool,
                        timeout: Duration = .seconds(60)) async throws -> Bool {
        try await eventually(timeout: timeout, poll: .milliseconds(2)) {
            if try await condition() { return true }
            advance(by: step)
            return false
        }
    }

    /// Waits (in real time, at most `timeout`) until at least `count` tasks sleep on the clock.
    public func waitForSleepers(_ count: Int = 1, timeout: Duration = .seconds(30)) async throws -> Bool {
        try await eventually(timeout: timeout, poll: .milliseconds(5)) { sleepers >= count }
    }
}
