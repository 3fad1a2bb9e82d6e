import Foundation
import SmollamaProcess
import SmollamaTesting
import Synchronization
import Testing

@Suite struct ProcessSupervisorTests {
    @Test func backoffDoublesUpToTheMaximum() {
        let backoff = RestartBackoff(initial: .seconds(1), maximum: .seconds(30))
        #expect((1...7).map { backoff.delay(afterFailures: $0) } == [1, 2, 4, 8, 16, 30, 30].map { .seconds($0) })
        #expect(backoff.delay(afterFailures: 500) == .seconds(30))
    }

    /// A child that keeps exiting is restarted after 1 s, then 2 s, then 4 s of the supervisor's
    /// clock, which the test advances: no restart happens before its time, whatever the machine's speed.
    @Test func restartsWithBackoffOnTheGivenClock() async throws {
        let clock = ManualClock()
        let supervisor = ProcessSupervisor(backoff: RestartBackoff(initial: .seconds(1), maximum: .seconds(30)), clock: clock)
        let starts = Mutex(0)
        let endings = Mutex<[String]>([])
        let run = Task {
            try await supervisor.run(
                start: {
                    starts.withLock { $0 += 1 }
                    return try ChildProcess("/bin/sh", ["-c", "exit 3"], output: .discard)
                },
                exited: { ending, delay in endings.withLock { $0.append("\(ending) \(delay)") } })
        }
        for (round, delay) in [(1, 1), (2, 2), (3, 4)] {
            #expect(try await clock.waitForSleepers(1))
            #expect(starts.withLock { $0 } == round)
            #expect(endings.withLock { $0.last } == "exit status 3 \(delay).0 seconds")
            clock.advance(by: .seconds(delay) - .milliseconds(1))
            #expect(clock.sleepers == 1, "not restarted before its backoff")
            clock.advance(by: .milliseconds(1))
        }
        #expect(try await clock.waitForSleepers(1))
        #expect(starts.withLock { $0 } == 4)
        run.cancel()
        try await run.value
    }

    /// A child that ran longer than `healthyAfter` starts the backoff over.
    @Test func aChildThatRanLongEnoughStartsTheBackoffOver() async throws {
        let clock = ManualClock()
        let supervisor = ProcessSupervisor(
            backoff: RestartBackoff(initial: .seconds(1), maximum: .seconds(30), healthyAfter: .seconds(60)), clock: clock)
        let delays = Shared<[Duration]>([])
        let children = Shared<[ChildProcess]>([])
        let run = Task {
            try await supervisor.run(
                start: {
                    let child = try ChildProcess("sleep", ["30"], output: .discard)
                    children.withLock { $0.append(child) }
                    return child
                },
                exited: { _, delay in delays.withLock { $0.append(delay) } })
        }
        func killLatest(after ran: Duration) async throws {
            #expect(try await eventually { children.withLock { $0.count } == delays.withLock { $0.count } + 1 })
            clock.advance(by: ran)
            children.withLock { $0.last }?.signal(SIGKILL)
            #expect(try await clock.waitForSleepers(1))
            clock.advance(by: delays.withLock { $0.last } ?? .zero)
        }
        try await killLatest(after: .seconds(1))
        try await killLatest(after: .seconds(1))
        try await killLatest(after: .seconds(61))
        #expect(delays.withLock { $0 } == [.seconds(1), .seconds(2), .seconds(1)])
        run.cancel()
        try await run.value
    }

    /// Cancelling the run stops the child (SIGTERM to its group) and reports it.
    @Test func cancellationStopsTheRunningChild() async throws {
        let started = Mutex<ChildProcess?>(nil)
        let stopped = Mutex<ChildProcess.Termination?>(nil)
        let run = Task {
            try await ProcessSupervisor(clock: ManualClock()).run(
                start: {
                    let child = try ChildProcess("sleep", ["30"], output: .discard)
                    started.withLock { $0 = child }
                    return child
                },
                whileRunning: { _ in try? await Task.sleep(for: .seconds(3600)) },
                exited: { ending, _ in Issue.record("exited unexpectedly: \(ending)") },
                stopped: { _, termination in stopped.withLock { $0 = termination } })
        }
        #expect(try await eventually { started.withLock { $0 } != nil })
        run.cancel()
        try await run.value
        #expect(stopped.withLock { $0 } == .signalled(SIGTERM))
        #expect(started.withLock { $0 }?.isRunning == false)
    }

    /// A start that throws counts as an exit, and `exited` may give up by throwing.
    @Test func failedStartsAreReportedAndMayEndTheRun() async throws {
        struct GiveUp: Error {}
        await #expect(throws: GiveUp.self) {
            try await ProcessSupervisor(clock: ManualClock()).run(
                start: { try ChildProcess("smollama-no-such-program", []) },
                exited: { ending, _ in
                    guard case .failedToStart(let error) = ending else { return }
                    #expect("\(error)".contains("not found in PATH"))
                    throw GiveUp()
                })
        }
    }
}

/// A value shared between a test and the tasks it starts.
final class Shared<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout sending Value) -> sending R) -> R { value.withLock(body) }
}
