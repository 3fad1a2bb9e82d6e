import SmollamaCore
import Synchronization

/// A read that did not return in time.
public struct DeadlineExceeded: Error, CustomStringConvertible, Sendable {
    public var limit: Duration
    public var description: String { "no answer within \(limit)" }
}

/// Set while an abandoned operation is still running, so the caller does not pile up more.
final class InFlight: Sendable {
    private let running = Mutex(false)
    var isRunning: Bool { running.withLock { $0 } }
    func set(_ value: Bool) { running.withLock { $0 = value } }
}

/// Resumes a continuation once, whoever comes first: the operation, the timer or cancellation.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
    }
    private let state = Mutex(State())

    func arm(_ continuation: CheckedContinuation<T, any Error>) { state.withLock { $0.continuation = continuation } }
    func track(work: Task<Void, Never>, timer: Task<Void, Never>) {
        state.withLock {
            $0.work = work
            $0.timer = timer
        }
    }
    func cancelWork() { state.withLock { $0.work }?.cancel() }

    /// The first call wins; it also stops the timer so no sleeping task outlives the race.
    func finish(_ result: Result<T, any Error>) {
        let (continuation, timer) = state.withLock { value in
            defer { value.continuation = nil }
            return (value.continuation, value.timer)
        }
        continuation?.resume(with: result)
        timer?.cancel()
    }
}

/// Runs `operation` but gives up after `limit` of `clock`, even if the operation ignores cancellation
/// (a driver stuck in a blocking syscall). The abandoned operation is cancelled and left to
/// finish on its own; `inFlight` tells the caller it is still running.
///
/// This is the one place that uses unstructured tasks: structured concurrency would wait for
/// the stuck child, which is exactly what must not stop the other sensors.
func withDeadline<T: Sendable>(
    _ limit: Duration, clock: ServiceClock = .continuous, inFlight: InFlight? = nil, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = Race<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.arm(continuation)
            inFlight?.set(true)
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                inFlight?.set(false)
                race.finish(result)
            }
            let timer = Task {
                guard (try? await clock.sleep(for: limit)) != nil else { return }
                race.finish(.failure(DeadlineExceeded(limit: limit)))
                work.cancel()
            }
            race.track(work: work, timer: timer)
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
        race.cancelWork()
    }
}
