import ServiceLifecycle
import SmollamaCore

extension ServiceClock {
    /// Runs `body` once `first` has passed, then every `interval`, until the task is cancelled
    /// or graceful shutdown begins. After a long pause (a suspended machine) it starts again
    /// from now instead of catching up on the missed runs. The scheduled services' one loop.
    func repeating(first: Duration, every interval: Duration, _ body: () async -> Void) async {
        var next = now + first
        while !Task.isCancelled {
            let deadline = next
            do {
                try await cancelWhenGracefulShutdown { try await sleep(until: deadline) }
            } catch {
                return
            }
            if Task.isCancelled { return }
            await body()
            next = next + interval
            if next < now { next = now + interval }
        }
    }
}
