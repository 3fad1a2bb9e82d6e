public import Foundation

/// A hybrid logical clock timestamp: 48 bits of UTC milliseconds and a 16-bit counter, packed
/// into one Int64 so SQLite can index and compare it as an integer.
public struct HLCTimestamp: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public static let maxMilliseconds: Int64 = (1 << 47) - 1

    public let rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }

    public init(milliseconds: Int64, counter: UInt16) {
        precondition(milliseconds >= 0 && milliseconds <= Self.maxMilliseconds, "HLC milliseconds out of range")
        rawValue = milliseconds << 16 | Int64(counter)
    }

    public var milliseconds: Int64 { rawValue >> 16 }
    public var counter: UInt16 { UInt16(truncatingIfNeeded: rawValue & 0xFFFF) }

    public static func < (lhs: HLCTimestamp, rhs: HLCTimestamp) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "\(milliseconds).\(counter)" }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// How far a timestamp can be believed.
public enum ClockQuality: String, Sendable, Codable, Hashable, CaseIterable {
    /// The wall clock looked sane: not behind what this node already issued, not absurdly ahead.
    case synced
    /// The wall clock was not trusted (1970 after a boot without RTC, 2099, frozen, jumped back):
    /// time was carried forward from the last trusted stamp by the monotonic clock. Such stamps
    /// are repaired later from anchors taken when a trusted time source (the hub) is seen.
    case unsynced
}

/// The node's clock, as pure logic: give it the wall clock and the monotonic clock, get a
/// timestamp that never goes backwards and says whether it can be trusted.
///
/// Rules (DESIGN §4):
/// - Timestamps never decrease, including across restarts (start from the largest one stored).
/// - A wall clock more than `tolerance` behind the last issued stamp, or more than
///   `maxForwardJump` ahead of the monotonic estimate, is not trusted: time advances by the
///   monotonic clock from the last stamp and is marked `unsynced`.
/// - A trusted wall clock wins again as soon as it is sane; the HLC simply continues from it.
public struct HybridLogicalClock: Sendable {
    public struct Policy: Sendable, Hashable {
        /// Wall clocks this far behind the last stamp are treated as jitter (counter bumps),
        /// beyond it as an untrusted clock.
        public var tolerance: Int64
        /// A wall clock further ahead than this of the estimate is treated as wrong. Long enough
        /// that a Pi switched off for a year and then synced by NTP is believed.
        public var maxForwardJump: Int64
        /// Nothing before this can be a real time for this software (its build date).
        public var floor: Int64
        /// A stamp from another node further ahead of this clock's estimate than this does not
        /// move the clock (`observe`): a node whose clock runs fast must not drag others along.
        public var remoteTolerance: Int64

        public init(tolerance: Int64 = 2_000, maxForwardJump: Int64 = 2 * 366 * 86_400_000, floor: Int64 = Self.buildFloor,
                    remoteTolerance: Int64 = Self.remoteStampTolerance) {
            self.tolerance = tolerance
            self.maxForwardJump = maxForwardJump
            self.floor = floor
            self.remoteTolerance = remoteTolerance
        }

        /// 10 minutes: how far ahead of a receiver's trusted time another node's stamp may be
        /// and still be believed (sync marks stamps beyond it untrusted).
        public static let remoteStampTolerance: Int64 = 10 * 60_000

        /// 2026-11-01T00:00:00Z: older than any clock this build can run under.
        public static let buildFloor: Int64 = 1_793_491_200_000
    }

    /// A trusted clock's time (the hub's, read at a sync handshake) and the monotonic time it was
    /// read at: while the wall clock is untrusted, time follows it instead of being carried forward.
    public struct Reference: Sendable, Hashable {
        public var milliseconds: Int64
        public var monotonicMilliseconds: Int64
    }

    public private(set) var last: HLCTimestamp
    public private(set) var quality: ClockQuality
    public private(set) var reference: Reference?
    /// Whether the last stamp followed `reference` (the wall clock was untrusted).
    public private(set) var followsReference = false
    private var lastMonotonicMilliseconds: Int64
    public let policy: Policy

    /// - Parameters:
    ///   - persisted: the largest timestamp this node ever stored (nil on a new store).
    ///   - monotonicNanoseconds: the monotonic clock now (CLOCK_BOOTTIME).
    public init(persisted: HLCTimestamp?, monotonicNanoseconds: UInt64, policy: Policy = Policy()) {
        self.policy = policy
        let floorStamp = HLCTimestamp(milliseconds: policy.floor, counter: 0)
        self.last = max(persisted ?? floorStamp, floorStamp)
        self.quality = .synced
        self.lastMonotonicMilliseconds = Int64(monotonicNanoseconds / 1_000_000)
    }

    /// Issues the next timestamp.
    public mutating func tick(wallMilliseconds wall: Int64, monotonicNanoseconds: UInt64) -> HLCTimestamp {
        let monotonic = Int64(monotonicNanoseconds / 1_000_000)
        let elapsed = max(0, monotonic - lastMonotonicMilliseconds)
        lastMonotonicMilliseconds = max(lastMonotonicMilliseconds, monotonic)
        // Saturates at the end of the representable range rather than trapping there.
        let estimate = min(last.milliseconds + elapsed, HLCTimestamp.maxMilliseconds)

        let behind = wall < last.milliseconds - policy.tolerance || wall < policy.floor
        let ahead = wall > estimate + policy.maxForwardJump || wall > HLCTimestamp.maxMilliseconds
        let physical: Int64
        if behind || ahead, let reference {
            // The hub's time carried by the monotonic clock: trusted, so stamps are `synced`.
            quality = .synced
            followsReference = true
            physical = min(reference.milliseconds + max(0, monotonic - reference.monotonicMilliseconds),
                           HLCTimestamp.maxMilliseconds)
        } else if behind || ahead {
            quality = .unsynced
            followsReference = false
            physical = estimate
        } else {
            quality = .synced
            followsReference = false
            physical = wall
        }
        last = Self.advance(last, to: physical)
        return last
    }

    /// Adopts a trusted clock's time (the hub's at a sync handshake, "NTP on connect"): from now
    /// on, whenever the wall clock is untrusted, stamps follow this time by the monotonic clock
    /// and are `synced`. A trusted wall clock still wins. Times before `policy.floor` or beyond the
    /// HLC's range are ignored. Stamps never go back: a reference behind the last stamp only
    /// bumps counters until it catches up.
    public mutating func adopt(referenceMilliseconds: Int64, monotonicNanoseconds: UInt64) {
        guard referenceMilliseconds >= policy.floor, referenceMilliseconds <= HLCTimestamp.maxMilliseconds else { return }
        reference = Reference(milliseconds: referenceMilliseconds, monotonicMilliseconds: Int64(monotonicNanoseconds / 1_000_000))
    }

    /// Takes in a timestamp seen from another node (sync), so that our next stamp orders after it.
    /// Remote stamps more than `policy.remoteTolerance` ahead of our estimate are ignored rather
    /// than dragging us along (a node whose clock runs a year fast).
    public mutating func observe(_ remote: HLCTimestamp, monotonicNanoseconds: UInt64) {
        let monotonic = Int64(monotonicNanoseconds / 1_000_000)
        let estimate = last.milliseconds + max(0, monotonic - lastMonotonicMilliseconds)
        guard remote > last, remote.milliseconds <= estimate + policy.remoteTolerance else { return }
        last = remote
    }

    private static func advance(_ last: HLCTimestamp, to physical: Int64) -> HLCTimestamp {
        if physical > last.milliseconds {
            return HLCTimestamp(milliseconds: physical, counter: 0)
        }
        if last.milliseconds >= HLCTimestamp.maxMilliseconds {
            // The end of the range: stay there (stamps stop increasing) instead of trapping.
            return last.counter == .max ? last : HLCTimestamp(rawValue: last.rawValue + 1)
        }
        if last.counter == .max {
            // Counter exhausted within one millisecond: borrow the next millisecond.
            return HLCTimestamp(milliseconds: last.milliseconds + 1, counter: 0)
        }
        return HLCTimestamp(milliseconds: last.milliseconds, counter: last.counter + 1)
    }
}

/// Wall-clock time: milliseconds since 1970-01-01 UTC. Read it with `UTCMillis.now()` (in
/// SmollamaStore, next to the node's clock source), the one place that asks the system.
extension HLCTimestamp {
    /// The wall-clock part as a time.
    public var time: UTCMillis { UTCMillis(rawValue: milliseconds) }
}

public struct UTCMillis: Hashable, Sendable, Comparable, Codable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    public let rawValue: Int64

    public init(rawValue: Int64) { self.rawValue = rawValue }

    /// A literal is milliseconds since 1970 UTC (`let t: UTCMillis = 1_795_000_000_000`).
    public init(integerLiteral value: Int64) { rawValue = value }
    public typealias IntegerLiteralType = Int64

    public var description: String { "\(rawValue)" }

    public static func < (lhs: UTCMillis, rhs: UTCMillis) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The earliest and latest representable times: open ends of a range (`from: .distantPast`).
    public static let distantPast = UTCMillis(rawValue: .min)
    public static let distantFuture = UTCMillis(rawValue: .max)

    public init(_ date: Date) { rawValue = Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }

    public var date: Date { Date(timeIntervalSince1970: Double(rawValue) / 1000) }

    static func milliseconds(of duration: Duration) -> Int64 { duration.wholeMilliseconds }

    public static func + (lhs: UTCMillis, rhs: Duration) -> UTCMillis {
        UTCMillis(rawValue: lhs.rawValue + milliseconds(of: rhs))
    }

    public static func - (lhs: UTCMillis, rhs: Duration) -> UTCMillis {
        UTCMillis(rawValue: lhs.rawValue - milliseconds(of: rhs))
    }

    public static func += (lhs: inout UTCMillis, rhs: Duration) { lhs = lhs + rhs }
    public static func -= (lhs: inout UTCMillis, rhs: Duration) { lhs = lhs - rhs }

    /// The time between two instants.
    public static func - (lhs: UTCMillis, rhs: UTCMillis) -> Duration { .milliseconds(lhs.rawValue - rhs.rawValue) }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let zone = encoder.userInfo[Self.iso8601Zone] as? TimeZone {
            return try container.encode(iso8601(in: zone))
        }
        try container.encode(rawValue)
    }

    /// Set to a `TimeZone` in an encoder's `userInfo`, times encode as ISO 8601 text with that
    /// zone's offset (`2026-11-25T08:00:00.000+01:00`) instead of Unix milliseconds: what MCP
    /// clients are given. Every other encoder (the CLI's `--json`, the wire) keeps milliseconds.
    public static let iso8601Zone = CodingUserInfoKey(rawValue: "smollama.time.iso8601Zone")!

    /// ISO 8601 with milliseconds and the zone's offset at this instant (`Z` for UTC).
    public func iso8601(in zone: TimeZone) -> String {
        let offset = Int64(zone.secondsFromGMT(for: date))
        let local = rawValue + offset * 1000
        let millis = Int((local % 1000 + 1000) % 1000)
        let seconds = (local - Int64(millis)) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let inDay = Int(seconds - days * 86_400)
        let civil = CivilDate(day: days)
        let (year, month, day) = (civil.year, civil.month, civil.day)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let fraction: String = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        let datePart: String = "\(year)-" + two(month) + "-" + two(day)
        let timePart: String = two(inDay / 3600) + ":" + two(inDay / 60 % 60) + ":" + two(inDay % 60) + "." + fraction
        if offset == 0 { return datePart + "T" + timePart + "Z" }
        let minutes = Int(abs(offset) / 60)
        let sign = offset < 0 ? "-" : "+"
        return datePart + "T" + timePart + sign + two(minutes / 60) + ":" + two(minutes % 60)
    }
}

extension Duration {
    /// Whole milliseconds (sub-millisecond parts are dropped), for storage and the wire.
    public var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
