/// Turns the edges of an HC-SR501 PIR output into motion on/off transitions.
///
/// The module needs about a minute after power-up before its output means anything (warm-up),
/// and after its output falls it ignores motion for about 3 s (lockout, ~2.5 s on most boards).
/// So edges before warm-up ends are not reported, and a rising edge inside the lockout window —
/// which the module cannot produce — is treated as electrical noise, together with its falling edge.
public struct PIRMotionLogic: Hashable, Sendable {
    public var warmUpNanoseconds: UInt64
    public var lockoutNanoseconds: UInt64
    /// CLOCK_MONOTONIC time the sensor was powered or the driver started.
    public var startNanoseconds: UInt64

    private var reported: Bool?
    private var lastFallNanoseconds: UInt64?
    private var suppressingGlitch = false
    /// Rising edges discarded as noise (inside the lockout window).
    public private(set) var glitches = 0

    public init(startNanoseconds: UInt64, warmUpNanoseconds: UInt64 = 60_000_000_000, lockoutNanoseconds: UInt64 = 3_000_000_000) {
        self.startNanoseconds = startNanoseconds
        self.warmUpNanoseconds = warmUpNanoseconds
        self.lockoutNanoseconds = lockoutNanoseconds
    }

    public func isWarm(at nanoseconds: UInt64) -> Bool {
        nanoseconds >= startNanoseconds &+ warmUpNanoseconds
    }

    /// The motion state to report after `event`, or nil when nothing new is to be reported.
    public mutating func process(_ event: GPIOEdgeEvent) -> Bool? {
        let time = event.timestampNanoseconds
        switch event.edge {
        case .rising:
            if event.missedBefore == 0, let fall = lastFallNanoseconds, time &- fall < lockoutNanoseconds, time > fall {
                suppressingGlitch = true
                glitches += 1
                return nil
            }
            suppressingGlitch = false
        case .falling:
            if suppressingGlitch {
                suppressingGlitch = false
                return nil
            }
            lastFallNanoseconds = time
        }
        guard isWarm(at: time) else { return nil }
        let motion = event.edge == .rising
        guard motion != reported else { return nil }
        reported = motion
        return motion
    }
}
