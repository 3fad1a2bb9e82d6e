#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CLOCK_MONOTONIC in nanoseconds: the clock GPIO edge timestamps use by default, so a driver
/// can compare "now" with an event's `timestampNanoseconds`.
public enum MonotonicClock {
    public static func nowNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

/// Blocking pauses inside device transactions (always on a `BlockingIO` queue, never the pool).
public enum DevicePause {
    public static let real: @Sendable (_ microseconds: UInt32) -> Void = { usleep($0) }
}
