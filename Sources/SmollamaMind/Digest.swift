import Foundation
public import SmollamaCore
public import SmollamaStore

/// One `digest` observation per local day (`node.timezone`), written by rules once the day's
/// last window is observed (live, by back-fill, or by `observe --from --to`): what was unusual
/// (the day's anomaly and fault observations), the presence pattern per room (`PresenceReader`
/// over the day's windows) and comfort (each room's temperature and humidity range from the
/// hourly rollups). Its evidence is a packet of its own (`packet(day:)`) and the text is checked
/// by the observation verifier like any other (as a `summary`), so every number traces to a fact.
/// The id is a function of the node and the day, so a re-run, a restart or a back-fill never
/// writes a second one.
public struct DailyDigest: Sendable {
    public let database: SmollamaDatabase
    public let origin: NodeID
    public let settings: EvidenceSettings
    /// The presence windows' length (`observe.interval`).
    public let windowLength: Duration
    public let names: DisplayNames

    public init(database: SmollamaDatabase, origin: NodeID, settings: EvidenceSettings = .init(),
                windowLength: Duration = .seconds(15 * 60), names: DisplayNames = .init()) {
        self.database = database
        self.origin = origin
        self.settings = settings
        self.windowLength = windowLength
        self.names = names
    }

    public var clock: LocalClock { LocalClock(timeZone: settings.timeZone) }

    /// The observation id of `origin`'s digest for local day `day` (a `LocalClock.dayIndex`).
    public static func id(origin: NodeID, day: Int64) -> String {
        var digest = ContentDigest()
        digest.update(Array("digest|\(origin.hex)|\(day)".utf8))
        return String(digest.hex().prefix(32))
    }

    /// The local days whose end `windowEnd` reaches, when a window `[windowStart, windowEnd)`
    /// was just observed: the day of its start when the window ends at or after the next midnight.
    public func completedDay(windowStart: UTCMillis, windowEnd: UTCMillis) -> Int64? {
        let day = clock.dayIndex(windowStart)
        return windowEnd >= clock.midnight(ofDay: day + 1) ? day : nil
    }

    /// Writes the digest of local day `day` unless it exists; returns what was written (nil: it
    /// already existed). Throws store errors only.
    @discardableResult
    public func write(day: Int64, stamp: ClockStamp) async throws -> ObservationRecord? {
        let id = Self.id(origin: origin, day: day)
        if try await database.knowledge.observation(id: id) != nil { return nil }
        let packet = try await packet(day: day)
        let draft = DigestNarrator(names: names).draft(packet)
        let cited = draft.evidenceIDs.compactMap(packet.fact(id:))
        let record = ObservationRecord(
            id: id, kind: Self.kind, subjects: draft.subjects, text: draft.text, evidenceIDs: cited.map(\.key),
            importance: draft.importance, generator: .rules, support: 1, timeStart: packet.windowStart,
            timeEnd: packet.windowEnd, confidence: Self.confidence(cited))
        try await database.knowledge.record(record, origin: origin, stamp: stamp)
        return record
    }

    public static let kind = "digest"

    /// The digest's confidence: the mean of its facts' (presence: the mean confidence of the room's
    /// known windows; comfort: the share of the day's hours with readings; the unusual count: 1).
    static func confidence(_ facts: [EvidenceFact]) -> Double {
        let values = facts.filter { $0.kind != .window }.map { $0.value("confidence")?.value ?? 1 }
        guard !values.isEmpty else { return 0.5 }
        return ObservationConfidence.rounded(min(0.99, max(0.05, values.reduce(0, +) / Double(values.count))))
    }

    /// Checks a digest's text against its packet with the observation verifier (as a `summary`:
    /// the model's kinds do not include `digest`). Nil: every number and name is grounded.
    public static func verify(_ record: ObservationRecord, against packet: EvidencePacket) -> VerificationFailure? {
        let ids = packet.facts.filter { record.evidenceIDs.contains($0.key) }.map(\.id)
        let draft = ObservationDraft(kind: "summary", subjects: record.subjects, text: record.text, evidenceIDs: ids,
                                     importance: record.importance)
        return ObservationVerifier().verify(draft, against: packet)
    }

    /// The facts of local day `day`: the day line, the unusual observations, presence per room,
    /// comfort per room.
    public func packet(day: Int64) async throws -> EvidencePacket {
        let start = clock.midnight(ofDay: day)
        let end = clock.midnight(ofDay: day + 1)
        let registered = try await database.readings.registeredSensors().map(\.descriptor)
        let sensors = Dictionary(registered.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var facts: [EvidenceFact] = []
        func nextID() -> String { "f\(facts.count)" }
        let date = CivilDate(day: day)
        facts.append(EvidenceFact(
            id: nextID(), key: "digest@\(start)", kind: .window, sensor: nil,
            values: [EvidenceValue(name: "date", value: Double(date.day), unit: "", decimals: 0)],
            level: .ordinary, note: "\(LocalClock.weekdayNames[clock.weekday(start)]) \(date.monthName)"))

        // What was unusual: the day's anomaly and fault observations.
        let observations = try await database.knowledge.observations(origin: origin, startingFrom: start, to: end)
            .map(\.record).filter { $0.kind == "anomaly" || $0.kind == "fault" }
        if !observations.isEmpty {
            let subjects = Array(Set(observations.flatMap(\.subjects))).sorted()
            let unusual = Self.unusual(observations, names: names, sensors: sensors, clock: clock)
            facts.append(EvidenceFact(
                id: nextID(), key: "digest/unusual@\(start)", kind: .notable, sensor: subjects.first.map { SensorID($0) },
                values: [EvidenceValue(name: "unusual", value: Double(observations.count), unit: "times", decimals: 0)]
                    + unusual.values,
                level: .unusual, note: unusual.note))
        }

        // Presence per room.
        let reader = PresenceReader(database: database, timeZone: settings.timeZone, areas: names.areas)
        let rooms = try await reader.rooms()
        let windows = try await reader.windows(from: start, to: end, length: windowLength)
        for room in rooms {
            let mine = windows.filter { $0.room == room.room && $0.state != .unknown }
            guard !mine.isEmpty, let sensor = (room.motion + room.co2 + room.light + room.doors).first else { continue }
            let stretches = DigestStretches(windows: mine)
            var values: [EvidenceValue] = []
            for (index, stretch) in stretches.shown.enumerated() {
                values.append(time("from \(index + 1)", stretch.lowerBound))
                values.append(time("to \(index + 1)", stretch.upperBound))
            }
            values.append(EvidenceValue(name: "occupied", value: EvidenceBuilder.round(stretches.hours, 1), unit: "h",
                                        decimals: 1))
            if stretches.hidden > 0 {
                values.append(EvidenceValue(name: "shorter stretches", value: Double(stretches.hidden), unit: "",
                                            decimals: 0))
            }
            let confidence = mine.map(\.confidence).reduce(0, +) / Double(mine.count)
            values.append(EvidenceValue(name: "confidence", value: EvidenceBuilder.round(confidence, 2), unit: "",
                                        decimals: 2))
            facts.append(EvidenceFact(id: nextID(), key: "digest/presence/\(room.room)@\(start)", kind: .notable,
                                      sensor: sensor, values: values, level: .activity, note: "presence"))
        }

        // Comfort: temperature and humidity ranges.
        // Rooms only: a sensor without one (`cpu_temp`) says nothing about comfort.
        for descriptor in registered.sorted(by: { $0.id < $1.id })
        where Self.isComfort(descriptor) && names.room(descriptor.id) != nil {
            let hours = try await database.readings.rollups(sensor: descriptor.id, resolution: .hour, from: start, to: end)
                .filter { $0.count > 0 }
            guard let low = hours.map(\.min).min(), let high = hours.map(\.max).max() else { continue }
            let decimals = EvidenceBuilder.decimals(unit: descriptor.unit)
            let covered = Double(hours.count) / max(1, Double((end - start).wholeMilliseconds) / 3_600_000)
            facts.append(EvidenceFact(
                id: nextID(), key: "digest/comfort/\(descriptor.id)@\(start)", kind: .numeric, sensor: descriptor.id,
                values: [EvidenceValue(name: "lowest", value: EvidenceBuilder.round(low, decimals), unit: descriptor.unit,
                                       decimals: decimals),
                         EvidenceValue(name: "highest", value: EvidenceBuilder.round(high, decimals),
                                       unit: descriptor.unit, decimals: decimals),
                         EvidenceValue(name: "confidence", value: EvidenceBuilder.round(min(1, covered), 2), unit: "",
                                       decimals: 2)],
                level: .ordinary, note: "comfort"))
        }
        return EvidencePacket(windowStart: start, windowEnd: end, facts: facts, sensors: sensors)
    }

    /// A local time as a fact value (`HH.MM`, unit `time`).
    func time(_ name: String, _ instant: Int64) -> EvidenceValue {
        let at = UTCMillis(rawValue: instant)
        return EvidenceValue(name: name, value: Double(clock.hour(at)) + Double(clock.minute(at)) / 100, unit: "time",
                             decimals: 2)
    }

    /// A temperature (°C/°F) or relative humidity (%) sensor: by device class, or for a sensor
    /// without one (an imported column), by its unit and the id's last part.
    static func isComfort(_ descriptor: SensorDescriptor) -> Bool {
        guard descriptor.kind == .numeric else { return false }
        let quantity = descriptor.deviceClass ?? String(descriptor.id.rawValue.split(separator: ".").last ?? "")
        switch descriptor.unit {
        case "°C", "°F": return descriptor.deviceClass == nil || quantity == "temperature"
        case "%": return quantity == "humidity"
        default: return false
        }
    }

    /// "motion in the hallway at night (3 times); the living room temperature in the afternoon":
    /// at most four subjects and parts of the day, each with how often it came up (a count above
    /// two is a value of the fact, so the verifier sees it).
    static func unusual(_ records: [ObservationRecord], names: DisplayNames, sensors: [SensorID: SensorDescriptor],
                        clock: LocalClock) -> (note: String, values: [EvidenceValue]) {
        var items: [(text: String, count: Int)] = []
        for record in records {
            guard let subject = record.subjects.first.map({ SensorID($0) }) else { continue }
            let what = record.kind == "fault"
                ? names.device(subject, sensors[subject]) + " failing" : names.subject(subject, sensors[subject])
            let hour = clock.hour(record.timeStart)
            let when = hour < 6 ? "at night" : hour < 12 ? "in the morning" : hour < 18 ? "in the afternoon" : "in the evening"
            let item = "\(what) \(when)"
            if let index = items.firstIndex(where: { $0.text == item }) {
                items[index].count += 1
            } else {
                items.append((item, 1))
            }
        }
        var values: [EvidenceValue] = []
        var parts: [String] = []
        for (index, item) in items.prefix(4).enumerated() {
            switch item.count {
            case 1: parts.append(item.text)
            case 2: parts.append("\(item.text) (twice)")
            default:
                parts.append("\(item.text) (\(item.count) times)")
                values.append(EvidenceValue(name: "repeats \(index + 1)", value: Double(item.count), unit: "times",
                                            decimals: 0))
            }
        }
        return (parts.joined(separator: "; ") + (items.count > 4 ? "; and others" : ""), values)
    }
}

/// A room's occupied windows merged into stretches (a single empty window between two occupied
/// ones does not split them), the three longest shown in time order.
struct DigestStretches {
    var shown: [Range<Int64>]
    var hidden: Int
    var hours: Double

    init(windows: [PresenceWindow]) {
        var stretches: [Range<Int64>] = []
        let occupied = windows.filter { $0.state == .occupied }.sorted { $0.start < $1.start }
        for window in occupied {
            let range = window.start.rawValue..<window.end.rawValue
            if let last = stretches.last, range.lowerBound - last.upperBound <= range.count {
                stretches[stretches.count - 1] = last.lowerBound..<range.upperBound
            } else {
                stretches.append(range)
            }
        }
        hours = Double(occupied.reduce(Int64(0)) { $0 + ($1.end - $1.start).wholeMilliseconds }) / 3_600_000
        shown = Array(stretches.sorted { $0.count > $1.count }.prefix(3)).sorted { $0.lowerBound < $1.lowerBound }
        hidden = stretches.count - shown.count
    }
}
