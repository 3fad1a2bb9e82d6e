import Foundation
public import SmollamaCore
import SmollamaStore

/// A stretch of local hours [start, end).
public struct HourBlock: Codable, Sendable, Hashable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    public var label: String { String(format: "%02d:00–%02d:00", start, end) }
    func contains(_ hour: Int) -> Bool { hour >= start && hour < end }
}

/// When a binary sensor is usually active on one kind of day, computed from hourly rollups.
public struct RoutinePattern: Codable, Sendable, Hashable {
    public var sensor: String
    public var days: DayGroup
    public var blocks: [HourBlock]
    /// Days of data the pattern rests on.
    public var sampleDays: Int
    /// Share of days active, averaged over the routine's hours (0…1).
    public var insideShare: Double
    /// The same for the other hours.
    public var outsideShare: Double
    /// One local day of the sample: its midnight and the hours it was active in.
    struct Day: Sendable, Hashable {
        var start: UTCMillis
        var hours: Set<Int>
    }

    /// The days of the sample, oldest first.
    var dayHours: [Day]

    public var key: String { "\(sensor)|\(days.rawValue)" }
    public var effect: Double { insideShare - outsideShare }
    /// From the data only: more days and a sharper contrast give more confidence.
    public var confidence: Double { Reflection.confidence(days: sampleDays, clarity: effect) }

    public var percent: Int { Int((insideShare * 100).rounded()) }

    /// The sensor in words ("the hallway motion sensor"): sentences never show its id.
    public var sensorName: String { DisplayNames().device(SensorID(sensor), nil) }

    /// The sentence written when the model does not phrase it.
    public var templateText: String {
        let hours = blocks.map(\.label).joined(separator: " and ")
        return RulesNarrator.capitalised(sensorName) + " is usually active on \(days.rawValue) \(hours) "
            + "(active in those hours on \(percent)% of \(sampleDays) days)."
    }

    /// Every number a phrasing may contain.
    public var allowedNumbers: Set<Double> {
        var numbers: Set<Double> = [Double(percent), Double(sampleDays)]
        for block in blocks {
            numbers.insert(Double(block.start))
            numbers.insert(Double(block.end))
            numbers.insert(0)
        }
        return numbers
    }

    var blocksMetadata: String { blocks.map { "\($0.start)-\($0.end)" }.joined(separator: ",") }

    static func parseBlocks(_ text: String?) -> [HourBlock] {
        (text ?? "").split(separator: ",").compactMap { piece in
            let parts = piece.split(separator: "-").compactMap { Int($0) }
            return parts.count == 2 ? HourBlock(start: parts[0], end: parts[1]) : nil
        }
    }

    enum CodingKeys: String, CodingKey {
        case sensor, days, blocks, sampleDays, insideShare, outsideShare
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sensor = try c.decode(String.self, forKey: .sensor)
        days = try c.decode(DayGroup.self, forKey: .days)
        blocks = try c.decode([HourBlock].self, forKey: .blocks)
        sampleDays = try c.decode(Int.self, forKey: .sampleDays)
        insideShare = try c.decode(Double.self, forKey: .insideShare)
        outsideShare = try c.decode(Double.self, forKey: .outsideShare)
        dayHours = []
    }

    init(sensor: String, days: DayGroup, blocks: [HourBlock], sampleDays: Int, insideShare: Double,
         outsideShare: Double, dayHours: [Day]) {
        self.sensor = sensor
        self.days = days
        self.blocks = blocks
        self.sampleDays = sampleDays
        self.insideShare = insideShare
        self.outsideShare = outsideShare
        self.dayHours = dayHours
    }

    public static func == (lhs: RoutinePattern, rhs: RoutinePattern) -> Bool {
        lhs.sensor == rhs.sensor && lhs.days == rhs.days && lhs.blocks == rhs.blocks && lhs.sampleDays == rhs.sampleDays
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        hasher.combine(blocks)
    }
}

extension Reflection {
    func finding(_ pattern: RoutinePattern) -> ReflectionFinding {
        let clock = LocalClock(timeZone: settings.timeZone)
        return ReflectionFinding(
            key: pattern.key, kind: "routine", subjects: [pattern.sensor], text: pattern.templateText,
            confidence: pattern.confidence,
            metadata: [
                "blocks": pattern.blocksMetadata, "sample_days": String(pattern.sampleDays),
                "active_percent": String(pattern.percent),
            ],
            firstDay: pattern.dayHours.first?.start ?? 0,
            matches: { old in Self.sameRoutine(RoutinePattern.parseBlocks(old.metadata["blocks"]), pattern.blocks) },
            changePoint: { old in
                Self.changePoint(pattern, oldBlocks: RoutinePattern.parseBlocks(old.metadata["blocks"]),
                                 fallback: old.validFrom, clock: clock)
            },
            phrase: phraser.map { model in { await phrase(pattern, with: model) } })
    }

    /// A routine that is clearly gone (its hours now active on under half the threshold's share
    /// of days). No data, or a routine in transition, closes nothing.
    func routineGone(_ old: StoredMemory, shares: [String: [Double]]) -> Bool {
        guard let key = old.record.metadata["pattern"], let share = shares[key] else { return false }
        let hours = RoutinePattern.parseBlocks(old.record.metadata["blocks"]).flatMap { Array($0.start..<$0.end) }
        guard !hours.isEmpty else { return false }
        return hours.map { share[$0 % 24] }.reduce(0, +) / Double(hours.count) < settings.activeShare / 2
    }

    static func sameRoutine(_ lhs: [HourBlock], _ rhs: [HourBlock]) -> Bool {
        lhs.count == rhs.count
            && zip(lhs, rhs).allSatisfy { abs($0.start - $1.start) <= 1 && abs($0.end - $1.end) <= 1 }
    }

    /// The local midnight after the last day that still followed the old routine and not the new one.
    static func changePoint(
        _ pattern: RoutinePattern, oldBlocks: [HourBlock], fallback: UTCMillis, clock: LocalClock
    ) -> UTCMillis {
        var change = pattern.dayHours.first?.start ?? fallback
        for day in pattern.dayHours {
            let old = day.hours.contains { hour in oldBlocks.contains { $0.contains(hour) } }
            let new = day.hours.contains { hour in pattern.blocks.contains { $0.contains(hour) } }
            if old && !new { change = clock.midnight(ofDay: clock.dayIndex(day.start) + 1) }
        }
        return max(change, fallback)
    }

    // MARK: - Patterns

    /// Routines of every binary sensor over the window ending at `now`.
    public func findPatterns(now: UTCMillis) async throws -> [RoutinePattern] {
        try await scan(now: now).patterns
    }

    /// Patterns, and the hourly activity shares of every (sensor, day group) with enough data.
    func scan(now: UTCMillis) async throws -> (patterns: [RoutinePattern], shares: [String: [Double]]) {
        let clock = LocalClock(timeZone: settings.timeZone)
        let window = dayWindow(now: now)
        var patterns: [RoutinePattern] = []
        var shares: [String: [Double]] = [:]
        for sensor in try await database.readings.registeredSensors() where sensor.descriptor.kind == .binary {
            let rollups = try await database.readings.rollups(
                sensor: sensor.descriptor.id, resolution: .hour, from: window.start, to: window.end)
            guard !rollups.isEmpty else { continue }
            // Time on per (local day, hour); an activation too short to register counts a minute.
            var onTime: [Int64: [Int: Duration]] = [:]
            for rollup in rollups {
                let dayIndex = clock.dayIndex(rollup.bucketStart)
                let hour = clock.hour(rollup.bucketStart)
                let on: Duration = rollup.onDuration > 0 ? .milliseconds(rollup.onDuration) : (rollup.onCount > 0 ? .seconds(60) : .zero)
                onTime[dayIndex, default: [:]][hour, default: .zero] += on
            }
            for group in DayGroup.allCases {
                let days = onTime.keys.sorted().filter { Self.group(ofDay: $0) == group }
                guard days.count >= settings.minDays else { continue }
                // An hour counts as active on a day when it was on for at least half as long as the
                // busiest hour is on average: background blips do not make a routine.
                let means = (0..<24).map { hour in
                    days.map { onTime[$0]?[hour] ?? .zero }.reduce(.zero, +) / days.count
                }
                let floor = max(.milliseconds(1), (means.max() ?? .zero) * settings.peakFraction)
                let dayHours = days.map { index in
                    RoutinePattern.Day(
                        start: clock.midnight(ofDay: index),
                        hours: Set((0..<24).filter { (onTime[index]?[$0] ?? .zero) >= floor }))
                }
                shares["\(sensor.descriptor.id.rawValue)|\(group.rawValue)"] = Self.shares(dayHours)
                if let pattern = routine(sensor: sensor.descriptor.id.rawValue, group: group, dayHours: dayHours) {
                    patterns.append(pattern)
                }
            }
        }
        return (patterns, shares)
    }

    static func shares(_ dayHours: [RoutinePattern.Day]) -> [Double] {
        let n = Double(max(1, dayHours.count))
        return (0..<24).map { hour in Double(dayHours.filter { $0.hours.contains(hour) }.count) / n }
    }

    func routine(sensor: String, group: DayGroup, dayHours: [RoutinePattern.Day]) -> RoutinePattern? {
        let share = Self.shares(dayHours)
        var blocks: [HourBlock] = []
        var start: Int?
        for hour in 0...24 {
            let active = hour < 24 && share[hour] >= settings.activeShare
            if active, start == nil { start = hour }
            if !active, let begin = start {
                blocks.append(HourBlock(start: begin, end: hour))
                start = nil
            }
        }
        guard !blocks.isEmpty, blocks.count <= 3 else { return nil }
        let inside = (0..<24).filter { hour in blocks.contains { $0.contains(hour) } }
        let outside = (0..<24).filter { !inside.contains($0) }
        let insideShare = inside.map { share[$0] }.reduce(0, +) / Double(inside.count)
        let outsideShare = outside.isEmpty ? 0 : outside.map { share[$0] }.reduce(0, +) / Double(outside.count)
        guard insideShare - outsideShare >= settings.minEffect else { return nil }
        return RoutinePattern(
            sensor: sensor, days: group, blocks: blocks, sampleDays: dayHours.count, insideShare: insideShare,
            outsideShare: outsideShare, dayHours: dayHours)
    }

    /// Day index 0 (1970-01-01) was a Thursday.
    static func group(ofDay index: Int64) -> DayGroup {
        let weekday = ((index + 4) % 7 + 7) % 7  // 0 = Sunday
        return weekday == 0 || weekday == 6 ? .weekends : .weekdays
    }
}
