/// The clock a service sleeps and measures intervals on: `ContinuousClock` in the daemon, a
/// test's manual clock in tests, which then advance time instead of waiting for it to pass.
///
/// Services take `some Clock<Duration>` and keep it as this value: readings are durations since
/// the clock was wrapped, so a service stays one non-generic type whatever clock it runs on.
public struct ServiceClock: Sendable {
    private let reading: @Sendable () -> Duration
    private let sleeper: @Sendable (Duration) async throws -> Void

    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        reading = { origin.duration(to: clock.now) }
        sleeper = { deadline in try await clock.sleep(until: origin.advanced(by: deadline), tolerance: nil) }
    }

    /// The real clock.
    public static var continuous: ServiceClock { ServiceClock(ContinuousClock()) }

    /// Time since the clock was wrapped.
    public var now: Duration { reading() }

    /// Sleeps until `now` reaches `deadline`; throws `CancellationError` when cancelled.
    public func sleep(until deadline: Duration) async throws { try await sleeper(deadline) }

    /// Sleeps for `duration`; throws `CancellationError` when cancelled.
    public func sleep(for duration: Duration) async throws { try await sleeper(now + duration) }
}
