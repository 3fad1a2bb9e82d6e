import Foundation
public import SmollamaCore
#if canImport(Glibc)
import Glibc
#endif

extension UTCMillis {
    /// The system's wall clock (CLOCK_REALTIME) now. Untrusted on a Pi without RTC: stamps
    /// that must be ordered come from `NodeClock`, which decides whether to believe it.
    public static func now() -> UTCMillis {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UTCMillis(rawValue: Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000)
    }
}

/// Where the node's clock reads time. Injectable so tests can boot a node at 1970 or 2099.
public protocol ClockSource: Sendable {
    /// Wall clock, UTC milliseconds (CLOCK_REALTIME): may be 1970 on a Pi without RTC.
    func wallMilliseconds() -> Int64
    /// Monotonic time since boot including suspend (CLOCK_BOOTTIME), nanoseconds.
    func monotonicNanoseconds() -> UInt64
    /// Identifies this boot: monotonic times are comparable only within one boot.
    var bootID: String { get }
}

/// The machine's real clocks.
public struct SystemClockSource: ClockSource {
    public let bootID: String

    public init(bootIDPath: String = "/proc/sys/kernel/random/boot_id") {
        let text = (try? String(contentsOfFile: bootIDPath, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        bootID = text.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown-\(UUID().uuidString.lowercased())"
    }

    public func wallMilliseconds() -> Int64 { UTCMillis.now().rawValue }

    public func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_BOOTTIME, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

/// The node's one clock: every reading and event is stamped here, so everything a node writes
/// is ordered by a single monotonic hybrid logical clock.
public actor NodeClock {
    private var clock: HybridLogicalClock
    private let source: any ClockSource
    private var lastQuality: ClockQuality?

    /// Starts from the largest timestamp the store ever issued, so restarts never go back.
    public init(source: any ClockSource, persisted: HLCTimestamp?, policy: HybridLogicalClock.Policy = .init()) {
        self.source = source
        self.clock = HybridLogicalClock(
            persisted: persisted, monotonicNanoseconds: source.monotonicNanoseconds(), policy: policy)
    }

    /// A stamp for something happening now. `qualityChanged` tells the caller to log the change.
    public func stamp() -> (stamp: ClockStamp, qualityChanged: Bool, wall: Int64) {
        let wall = source.wallMilliseconds()
        let monotonic = source.monotonicNanoseconds()
        let hlc = clock.tick(wallMilliseconds: wall, monotonicNanoseconds: monotonic)
        let changed = lastQuality != clock.quality
        lastQuality = clock.quality
        return (ClockStamp(hlc: hlc, bootID: source.bootID, monotonicNanoseconds: monotonic, quality: clock.quality),
                changed, wall)
    }

    /// A stamp for an event whose writer does not log clock changes (observations, memories, sync,
    /// shared memory). Only the sensor scheduler logs them, through `stamp()`: a quality change
    /// seen here is still reported by the next `stamp()`, so a node booted with a wrong clock logs
    /// it whichever service happens to stamp first.
    public func eventStamp() -> ClockStamp {
        let monotonic = source.monotonicNanoseconds()
        let hlc = clock.tick(wallMilliseconds: source.wallMilliseconds(), monotonicNanoseconds: monotonic)
        return ClockStamp(hlc: hlc, bootID: source.bootID, monotonicNanoseconds: monotonic, quality: clock.quality)
    }

    /// The current time in node-clock milliseconds (issues a stamp, so it is monotonic too).
    /// A quality change seen here is still reported by the next `stamp()`.
    public func now() -> UTCMillis {
        clock.tick(wallMilliseconds: source.wallMilliseconds(), monotonicNanoseconds: source.monotonicNanoseconds())
            .time
    }

    public var quality: ClockQuality? { lastQuality }

    /// Adopts the hub's time read at `monotonicNanoseconds` (a sync handshake): while the wall
    /// clock is untrusted, new stamps follow it and are trusted. Returns whether stamps follow
    /// the hub's time now (false: the wall clock is trusted and wins).
    @discardableResult
    public func adopt(hubTime: UTCMillis, monotonicNanoseconds: UInt64) -> Bool {
        clock.adopt(referenceMilliseconds: hubTime.rawValue, monotonicNanoseconds: monotonicNanoseconds)
        _ = clock.tick(wallMilliseconds: source.wallMilliseconds(), monotonicNanoseconds: source.monotonicNanoseconds())
        return clock.followsReference
    }

    /// Takes in a timestamp seen from another node, so the next stamp orders after it (an edit
    /// made here of a version written elsewhere must win over that version).
    public func observe(_ remote: HLCTimestamp) {
        clock.observe(remote, monotonicNanoseconds: source.monotonicNanoseconds())
    }
}
