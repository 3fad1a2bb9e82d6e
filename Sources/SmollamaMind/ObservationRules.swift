import Foundation
public import SmollamaCore

/// How sensors are named in sentences: never by id. A room is the first part of a sensor id
/// (`living_room.temperature` → "living room") unless `areas` names one for the sensor.
public struct DisplayNames: Sendable, Hashable {
    public var areas: [SensorID: String]

    public init(areas: [SensorID: String] = [:]) { self.areas = areas }

    /// The room or area, in words; nil for an id without a room part (`cpu_temp`).
    public func room(_ sensor: SensorID) -> String? { PresenceRoom.key(of: sensor, areas: areas).map(Self.words) }

    /// The sensor as the subject of a sentence, lower case: "motion in the hallway", "the hallway
    /// door", "the living room temperature".
    public func subject(_ sensor: SensorID, _ descriptor: SensorDescriptor?) -> String {
        let quantity = descriptor?.deviceClass ?? String(sensor.rawValue.split(separator: ".").last ?? "")
        guard let room = room(sensor) else {
            return (descriptor?.name ?? quantity.replacingOccurrences(of: "_", with: " ")).lowercased()
        }
        switch quantity {
        case "motion", "occupancy", "presence": return "motion in the \(room)"
        case "door", "window": return "the \(room) \(quantity)"
        case "humidity": return "humidity in the \(room)"
        case "illuminance", "light": return "light in the \(room)"
        case "carbon_dioxide", "co2": return "CO₂ in the \(room)"
        case "pressure": return "air pressure in the \(room)"
        default: return "the \(room) \(quantity.replacingOccurrences(of: "_", with: " "))"
        }
    }

    /// The sensor as a thing: "the hallway motion sensor".
    public func device(_ sensor: SensorID, _ descriptor: SensorDescriptor?) -> String {
        let quantity = (descriptor?.deviceClass ?? String(sensor.rawValue.split(separator: ".").last ?? ""))
            .replacingOccurrences(of: "_", with: " ")
        guard let room = room(sensor) else { return "the \((descriptor?.name ?? quantity).lowercased()) sensor" }
        return "the \(room) \(quantity) sensor"
    }
}

/// The situations the rules narrator writes about, each with a few phrasings.
public enum NarrationSituation: String, Sendable, Hashable, CaseIterable, Codable {
    case quiet, activity, unusualHour, quietEnded, nightDoor, fault, unusualLevel
    /// Rooms (`ObservationRulesRooms.swift`): a humid stretch, comfort outside the usual range,
    /// CO₂ over the ventilation limit, lamps on / off / at an unusual hour, arrivals, departures.
    case humid, comfortRange, ventilate, lampsOn, lampsOff, lampsUnusual, arrival, departure
}

/// Sentences from the evidence when no model has passed calibration, the model is down, or its
/// drafts fail verification twice (`generator: rules`). Readable on their own: local times, rooms
/// and quantities in words (never a sensor id), units written out, the usual named next to the
/// unusual; deterministic, with a few phrasings per situation chosen by the window so a day's log
/// does not read as one line repeated. Every number comes from a cited fact, so these drafts pass
/// the same verifier as the model's.
public struct RulesNarrator: Sendable {
    /// At most this many sentences per window.
    public var limit: Int
    public var names: DisplayNames

    public init(limit: Int = 3, names: DisplayNames = .init()) {
        self.limit = limit
        self.names = names
    }

    public func drafts(for packet: EvidencePacket) -> [ObservationDraft] { narrated(packet).map(\.draft) }

    /// The drafts with the situation and phrasing each one used (for tests and reports).
    public func narrated(_ packet: EvidencePacket) -> [(draft: ObservationDraft, situation: NarrationSituation, variant: Int)] {
        // Areas the evidence was built with name rooms too.
        let narrator = RulesNarrator(limit: limit, names: DisplayNames(areas: packet.areas.merging(names.areas) { $1 }))
        return narrator.narratedWithNames(packet)
    }

    private func narratedWithNames(_ packet: EvidencePacket)
        -> [(draft: ObservationDraft, situation: NarrationSituation, variant: Int)]
    {
        let highlights = packet.highlights
        if highlights.isEmpty { return quiet(packet).map { [$0] } ?? [] }
        var drafts: [(ObservationDraft, NarrationSituation, Int)] = []
        var covered: Set<SensorID> = []
        // A room fact speaks for the sensor it is about (a humid stretch says more than the
        // humidity's level), and an arrival or departure for the lamps switched with it.
        let spokenFor = Set(highlights.filter { $0.kind == .comfort }.compactMap(\.sensor))
        let changedRooms = Set(highlights.filter { $0.kind == .presence }.compactMap(\.room))
        var plain: [EvidenceFact] = []
        for fact in highlights {
            guard drafts.count < limit else { continue }
            if let room = fact.room {
                if let sensor = fact.sensor, covered.contains(sensor) { continue }
                if fact.kind == .light, fact.level < .unusual, changedRooms.contains(room) { continue }
                guard let sentence = roomSentence(fact, room: room, packet: packet) else { continue }
                covered.formUnion(sentence.0.subjects.map { SensorID($0) })
                drafts.append(sentence)
                continue
            }
            guard let sensor = fact.sensor, !(fact.kind == .numeric && spokenFor.contains(sensor)) else { continue }
            // A notable fact speaks for its sensor; the sensor's plain activity line adds nothing.
            if fact.kind == .binary && covered.contains(sensor) { continue }
            if fact.kind == .binary && fact.level == .activity {
                plain.append(fact)  // ordinary activity: one sentence for all of it, below
                continue
            }
            guard let sentence = sentence(fact, sensor: sensor, packet: packet) else { continue }
            covered.insert(sensor)
            drafts.append(sentence)
        }
        if drafts.count < limit, let activity = activity(plain.filter { !covered.contains($0.sensor ?? "") }, packet) {
            drafts.append(activity)
        }
        return drafts
    }

    /// Ordinary activity of the window's binary sensors in one sentence: "Motion in the hallway 3
    /// times and the hallway door opened once."
    func activity(_ facts: [EvidenceFact], _ packet: EvidencePacket) -> (ObservationDraft, NarrationSituation, Int)? {
        var clauses: [String] = []
        var motionSaid = false
        for fact in facts {
            guard let sensor = fact.sensor, let activations = fact.value("activations") else { continue }
            let descriptor = packet.sensors[sensor]
            let times = Self.count(activations, "time")
            switch descriptor?.deviceClass {
            case "door", "window": clauses.append("\(names.subject(sensor, descriptor)) opened \(times)")
            case "motion", "occupancy", "presence":
                // "motion in the hallway 2 times and in the living room 3 times"
                let room = names.room(sensor).map { "in the \($0)" }
                clauses.append("\(motionSaid ? room ?? names.subject(sensor, descriptor) : names.subject(sensor, descriptor)) \(times)")
                motionSaid = true
            default: clauses.append("\(names.subject(sensor, descriptor)) active \(times)")
            }
        }
        guard !clauses.isEmpty else { return nil }
        let said = Self.list(clauses)
        var phrasings = [Self.capitalised(said) + ".", "Between \(Self.window(packet)): \(said).", "Some activity — \(said)."]
        if facts.count == 1, let on = facts.first?.value("on") {
            let total = Self.amount(on)
            phrasings = [Self.capitalised(said) + ", \(total) in all.",
                         "Between \(Self.window(packet)), \(said), on for \(total).", "Some activity — \(said) over \(total)."]
        }
        let sensors = facts.compactMap(\.sensor)
        let variant = Self.variant(phrasings.count, packet: packet, salt: sensors.map(\.rawValue).joined())
        let draft = ObservationDraft(kind: "activity", subjects: sensors.map(\.rawValue), text: phrasings[variant],
                                     evidenceIDs: facts.map(\.id), importance: facts.map(\.importance).max() ?? 0.3)
        return (draft, .activity, variant)
    }

    /// The phrasing for a situation in this window: turns with the window, so neighbouring windows
    /// read differently, and is the same on every run.
    static func variant(_ count: Int, packet: EvidencePacket, salt: String) -> Int {
        let length = max(60_000, (packet.windowEnd - packet.windowStart).wholeMilliseconds)
        let index = packet.windowStart.rawValue / length + Int64(salt.unicodeScalars.reduce(0) { $0 + Int($1.value) })
        return Int(((index % Int64(count)) + Int64(count)) % Int64(count))
    }

    /// A quiet window: one sentence per part of the day, so a quiet night folds into one observation.
    func quiet(_ packet: EvidencePacket) -> (ObservationDraft, NarrationSituation, Int)? {
        let subjects = packet.facts.compactMap(\.sensor).map(\.rawValue)
        let ids = packet.facts.filter { $0.kind != .window }.map(\.id)
        let hour = packet.facts.first { $0.kind == .window }?.value("from").map { Int($0.value) } ?? 0
        let part = [(6, "A quiet night"), (12, "A quiet morning"), (18, "A calm afternoon"), (24, "A quiet evening")]
        let variant = part.firstIndex { hour < $0.0 } ?? 0
        let binary = packet.facts.contains { $0.kind == .binary }
        let rooms = Array(Set(packet.facts.compactMap(\.sensor).compactMap(names.room))).sorted()
        let body = binary ? "no motion or door activity, readings near their usual values"
            : "readings near their usual values in the " + Self.list(rooms.isEmpty ? ["house"] : rooms)
        let draft = ObservationDraft(kind: "summary", subjects: subjects, text: "\(part[variant].1): \(body).",
                                     evidenceIDs: ids.isEmpty ? ["f0"] : ids, importance: 0.1)
        return (draft, .quiet, variant)
    }

    func sentence(_ fact: EvidenceFact, sensor: SensorID, packet: EvidencePacket)
        -> (ObservationDraft, NarrationSituation, Int)?
    {
        let descriptor = packet.sensors[sensor]
        let subject = names.subject(sensor, descriptor)
        let lead = Self.capitalised(subject)
        let unusual = fact.level >= .unusual
        func pick(_ situation: NarrationSituation, _ kind: String, _ phrasings: [String])
            -> (ObservationDraft, NarrationSituation, Int)
        {
            let variant = Self.variant(phrasings.count, packet: packet, salt: sensor.rawValue)
            let draft = ObservationDraft(kind: kind, subjects: [sensor.rawValue], text: phrasings[variant],
                                         evidenceIDs: [fact.id], importance: fact.importance)
            return (draft, situation, variant)
        }
        switch fact.kind {
        case .window, .comfort, .air, .light, .presence:
            return nil
        case .notable:
            if fact.note == EvidenceFact.faultNote, let reads = fact.value("failed reads") {
                let device = names.device(sensor, descriptor)
                return pick(.fault, "fault", [
                    "\(Self.capitalised(device)) is not answering: \(reads.shown) failed reads in a row.",
                    "No readings from \(device): \(reads.shown) failed reads in a row.",
                ])
            }
            if fact.note == "door opened at night", let at = fact.value("at") {
                return pick(.nightDoor, "anomaly", [
                    "\(lead) opened at \(at.shown), in the middle of the night.",
                    "At \(at.shown) at night, \(subject) opened.",
                ])
            }
            if let quiet = fact.value("quiet before"), let at = fact.value("at") {
                let after = Self.amount(quiet)
                var phrasings = [
                    "\(lead) at \(at.shown) — the first in \(after).",
                    "After \(after) of quiet, \(subject) at \(at.shown).",
                ]
                if let days = fact.value("quiet days at this hour") {
                    phrasings.append("\(lead) at \(at.shown) — the first at this hour in \(Self.amount(days)).")
                }
                return pick(.quietEnded, unusual ? "anomaly" : "activity", phrasings)
            }
            return nil
        case .binary:
            guard let activations = fact.value("activations") else { return nil }
            let times = Self.count(activations, "time")
            if unusual, let share = fact.value("share of days active at this hour") {
                return pick(.unusualHour, "anomaly", [
                    "\(lead) \(times) at an unusual hour: only \(share.shown)% of days see any at this hour.",
                    "Unusual for the hour: \(subject) \(times), where \(share.shown)% of days are active.",
                ])
            }
            return activity([fact], packet)
        case .numeric:
            guard unusual, let mean = fact.value("mean"), let usual = fact.value("usual") else { return nil }
            let direction = mean.value > usual.value ? "above" : "below"
            let comparative = mean.value > usual.value ? "Higher" : "Lower"
            return pick(.unusualLevel, "anomaly", [
                "\(lead) averaged \(Self.amount(mean)), \(direction) its usual \(Self.amount(usual)) at this hour.",
                "\(comparative) than usual: \(subject) at \(Self.amount(mean)) against \(Self.amount(usual)).",
                "\(lead) is \(direction) what is usual at this hour: \(Self.amount(mean)), usually \(Self.amount(usual)).",
            ])
        }
    }

    /// A value with its unit written for people: `21.3 °C`, `48%`, `6.5 hours`, `1 minute`.
    static func amount(_ value: EvidenceValue) -> String {
        switch value.unit {
        case "", "time": value.shown
        case "%": value.shown + "%"
        case "min": count(value, "minute")
        case "h": count(value, "hour")
        case "days": count(value, "day")
        default: value.shown + " " + value.unit
        }
    }

    static func count(_ value: EvidenceValue, _ noun: String) -> String {
        if noun == "time" && value.shown == "1" { return "once" }
        return value.shown + " " + (value.shown == "1" ? noun : noun + "s")
    }

    /// `07:00 and 07:15`: the window's local times.
    static func window(_ packet: EvidencePacket) -> String {
        let window = packet.facts.first { $0.kind == .window }
        return [window?.value("from"), window?.value("to")].compactMap { $0?.shown }.joined(separator: " and ")
    }

    static func capitalised(_ text: String) -> String { text.prefix(1).uppercased() + text.dropFirst() }

    static func list(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + (items.last ?? "")
    }
}
