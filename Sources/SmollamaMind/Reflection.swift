// Over 400 lines: routine detection over hourly rollups and the memory versions it writes
// (new, unchanged, superseded) read as one piece.
import AsyncAlgorithms
public import Foundation
public import Logging
public import ServiceLifecycle
public import SmollamaCore
public import SmollamaLLM
public import SmollamaStore

/// Settings of the reflection pass (config section `memory:`).
public struct ReflectionSettings: Sendable, Hashable {
    /// How many days of hourly rollups one pass looks at.
    public var windowDays = 14
    /// A day group (weekdays, weekends) needs at least this many days of data.
    public var minDays = 4
    /// An hour belongs to the routine when it was active on at least this share of the days.
    public var activeShare = 0.6
    /// …and the routine's hours must be this much more active than the rest of the day.
    public var minEffect = 0.3
    /// The node's time zone (`node.timezone`): days and hours of routines are local, daylight
    /// saving included.
    public var timeZone = LocalClock.utc
    /// Let the model phrase the memory (verified; the template is used when it fails).
    public var phraseWithModel = false
    /// An hour is active on a day when on for at least this share of the busiest hour's mean.
    public var peakFraction = 0.5
    /// Presence schedules: the slot length (a divisor of an hour, a multiple of 5 minutes).
    public var scheduleStep: Duration = .seconds(30 * 60)
    /// …and a slot belongs to the schedule when the room was occupied in it on this share of days.
    public var scheduleShare = 0.5
    /// Typical ranges: a bound moving by more than this share of the old range's width (and more
    /// than the text shows) is a change that supersedes the memory.
    public var rangeTolerance = 0.5

    public init() {}
}

/// Weekdays (Mon–Fri) or weekends (Sat–Sun), in local time.
public enum DayGroup: String, Codable, Sendable, Hashable, CaseIterable {
    case weekdays
    case weekends
}

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
    /// Local midnight (node-clock ms) of each day in the sample, oldest first, with its active hours.
    var dayHours: [(start: Int64, hours: Set<Int>)]

    public var key: String { "\(sensor)|\(days.rawValue)" }
    public var effect: Double { insideShare - outsideShare }
    /// From the data only: more days and a sharper contrast give more confidence.
    public var confidence: Double {
        let sample = Double(sampleDays) / Double(sampleDays + 3)
        return (sample * max(0, min(1, effect)) * 100).rounded() / 100
    }

    public var percent: Int { Int((insideShare * 100).rounded()) }

    /// The sentence written when the model does not phrase it.
    public var templateText: String {
        let hours = blocks.map(\.label).joined(separator: " and ")
        return "\(sensor) on \(days.rawValue) is usually active \(hours) (active in those hours on \(percent)% of "
            + "\(sampleDays) days)."
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
         outsideShare: Double, dayHours: [(start: Int64, hours: Set<Int>)]) {
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

/// What one reflection pass did.
public struct ReflectionReport: Codable, Sendable, Hashable {
    public var patterns: [RoutinePattern] = []
    /// Presence schedules found (not in `--json`, whose shape is a contract; their memories are).
    public var schedules: [PresenceSchedule] = []
    /// Typical ranges found (not in `--json` either).
    public var ranges: [TypicalRange] = []
    /// Memories written for patterns seen for the first time.
    public var created: [String] = []
    /// Memories whose confidence or support was refreshed (a new version, same id).
    public var refreshed: [String] = []
    /// Old memories closed because their pattern changed or went away.
    public var closed: [String] = []
    /// New memories that supersede a closed one: new id → old id.
    public var superseded: [String: String] = [:]
    /// Memories phrased by the model (verified) rather than the template.
    public var phrasedByModel = 0

    enum CodingKeys: String, CodingKey {
        case patterns, created, refreshed, closed, superseded, phrasedByModel
    }
}

/// Turns stable patterns in the rollups into memories: the data decides what is true and how
/// sure we are; the model (optional) only phrases, and its sentence is verified.
public struct Reflection: Sendable {
    public let database: SmollamaDatabase
    public let node: NodeID
    public let settings: ReflectionSettings
    public let phraser: (any ChatModel)?
    let stamp: @Sendable () async -> ClockStamp
    let logger: Logger

    public init(
        database: SmollamaDatabase, node: NodeID, settings: ReflectionSettings = .init(),
        phraser: (any ChatModel)? = nil, logger: Logger, stamp: @escaping @Sendable () async -> ClockStamp
    ) {
        self.database = database
        self.node = node
        self.settings = settings
        self.phraser = phraser
        self.logger = logger
        self.stamp = stamp
    }

    /// Finds today's routines, presence schedules and typical ranges over the window ending at
    /// `now` and brings the memories of each kind in line (`settle`).
    @discardableResult
    public func reflect(now: UTCMillis) async throws -> ReflectionReport {
        var report = ReflectionReport()
        let remembered = Dictionary(
            grouping: try await database.knowledge.memories(currentOnly: true, limit: 100_000)
                .filter { $0.record.source == .reflection && $0.record.metadata["pattern"] != nil },
            by: \.record.kind)
        let (patterns, shares) = try await scan(now: now.rawValue)
        report.patterns = patterns
        try await settle(patterns.map(finding), remembered: remembered["routine"] ?? [], now: now, report: &report) { old in
            routineGone(old, shares: shares)
        }
        let (schedules, occupied) = try await findSchedules(now: now)
        report.schedules = schedules
        let step = Int(settings.scheduleStep.wholeMilliseconds / 60_000)
        try await settle(schedules.map(finding), remembered: remembered["schedule"] ?? [], now: now, report: &report) { old in
            scheduleGone(old, shares: occupied, step: step)
        }
        let ranges = try await findRanges(now: now)
        report.ranges = ranges
        // A range is never "gone": a sensor without data closes nothing, and one with data has a range.
        try await settle(ranges.map(finding), remembered: remembered["range"] ?? [], now: now, report: &report) { _ in false }
        return report
    }

    func finding(_ pattern: RoutinePattern) -> ReflectionFinding {
        ReflectionFinding(
            key: pattern.key, kind: "routine", subjects: [pattern.sensor], text: pattern.templateText,
            confidence: pattern.confidence,
            metadata: [
                "blocks": pattern.blocksMetadata, "sample_days": String(pattern.sampleDays),
                "active_percent": String(pattern.percent),
            ],
            firstDay: UTCMillis(rawValue: pattern.dayHours.first?.start ?? 0),
            matches: { old in Self.sameRoutine(RoutinePattern.parseBlocks(old.metadata["blocks"]), pattern.blocks) },
            changePoint: { old in
                UTCMillis(rawValue: Self.changePoint(
                    pattern, oldBlocks: RoutinePattern.parseBlocks(old.metadata["blocks"]), fallback: old.validFrom.rawValue))
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

    /// Asks the model for one sentence; accepted only when every number in it is one of the
    /// pattern's and it names the sensor.
    func phrase(_ pattern: RoutinePattern, with model: any ChatModel) async -> String? {
        struct Reply: Decodable { var text: String }
        let schema: JSONValue = [
            "type": "object", "properties": ["text": ["type": "string", "maxLength": 200]], "required": ["text"],
            "additionalProperties": false,
        ]
        do {
            let reply = try await model.generate(
                Reply.self, schema: schema, name: "memory",
                messages: [
                    .system("Rewrite the fact as one short sentence. Keep the sensor name and every number exactly."),
                    .user(pattern.templateText),
                ], options: .deterministic(maxTokens: 80))
            let text = reply.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard Self.verify(text, pattern: pattern) else {
                logger.info("model phrasing rejected; using the template", metadata: ["smollama.memory.text": "\(text)"])
                return nil
            }
            return text
        } catch {
            logger.info("model phrasing failed; using the template", metadata: ["smollama.memory.error": "\(error)"])
            return nil
        }
    }

    /// A phrasing passes when it names the sensor and holds no number the pattern does not.
    public static func verify(_ text: String, pattern: RoutinePattern) -> Bool {
        guard text.count >= 10, text.contains(pattern.sensor) else { return false }
        let allowed = pattern.allowedNumbers
        return numbers(in: text).allSatisfy { allowed.contains($0) }
    }

    static func numbers(in text: String) -> [Double] {
        var result: [Double] = []
        var current = ""
        for character in text + " " {
            if character.isNumber || (character == "." && !current.isEmpty) {
                current.append(character)
            } else if !current.isEmpty {
                if current.hasSuffix(".") { current.removeLast() }
                if let value = Double(current) { result.append(value) }
                current = ""
            }
        }
        return result
    }

    static func sameRoutine(_ lhs: [HourBlock], _ rhs: [HourBlock]) -> Bool {
        lhs.count == rhs.count
            && zip(lhs, rhs).allSatisfy { abs($0.start - $1.start) <= 1 && abs($0.end - $1.end) <= 1 }
    }

    /// The local midnight after the last day that still followed the old routine and not the new one.
    static func changePoint(_ pattern: RoutinePattern, oldBlocks: [HourBlock], fallback: Int64) -> Int64 {
        var change = pattern.dayHours.first?.start ?? fallback
        for day in pattern.dayHours {
            let old = day.hours.contains { hour in oldBlocks.contains { $0.contains(hour) } }
            let new = day.hours.contains { hour in pattern.blocks.contains { $0.contains(hour) } }
            if old && !new { change = day.start + 86_400_000 }
        }
        return max(change, fallback)
    }

    // MARK: - Patterns

    /// Routines of every binary sensor over the window ending at `now`.
    public func findPatterns(now: UTCMillis) async throws -> [RoutinePattern] {
        try await scan(now: now.rawValue).patterns
    }

    /// Patterns, and the hourly activity shares of every (sensor, day group) with enough data.
    func scan(now: Int64) async throws -> (patterns: [RoutinePattern], shares: [String: [Double]]) {
        let clock = LocalClock(timeZone: settings.timeZone)
        // Whole local days only: from local midnight `windowDays` ago to today's local midnight.
        let todayStart = clock.midnight(ofDay: clock.dayIndex(UTCMillis(rawValue: now)))
        let windowStart = todayStart - .seconds(Int64(settings.windowDays) * 86_400)
        var patterns: [RoutinePattern] = []
        var shares: [String: [Double]] = [:]
        for sensor in try await database.readings.registeredSensors() where sensor.descriptor.kind == .binary {
            let rollups = try await database.readings.rollups(
                sensor: sensor.descriptor.id, resolution: .hour, from: windowStart, to: todayStart)
            guard !rollups.isEmpty else { continue }
            // Milliseconds on per (local day, hour); an activation too short to register counts a minute.
            var onTime: [Int64: [Int: Int64]] = [:]
            for rollup in rollups {
                let dayIndex = clock.dayIndex(rollup.bucketStart)
                let hour = clock.hour(rollup.bucketStart)
                let on = rollup.onDuration > 0 ? rollup.onDuration : (rollup.onCount > 0 ? 60_000 : 0)
                onTime[dayIndex, default: [:]][hour, default: 0] += on
            }
            for group in DayGroup.allCases {
                let days = onTime.keys.sorted().filter { Self.group(ofDay: $0) == group }
                guard days.count >= settings.minDays else { continue }
                // An hour counts as active on a day when it was on for at least half as long as the
                // busiest hour is on average: background blips do not make a routine.
                let means = (0..<24).map { hour in
                    Double(days.map { onTime[$0]?[hour] ?? 0 }.reduce(0, +)) / Double(days.count)
                }
                let floor = max(1, (means.max() ?? 0) * settings.peakFraction)
                let dayHours = days.map { index in
                    (start: clock.midnight(ofDay: index).rawValue,
                     hours: Set((0..<24).filter { Double(onTime[index]?[$0] ?? 0) >= floor }))
                }
                shares["\(sensor.descriptor.id.rawValue)|\(group.rawValue)"] = Self.shares(dayHours)
                if let pattern = routine(sensor: sensor.descriptor.id.rawValue, group: group, dayHours: dayHours) {
                    patterns.append(pattern)
                }
            }
        }
        return (patterns, shares)
    }

    static func shares(_ dayHours: [(start: Int64, hours: Set<Int>)]) -> [Double] {
        let n = Double(max(1, dayHours.count))
        return (0..<24).map { hour in Double(dayHours.filter { $0.hours.contains(hour) }.count) / n }
    }

    func routine(sensor: String, group: DayGroup, dayHours: [(start: Int64, hours: Set<Int>)]) -> RoutinePattern? {
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

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }
}

/// Reflects once at start and then on an interval; a failing pass is logged and retried next time.
public struct ReflectionService: Service {
    public let reflection: Reflection
    public let interval: Duration
    let now: @Sendable () async -> UTCMillis
    let logger: Logger

    public init(reflection: Reflection, interval: Duration, logger: Logger, now: @escaping @Sendable () async -> UTCMillis) {
        self.reflection = reflection
        self.interval = interval
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await tick() }
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            // A pass waiting on the runtime is cancelled by shutdown rather than delaying it.
            await cancelWhenGracefulShutdown { await tick() }
        }
    }

    /// One pass; never throws.
    public func tick() async {
        do {
            let report = try await reflection.reflect(now: await now())
            if !report.created.isEmpty || !report.closed.isEmpty {
                logger.info(
                    "reflection wrote memories",
                    metadata: [
                        "smollama.memory.created": "\(report.created.count)",
                        "smollama.memory.closed": "\(report.closed.count)",
                        "smollama.memory.superseded": "\(report.superseded.count)",
                    ])
            }
        } catch is CancellationError {
            return
        } catch {
            logger.warning("reflection failed", metadata: ["smollama.memory.error": "\(error)"])
        }
    }
}
