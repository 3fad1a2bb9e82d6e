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
        let (patterns, shares) = try await scan(now: now)
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
                    .system("Rewrite the fact as one short sentence. Keep the sensor's name and every number exactly."),
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

    /// A phrasing passes when it names the sensor in words (never its id) and holds no number the
    /// pattern does not.
    public static func verify(_ text: String, pattern: RoutinePattern) -> Bool {
        guard text.count >= 10, !text.contains(pattern.sensor),
              text.lowercased().contains(pattern.sensorName.replacingOccurrences(of: "the ", with: ""))
        else { return false }
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
