// Over 400 lines: the packet's types and the builder that fills them read best side by side.
public import Foundation
public import SmollamaCore
public import SmollamaStore

/// One number of a fact, with its unit as people write it (`°C`, `%`, `lx`, `min`, `h`,
/// `times`, or empty for a plain score).
public struct EvidenceValue: Sendable, Hashable, Codable {
    public var name: String
    public var value: Double
    public var unit: String
    /// Decimals the value is shown with in the prompt (and in rules sentences).
    public var decimals: Int

    public init(name: String, value: Double, unit: String, decimals: Int) {
        self.name = name
        self.value = value
        self.unit = unit
        self.decimals = decimals
    }

    /// The value as the prompt shows it.
    public var shown: String {
        if unit == "time" {
            let hour = Int(value)
            let minute = Int(((value - Double(hour)) * 100).rounded())
            return String(format: "%02d:%02d", hour, minute)
        }
        return EvidenceValue.format(value, decimals: decimals)
    }

    static func format(_ value: Double, decimals: Int) -> String {
        let text = String(format: "%.\(max(0, decimals))f", value)
        return text == "-0" || text.hasPrefix("-0.") && Double(text) == 0 ? String(text.dropFirst()) : text
    }
}

/// One computed fact about a window. `id` is short and unique within its packet (`f3`), for the
/// prompt; `key` is stable (`hallway.motion/activity@1764126000000`) and is what observations store.
public struct EvidenceFact: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The window itself: its times of day and length.
        case window
        /// A numeric sensor's statistics, change and baseline.
        case numeric
        /// A binary sensor's activations, on-time and usual activity.
        case binary
        /// Something worth telling on its own: first activity after a long quiet, a door open at
        /// night, a sensor fault.
        case notable
        /// A room's temperature and humidity together: a humid stretch, dew point, the usual range
        /// (`EvidenceComfort.swift`).
        case comfort
        /// A room's CO₂ crossing the ventilation limit (`EvidenceComfort.swift`).
        case air
        /// A room's lamps against its own dark hours (`EvidenceLight.swift`).
        case light
        /// A room's presence in the window, from `PresenceInference` (`EvidencePresence.swift`).
        case presence
    }

    /// How far the fact is from the usual.
    public enum Level: Int, Sendable, Hashable, Codable, Comparable {
        case ordinary = 0
        /// Some activity or change worth a sentence.
        case activity = 1
        /// Unusual against the baseline.
        case unusual = 2
        /// Strong anomaly: the loop runs early for it.
        case strong = 3

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var id: String
    public var key: String
    public var kind: Kind
    public var sensor: SensorID?
    public var values: [EvidenceValue]
    public var level: Level
    /// A few words for notable facts ("first activity after a long quiet"); nil otherwise.
    public var note: String?
    /// Earlier days the fact's baseline rests on (not shown in the prompt): what
    /// `ObservationConfidence` weighs. Nil for facts without a baseline.
    public var baselineDays: Int?
    /// The room key (`living_room`, or an area from `areas:`) of a room fact; nil otherwise.
    public var room: String?

    public init(id: String, key: String, kind: Kind, sensor: SensorID?, values: [EvidenceValue], level: Level,
                note: String? = nil, room: String? = nil) {
        self.id = id
        self.key = key
        self.kind = kind
        self.sensor = sensor
        self.values = values
        self.level = level
        self.note = note
        self.room = room
    }

    public func value(_ name: String) -> EvidenceValue? { values.first { $0.name == name } }

    /// Importance from the data, never from the model: 0…1.
    public var importance: Double {
        switch level {
        case .ordinary: 0.1
        case .activity: 0.3
        case .unusual: 0.7
        case .strong: 0.9
        }
    }

    /// The note of a sensor-fault fact (what a `fault` observation must cite).
    public static let faultNote = "sensor fault"

    /// The line's `name value unit` parts, as the prompt shows them.
    var lineParts: [String] {
        values.map { value in
            let unit = value.unit.isEmpty || value.unit == "time" ? "" : (value.unit == "%" ? "%" : " " + value.unit)
            return "\(value.name) \(value.shown)\(unit)"
        }
    }

    /// The line's head after the id: `hallway.motion first activity after a long quiet`, `window
    /// Sunday`, `study presence occupied (motion in 3 of 3 buckets)`.
    var lineHead: String {
        let head = room.map { "\($0) \(kind.rawValue)" } ?? sensor?.rawValue ?? "window"
        return [head, note].compactMap { $0 }.joined(separator: " ")
    }

    /// One compact prompt line: `f3 hallway.motion: activations 1 times, on 2 min; usual activity
    /// at this hour 20 % of days [UNUSUAL]`.
    public var line: String {
        var text = "\(id) \(lineHead): " + lineParts.joined(separator: ", ")
        switch level {
        case .unusual: text += " [UNUSUAL]"
        case .strong: text += " [VERY UNUSUAL]"
        case .ordinary, .activity: break
        }
        return text
    }
}

/// What the evidence builder computed for one window: the facts, the sensors they are about and
/// the window's local time. Compact by construction (one line per sensor plus notable events).
public struct EvidencePacket: Sendable, Hashable, Codable {
    public var windowStart: UTCMillis
    public var windowEnd: UTCMillis
    public var facts: [EvidenceFact]
    /// Every sensor the node knows (for verification: unknown sensors are rejected).
    public var sensors: [SensorID: SensorDescriptor]
    /// Sensors placed in a named area by `areas:` (the rest are in their id's first part).
    public var areas: [SensorID: String]
    /// Each room's presence in the window: state, confidence and the facts it rests on.
    public var presence: [PresenceWindow] = []

    public init(windowStart: UTCMillis, windowEnd: UTCMillis, facts: [EvidenceFact], sensors: [SensorID: SensorDescriptor],
                areas: [SensorID: String] = [:]) {
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.facts = facts
        self.sensors = sensors
        self.areas = areas
    }

    public func fact(id: String) -> EvidenceFact? { facts.first { $0.id == id } }

    /// The highest level among the facts.
    public var level: EvidenceFact.Level { facts.map(\.level).max() ?? .ordinary }

    /// Facts above ordinary, most important first.
    public var highlights: [EvidenceFact] {
        facts.filter { $0.level > .ordinary && $0.kind != .window }.sorted { $0.level > $1.level }
    }

    /// The evidence as prompt lines, most important first; the window line always first.
    public var lines: [String] {
        let window = facts.filter { $0.kind == .window }
        let rest = facts.filter { $0.kind != .window }.enumerated().sorted {
            ($0.element.level, -$0.offset) > ($1.element.level, -$1.offset)
        }.map(\.element)
        return (window + rest).map(\.line)
    }
}

/// Settings of the evidence builder.
public struct EvidenceSettings: Sendable, Hashable {
    /// How many days of hourly rollups the baselines use.
    public var baselineDays: Int
    /// The node's time zone (`node.timezone`): hours of day, "at night" and the days baselines
    /// compare follow local time, daylight saving included.
    public var timeZone: TimeZone
    /// A binary sensor active in an hour is unusual when it was active in that hour or an hour
    /// either side on at most this share of earlier days of the same kind and of all earlier
    /// days, and each hour either side was active on at most this share of all earlier days
    /// (03:10, not the edge of a habit: someone up at 06:15 on a Saturday when weekdays start at
    /// 07:00). Also the bar for a long quiet ending and for lamps at night.
    public var unusualProbability: Double
    /// First activity after at least this much quiet is notable.
    public var longQuiet: Duration
    /// |deviation| at or above this is unusual, and at or above `strongDeviation` a strong anomaly.
    public var unusualDeviation: Double
    public var strongDeviation: Double
    /// Local hours counted as night for doors (start inclusive, end exclusive).
    public var nightHours: Range<Int>
    /// Baselines need at least this many earlier days to say anything.
    public var minimumBaselineDays: Int
    /// Sensors placed in a named area (`areas:` in config.yaml); the rest are in their id's first part.
    public var areas: [SensorID: String]
    /// Days of 5-minute rollups presence and lamps learn a room's thresholds from.
    public var presenceDays: Int

    public init(baselineDays: Int = 28, timeZone: TimeZone = LocalClock.utc, unusualProbability: Double = 0.25,
                longQuiet: Duration = .seconds(3 * 3600), unusualDeviation: Double = 3, strongDeviation: Double = 5,
                nightHours: Range<Int> = 0..<5, minimumBaselineDays: Int = 5, areas: [SensorID: String] = [:],
                presenceDays: Int = 14) {
        self.areas = areas
        self.presenceDays = presenceDays
        self.baselineDays = baselineDays
        self.timeZone = timeZone
        self.unusualProbability = unusualProbability
        self.longQuiet = longQuiet
        self.unusualDeviation = unusualDeviation
        self.strongDeviation = strongDeviation
        self.nightHours = nightHours
        self.minimumBaselineDays = minimumBaselineDays
    }
}

/// Computes a window's evidence from rollups (5-minute buckets for the window, hourly buckets for
/// the baselines): deterministic, no model involved. Baselines compare the window's hour of day
/// with the same hour on the same kind of day (weekday or weekend) over the last `baselineDays`.
public struct EvidenceBuilder: Sendable {
    public let database: SmollamaDatabase
    public let settings: EvidenceSettings
    /// Rollups read ahead by `preloaded(from:to:)`; nil: each read goes to the store.
    var cache: RollupCache?

    public init(database: SmollamaDatabase, settings: EvidenceSettings = .init()) {
        self.database = database
        self.settings = settings
    }

    /// The evidence for `[start, end)`.
    public func build(windowStart start: UTCMillis, windowEnd end: UTCMillis) async throws -> EvidencePacket {
        let registered = try await database.readings.registeredSensors()
        let clock = LocalClock(timeZone: settings.timeZone)
        let length = end - start
        var facts: [EvidenceFact] = []
        var counter = 0
        func nextID() -> String {
            counter += 1
            return "f\(counter)"
        }
        facts.append(EvidenceFact(
            id: "f0", key: "window@\(start)", kind: .window, sensor: nil,
            values: [
                EvidenceValue(name: "from", value: Double(clock.hour(start)) + Double(clock.minute(start)) / 100,
                              unit: "time", decimals: 2),
                EvidenceValue(name: "to", value: Double(clock.hour(end)) + Double(clock.minute(end)) / 100,
                              unit: "time", decimals: 2),
                EvidenceValue(name: "length", value: Double(length.wholeMilliseconds) / 60_000, unit: "min", decimals: 0),
            ], level: .ordinary, note: LocalClock.weekdayNames[clock.weekday(start)]))

        let summaries = try await database.sensorSummaries(now: end)
        let faulty = Dictionary(summaries.map { ($0.sensor.id, $0) }, uniquingKeysWith: { first, _ in first })
        var numeric: [NumericSeries] = []
        for sensor in registered.map(\.descriptor).sorted(by: { $0.id < $1.id }) {
            let window = try await rollups(sensor: sensor.id, resolution: .fiveMinutes, from: start, to: end)
            let previous = try await rollups(
                sensor: sensor.id, resolution: .fiveMinutes, from: start - length, to: start)
            let history = try await rollups(
                sensor: sensor.id, resolution: .hour, from: start - .seconds(Int64(settings.baselineDays) * 86_400),
                to: Rollup.Resolution.hour.bucketStart(start))
            // Habits jitter: what is usual at 08:15 is what earlier days of the same kind did
            // between 07:00 and 10:00, not only in the 08:00 hour.
            let sameHour = history.filter {
                Self.isNear(hour: clock.hour($0.bucketStart), clock.hour(start))
                    && clock.isWeekend($0.bucketStart) == clock.isWeekend(start)
            }
            switch sensor.kind {
            case .numeric:
                numeric.append(NumericSeries(descriptor: sensor, window: window, previous: previous, sameHour: sameHour))
                if let fact = numericFact(sensor, window: window, previous: previous, sameHour: sameHour, start: start,
                                          id: nextID()) {
                    facts.append(fact)
                } else {
                    counter -= 1
                }
            case .binary:
                let (fact, notable) = try await binaryFacts(
                    sensor, window: window, sameHour: sameHour, history: history, start: start, end: end, clock: clock,
                    nextID: nextID)
                facts.append(fact)
                facts.append(contentsOf: notable)
            }
            if let summary = faulty[sensor.id], summary.status == "faulty" {
                facts.append(EvidenceFact(
                    id: nextID(), key: "\(sensor.id)/fault@\(start)", kind: .notable, sensor: sensor.id,
                    values: [EvidenceValue(name: "failed reads", value: Double(summary.consecutiveFailures),
                                           unit: "times", decimals: 0)],
                    level: .strong, note: EvidenceFact.faultNote))
            }
        }
        let rooms = try await roomFacts(numeric: numeric, descriptors: registered.map(\.descriptor), start: start,
                                        end: end, nextID: nextID)
        var packet = EvidencePacket(
            windowStart: start, windowEnd: end, facts: facts + rooms.facts,
            sensors: Dictionary(registered.map { ($0.descriptor.id, $0.descriptor) }, uniquingKeysWith: { a, _ in a }),
            areas: settings.areas)
        packet.presence = rooms.presence
        return packet
    }

    func numericFact(_ sensor: SensorDescriptor, window: [Rollup], previous: [Rollup], sameHour: [Rollup],
                     start: UTCMillis, id: String) -> EvidenceFact? {
        let count = window.reduce(0) { $0 + $1.count }
        guard count > 0 else { return nil }
        let decimals = Self.decimals(unit: sensor.unit)
        let mean = window.reduce(0) { $0 + $1.sum } / Double(count)
        let low = window.map(\.min).min() ?? mean
        let high = window.map(\.max).max() ?? mean
        var values = [
            EvidenceValue(name: "mean", value: Self.round(mean, decimals), unit: sensor.unit, decimals: decimals),
            EvidenceValue(name: "min", value: Self.round(low, decimals), unit: sensor.unit, decimals: decimals),
            EvidenceValue(name: "max", value: Self.round(high, decimals), unit: sensor.unit, decimals: decimals),
        ]
        let previousCount = previous.reduce(0) { $0 + $1.count }
        if previousCount > 0 {
            let before = previous.reduce(0) { $0 + $1.sum } / Double(previousCount)
            values.append(EvidenceValue(name: "change", value: Self.round(mean - before, decimals), unit: sensor.unit,
                                        decimals: decimals))
        }
        var level = EvidenceFact.Level.ordinary
        let baseline = sameHour.filter { $0.count > 0 }
        let baselineDays = Set(baseline.map { $0.bucketStart.rawValue / 86_400_000 }).count
        if baselineDays >= settings.minimumBaselineDays {
            // The usual level follows the days' trend (a season cooling a room by 0.04 °C a day
            // must not make every ordinary hour an anomaly): a least-squares line through the
            // hours around this one on earlier days, read at this window; the spread is the
            // line's residuals.
            let line = Self.trend(baseline.map { (($0.bucketStart - start).wholeMilliseconds, $0.mean) })
            let usual = line.level
            // A floor on the spread: a sensor that never moves must not call a rounding step an anomaly.
            let floor = max(Self.resolution(unit: sensor.unit), abs(usual) * 0.02)
            let deviation = (mean - usual) / max(line.spread, floor)
            values.append(EvidenceValue(name: "usual", value: Self.round(usual, decimals), unit: sensor.unit,
                                        decimals: decimals))
            values.append(EvidenceValue(name: "deviation", value: Self.round(deviation, 1), unit: "", decimals: 1))
            // Far from the usual is not enough: the level must also lie outside what those hours
            // showed — each hour's lowest and highest reading, around the line and as they were —
            // by more than the spread. A room used at varying hours has two usual levels (occupied,
            // empty) and a mean between them: an occupied hour is far from that mean, yet a level
            // the room shows whenever it is used. Raw extremes, not hourly means, because a
            // 15-minute window can sit at a level an hour's mean smooths away; the margin, so a
            // lamp's 181 lx is not news where 180 lx was seen.
            let seen = Self.seenRange(baseline, line: line, start: start)
            let low = min(usual + seen.lowerBound, baseline.map(\.min).min() ?? usual)
            let high = max(usual + seen.upperBound, baseline.map(\.max).max() ?? usual)
            let margin = max(line.spread, floor)
            let outside = mean < low - margin || mean > high + margin
            if outside && abs(deviation) >= settings.strongDeviation {
                level = .strong
            } else if outside && abs(deviation) >= settings.unusualDeviation {
                level = .unusual
            }
        }
        var fact = EvidenceFact(id: id, key: "\(sensor.id)/stats@\(start)", kind: .numeric, sensor: sensor.id,
                                values: values, level: level)
        fact.baselineDays = baselineDays >= settings.minimumBaselineDays ? baselineDays : nil
        return fact
    }

    func binaryFacts(_ sensor: SensorDescriptor, window: [Rollup], sameHour: [Rollup], history: [Rollup], start: UTCMillis,
                     end: UTCMillis, clock: LocalClock, nextID: () -> String) async throws -> (EvidenceFact, [EvidenceFact]) {
        let activations = window.reduce(0) { $0 + $1.onCount }
        let onMilliseconds = window.reduce(0) { $0 + $1.onDuration }
        var values = [
            EvidenceValue(name: "activations", value: Double(activations), unit: "times", decimals: 0),
            EvidenceValue(name: "on", value: Double((onMilliseconds + 30_000) / 60_000), unit: "min", decimals: 0),
        ]
        var level: EvidenceFact.Level = activations > 0 ? .activity : .ordinary
        // Share of earlier days of the same kind with any activation in this hour.
        let days = Set(history.filter { clock.isWeekend($0.bucketStart) == clock.isWeekend(start) }
            .map { clock.dayIndex($0.bucketStart) })
        var probability: Double?
        var rareHour = false
        if days.count >= settings.minimumBaselineDays {
            let active = Set(sameHour.filter { $0.onCount > 0 }.map { clock.dayIndex($0.bucketStart) })
            let share = Double(active.count) / Double(days.count)
            probability = share
            values.append(EvidenceValue(name: "share of days active at this hour", value: (share * 100).rounded(),
                                        unit: "%", decimals: 0))
            // Rare on any kind of day too: a weekend has few days in the baseline (1 of 7 is 14 %),
            // and the door that opens at 17:30 every weekday is not news on a Saturday.
            let anyDay = Set(history.filter { Self.isNear(hour: clock.hour($0.bucketStart), clock.hour(start)) && $0.onCount > 0 }
                .map { clock.dayIndex($0.bucketStart) })
            let allDays = Set(history.map { clock.dayIndex($0.bucketStart) })
            rareHour = share <= settings.unusualProbability
                && Double(anyDay.count) / Double(max(1, allDays.count)) <= settings.unusualProbability
                && Self.quietAround(hour: clock.hour(start), history: history, clock: clock,
                                    limit: settings.unusualProbability)
            if activations > 0 && rareHour { level = .unusual }
        }
        var notable: [EvidenceFact] = []
        if activations > 0, let firstActive = window.first(where: { $0.onCount > 0 }) {
            // The last active 5-minute bucket before this window (within a day).
            let before = try await rollups(
                sensor: sensor.id, resolution: .fiveMinutes, from: firstActive.bucketStart - .seconds(86_400),
                to: firstActive.bucketStart)
            let lastActive = before.last(where: { $0.onCount > 0 || $0.onDuration > 0 })
            let quiet = firstActive.bucketStart
                - (lastActive.map { $0.bucketStart + .seconds(300) } ?? (firstActive.bucketStart - .seconds(86_400)))
            // Doors are quiet for hours by nature (everyone out); long quiet matters for presence.
            // A return after hours out is ordinary where people come and go (the simulated house
            // occupies rooms in stretches since issue 15): notable only at an hour rarely active.
            if sensor.deviceClass != "door" && quiet >= settings.longQuiet && (probability == nil || rareHour) {
                let hours = Self.round(quiet / .seconds(3600), 1)
                let at = Double(clock.hour(firstActive.bucketStart)) + Double(clock.minute(firstActive.bucketStart)) / 100
                var quietValues = [EvidenceValue(name: "quiet before", value: hours, unit: "h", decimals: 1),
                                   EvidenceValue(name: "at", value: at, unit: "time", decimals: 2)]
                if let days = daysSinceActive(atHourOf: firstActive.bucketStart, history: history, clock: clock) {
                    quietValues.append(EvidenceValue(name: "quiet days at this hour", value: Double(days),
                                                     unit: "days", decimals: 0))
                }
                notable.append(EvidenceFact(
                    id: nextID(), key: "\(sensor.id)/quiet-ended@\(firstActive.bucketStart)", kind: .notable,
                    sensor: sensor.id,
                    values: quietValues,
                    level: level == .unusual ? .strong : .unusual, note: "first activity after a long quiet"))
            }
            if sensor.deviceClass == "door" && settings.nightHours.contains(clock.hour(firstActive.bucketStart)) {
                let at = Double(clock.hour(firstActive.bucketStart)) + Double(clock.minute(firstActive.bucketStart)) / 100
                notable.append(EvidenceFact(
                    id: nextID(), key: "\(sensor.id)/night-open@\(firstActive.bucketStart)", kind: .notable,
                    sensor: sensor.id, values: [EvidenceValue(name: "at", value: at, unit: "time", decimals: 2)],
                    level: .strong, note: "door opened at night"))
            }
        }
        var fact = EvidenceFact(id: nextID(), key: "\(sensor.id)/activity@\(start)", kind: .binary, sensor: sensor.id,
                                values: values, level: level)
        fact.baselineDays = probability == nil ? nil : days.count
        for index in notable.indices where notable[index].note != "door opened at night" {
            notable[index].baselineDays = fact.baselineDays
        }
        return (fact, notable)
    }
}
