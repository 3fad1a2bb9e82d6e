public import Foundation
public import SmollamaCore

/// Local calendar fields of a node-clock instant in a time zone, daylight saving included (the
/// zone's offset at that instant; no Calendar: fast and deterministic).
public struct LocalClock: Sendable, Hashable {
    public static let utc = TimeZone(secondsFromGMT: 0) ?? .current

    public let timeZone: TimeZone

    public init(timeZone: TimeZone) { self.timeZone = timeZone }

    /// Milliseconds of local wall time since 1970-01-01 00:00 local.
    public func local(_ time: UTCMillis) -> Int64 {
        time.rawValue + Int64(timeZone.secondsFromGMT(for: time.date)) * 1000
    }
    /// 0…23.
    public func hour(_ time: UTCMillis) -> Int { Int(((local(time) % 86_400_000) + 86_400_000) % 86_400_000 / 3_600_000) }
    public func minute(_ time: UTCMillis) -> Int { Int(((local(time) % 3_600_000) + 3_600_000) % 3_600_000 / 60_000) }
    /// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
    public func weekday(_ time: UTCMillis) -> Int {
        let day = Int(floorDiv(local(time), 86_400_000))
        return ((day + 3) % 7 + 7) % 7
    }
    public func isWeekend(_ time: UTCMillis) -> Bool { weekday(time) >= 5 }
    public func dayIndex(_ time: UTCMillis) -> Int64 { floorDiv(local(time), 86_400_000) }
    /// The instant local day `day` (a `dayIndex`) starts: its midnight, or the first instant after
    /// it where daylight saving skips midnight.
    public func midnight(ofDay day: Int64) -> UTCMillis {
        let start = day * 86_400_000
        let guess = start - (local(UTCMillis(rawValue: start)) - start)
        let off = local(UTCMillis(rawValue: guess)) - start
        return UTCMillis(rawValue: off == 0 ? guess : guess - off)
    }

    static let weekdayNames = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

    private func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }
}
