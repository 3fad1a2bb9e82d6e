public import Foundation
import SmollamaCore
import SmollamaStore

/// `ask` without a model: words in the question pick a tool (recall, history, current_state),
/// and the answer is composed from the tool's output, citing the memory/observation ids it used.
/// Used when the model is not trusted (`AskStrategy.rules`) or when the model call fails.
public struct RulesAnswerer: Sendable {
    public let tools: MindTools
    let clock: LocalClock

    public init(tools: MindTools, timeZone: TimeZone = LocalClock.utc) {
        self.tools = tools
        clock = LocalClock(timeZone: timeZone)
    }

    /// What a question is about, decided from its words alone.
    enum Intent: Equatable {
        case extreme(warmest: Bool)
        case door
        case usual
        case motion
        case reading(quantity: String)
        case happened
        case doorCount
        case ventilate
        case presenceNow
        case occupiedFor
        case observed
        case other
    }

    /// Checked in order: the more specific kinds of question first (a count of door openings
    /// before the door's state, a duration of presence before motion). Word lists are in
    /// `AskRulesVocabulary.swift`.
    static func intent(of text: String) -> Intent {
        func has(_ words: [String]) -> Bool { words.contains { text.contains($0) } }
        let temperature = has(Vocabulary.temperature)
        if has(Vocabulary.warmest) || (temperature && has(Vocabulary.highest)) { return .extreme(warmest: true) }
        if has(Vocabulary.coldest) || (temperature && has(Vocabulary.lowest)) { return .extreme(warmest: false) }
        if has(["where is the", "where are the"]) { return .other }  // about a thing, not what it measured
        if has(Vocabulary.ventilate) { return .ventilate }
        if has(["door"]) { return has(Vocabulary.count) ? .doorCount : .door }
        if has(Vocabulary.duration) && (has(Vocabulary.person) || has(Vocabulary.occupied)) { return .occupiedFor }
        if has(Vocabulary.usual) { return .usual }
        if has(Vocabulary.person) && !has(Vocabulary.past) && (has(Vocabulary.now) || text.hasPrefix(" is ") || text.hasPrefix(" are ")) {
            return .presenceNow
        }
        if has(Vocabulary.observed) { return .observed }
        if has(Vocabulary.motion) || has(Vocabulary.person) || has(Vocabulary.occupied) { return .motion }
        if temperature { return .reading(quantity: "temperature") }
        if has(Vocabulary.humidity) { return .reading(quantity: "humidity") }
        if has(Vocabulary.co2) { return .reading(quantity: "co2") }
        if has(["light", "bright", "dark", "lux"]) { return .reading(quantity: "light") }
        if has(["happen", "going on", "summary", "news", "today", "unusual"]) { return .happened }
        return .other
    }

    public func answer(_ question: String) async throws -> AskAnswer {
        let text = Vocabulary.normalized(question)
        let sensors = try await tools.currentState().sensors
        let named = Vocabulary.rooms(in: text, among: Set(sensors.map { Self.room(of: $0.sensor) }))
        let intent = Self.intent(of: text)
        let (answer, citations, calls): (String, [String], [AskAnswer.Call])
        switch intent {
        case .extreme(let warmest):
            (answer, citations, calls) = extreme(warmest: warmest, sensors: sensors)
        case .door:
            (answer, citations, calls) = door(sensors: sensors, rooms: named)
        case .usual:
            (answer, citations, calls) = try await usual(question, text: text, sensors: sensors, rooms: named)
        case .motion:
            (answer, citations, calls) = try await motion(in: range(text, default: .lastDay), sensors: sensors, rooms: named)
        case .reading(let quantity):
            (answer, citations, calls) = reading(quantity, sensors: sensors, rooms: named)
        case .happened:
            (answer, citations, calls) = try await happened(in: range(text, default: .today))
        case .doorCount:
            (answer, citations, calls) = try await doorCount(in: range(text, default: .today), sensors: sensors, rooms: named)
        case .ventilate:
            (answer, citations, calls) = ventilate(sensors: sensors, rooms: named)
        case .presenceNow:
            (answer, citations, calls) = try await presenceNow(rooms: named)
        case .occupiedFor:
            (answer, citations, calls) = try await occupiedFor(in: range(text, default: .today), rooms: named)
        case .observed:
            (answer, citations, calls) = try await observed(sensors: sensors, rooms: named)
        case .other:
            (answer, citations, calls) = try await retrieved(question)
        }
        return AskAnswer(question: question, answer: answer, citations: citations,
                         mode: intent == .other ? .retrieval : .rules, toolCalls: calls, model: "rules")
    }

    typealias Composed = (String, [String], [AskAnswer.Call])

    // MARK: - Rooms and quantities

    /// The room of a sensor: the first part of its id (`hallway.motion` → hallway).
    static func room(of sensor: String) -> String { String(sensor.split(separator: ".").first ?? Substring(sensor)) }
    static func roomName(_ room: String) -> String { room.replacingOccurrences(of: "_", with: " ") }
    static func quantity(of sensor: String) -> String { String(sensor.split(separator: ".").last ?? Substring(sensor)) }

    static func value(_ entry: StateOutput.Sensor) -> String {
        guard let value = entry.value else { return "no reading" }
        return Asker.number(value) + (entry.unit.isEmpty ? "" : " " + entry.unit)
    }

    func time(_ time: UTCMillis) -> String { String(format: "%02d:%02d", clock.hour(time), clock.minute(time)) }

    static func call(_ name: String, _ arguments: String) -> AskAnswer.Call {
        .init(name: name, arguments: arguments, failed: false)
    }

    static func list(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " and " + items[items.count - 1]
    }

    // MARK: - Time ranges

    enum DefaultRange { case lastDay, today }

    /// The span the question names (last night, today, yesterday, this morning, the last hour), in node-clock ms.
    func range(_ text: String, default fallback: DefaultRange) -> (from: UTCMillis, to: UTCMillis, label: String) {
        let now = tools.now()
        let midnight = UTCMillis(rawValue: clock.dayIndex(now) * 86_400_000 - (clock.local(now) - now.rawValue))
        let hour = Duration.seconds(3600)
        if let clock = Vocabulary.clockTime(in: text) {
            var start = midnight + Duration.seconds(clock.hour * 3600 + clock.minute * 60)
            if start > now { start = start - hour * 24 }
            let end = min(now, start + hour)
            return (start, end, "between \(time(start)) and \(time(end))")
        }
        if text.contains("night") {
            let end = now >= midnight + hour * 6 ? midnight + hour * 6 : now
            return (midnight - hour * 2, end, "between \(time(midnight - hour * 2)) and \(time(end))")
        }
        if text.contains("yesterday") { return (midnight - hour * 24, midnight, "yesterday") }
        if text.contains("morning") {
            return (midnight + hour * 6, min(now, midnight + hour * 12), "this morning")
        }
        if text.contains("hour") { return (now - hour, now, "in the last hour") }
        if text.contains("today") || fallback == .today { return (midnight, now, "today") }
        return (now - hour * 24, now, "in the last 24 hours")
    }

    // MARK: - Intents

    func extreme(warmest: Bool, sensors: [StateOutput.Sensor]) -> Composed {
        let temperatures = sensors.filter { Self.quantity(of: $0.sensor) == "temperature" && $0.value != nil }
        let sorted = temperatures.sorted { ($0.value ?? 0, $1.sensor) > ($1.value ?? 0, $0.sensor) }
        let call = Self.call("current_state", "{}")
        guard let pick = warmest ? sorted.first : sorted.last else {
            return ("No room has a temperature reading yet.", [], [call])
        }
        let others = sorted.filter { $0.sensor != pick.sensor }
            .map { "\(Self.roomName(Self.room(of: $0.sensor))) \(Self.value($0))" }
        let answer = "The \(Self.roomName(Self.room(of: pick.sensor))) is the \(warmest ? "warmest" : "coldest") room now: "
            + Self.value(pick) + (others.isEmpty ? "." : " (" + others.joined(separator: ", ") + ").")
        return (answer, [], [call])
    }

    func door(sensors: [StateOutput.Sensor], rooms: Set<String>) -> Composed {
        let doors = sensors.filter {
            Self.quantity(of: $0.sensor) == "door" && (rooms.isEmpty || rooms.contains(Self.room(of: $0.sensor)))
        }
        let call = Self.call("current_state", "{\"sensors\":[" + doors.map { "\"\($0.sensor)\"" }.joined(separator: ",") + "]}")
        guard !doors.isEmpty else { return ("No door sensor is known here.", [], [call]) }
        let lines = doors.map { entry -> String in
            let name = "The \(Self.roomName(Self.room(of: entry.sensor))) door"
            guard let value = entry.value else { return "\(name) has no reading yet." }
            return "\(name) is \(value > 0 ? "open" : "closed")" + (entry.time.map { " (last reading \(time($0)))." } ?? ".")
        }
        return (lines.joined(separator: " "), [], [call])
    }

    /// From the memories: a typical range when the question names a quantity (and the part of
    /// the day it names), a presence schedule or routine when it asks when a room is used,
    /// otherwise any memory. Ranked by the question's words, else the filter alone decides.
    func usual(_ question: String, text: String, sensors: [StateOutput.Sensor], rooms: Set<String>) async throws -> Composed {
        let about = sensors.map(\.sensor).filter { rooms.contains(Self.room(of: $0)) }
        var query = RecallQuery(text: question, kinds: [.memory], sensors: about.isEmpty ? nil : about, topK: 3)
        var arguments = "{\"kind\":\"memory\""
        if let quantity = Self.rangeQuantity(in: text) {
            query.filter.recordKinds = ["range"]
            query.filter.metadata["quantity"] = quantity.rawValue
            if let part = PartOfDay.allCases.first(where: { text.contains($0.rawValue) }) {
                query.filter.metadata["part"] = part.rawValue
            }
            arguments += ",\"record_kind\":\"range\""
        } else if Self.asksWhen(text) {
            query.filter.recordKinds = ["schedule", "routine"]
            arguments += ",\"record_kind\":\"schedule,routine\""
        }
        let call = Self.call("recall", arguments + ",\"query\":\(Self.quoted(question))}")
        // Looser and looser: the filter with the question's words; in a named room the filter
        // alone; then any memory of the room; then any memory (a room without sensors here).
        var attempts = [query]
        if query.filter.recordKinds != nil {
            if query.filter.sensors != nil {
                var listing = query
                listing.text = ""
                attempts.append(listing)
            }
            attempts.append(RecallQuery(text: question, kinds: [.memory], sensors: query.filter.sensors, topK: 3))
        }
        if query.filter.sensors != nil { attempts.append(RecallQuery(text: question, kinds: [.memory], topK: 3)) }
        var hits: [RecallHitView] = []
        for attempt in attempts where hits.isEmpty { hits = try await tools.recall(attempt).hits }
        guard !hits.isEmpty else { return ("Nothing is remembered about that yet.", [], [call]) }
        let answer = "From what is remembered: " + hits.map { "\($0.text) [\($0.id)]" }.joined(separator: " ")
        return (answer, hits.map(\.id), [call])
    }

    /// The quantity a question about typical levels names.
    static func rangeQuantity(in text: String) -> RangeQuantity? {
        func has(_ words: [String]) -> Bool { words.contains { text.contains($0) } }
        if has(Vocabulary.temperature) { return .temperature }
        if has(Vocabulary.humidity) { return .humidity }
        if has(Vocabulary.co2) { return .co2 }
        return nil
    }

    /// Whether a question asks when a room is used (a schedule or routine answers it).
    static func asksWhen(_ text: String) -> Bool {
        [" when ", " used", " use ", "occupied", "busy", "schedule", "empty", "at home", "in use"].contains { text.contains($0) }
    }

    func motion(in span: (from: UTCMillis, to: UTCMillis, label: String), sensors: [StateOutput.Sensor],
                rooms: Set<String>) async throws -> Composed {
        let motionSensors = sensors.map(\.sensor).filter {
            Self.quantity(of: $0) == "motion" && (rooms.isEmpty || rooms.contains(Self.room(of: $0)))
        }.sorted()
        guard !motionSensors.isEmpty, span.from < span.to else {
            return ("No motion sensor covers that.", [], [Self.call("current_state", "{}")])
        }
        var calls: [AskAnswer.Call] = []
        var seen: [String] = []
        var quiet: [String] = []
        for sensor in motionSensors {
            let history = try await tools.history(sensor: sensor, from: span.from, to: span.to)
            calls.append(Self.call("history", "{\"from\":\(span.from),\"sensor\":\"\(sensor)\",\"to\":\(span.to)}"))
            let room = Self.roomName(Self.room(of: sensor))
            let active = history.points.filter { ($0.onCount ?? 0) > 0 }
            if let first = active.first, let last = active.last {
                let count = active.map { $0.onCount ?? 0 }.reduce(0, +)
                let times = count == 1 ? "at \(time(max(first.start, span.from)))"
                    : "\(time(max(first.start, span.from)))–\(time(last.start))"
                seen.append("the \(room) (\(count) time\(count == 1 ? "" : "s"), \(times))")
            } else {
                quiet.append("the \(room)")
            }
        }
        let query = RecallQuery(text: "", kinds: [.observation], sensors: motionSensors, from: span.from, to: span.to, topK: 50)
        let observations = Self.notable(try await tools.recall(query).hits, limit: 3)
        calls.append(Self.call("recall", "{\"kind\":\"observation\",\"since\":\(span.from)}"))
        var answer = seen.isEmpty
            ? "No motion was recorded \(span.label) (\(Self.list(quiet)))."
            : "Yes: motion in \(Self.list(seen)) \(span.label)." + (quiet.isEmpty ? "" : " None in \(Self.list(quiet)).")
        if !observations.isEmpty {
            answer += " Observed: " + observations.map { "\($0.text) [\($0.id)]" }.joined(separator: " ")
        }
        return (answer, observations.map(\.id), calls)
    }

    func reading(_ quantity: String, sensors: [StateOutput.Sensor], rooms: Set<String>) -> Composed {
        let matching = sensors.filter {
            Self.quantity(of: $0.sensor) == quantity && (rooms.isEmpty || rooms.contains(Self.room(of: $0.sensor)))
        }.sorted { $0.sensor < $1.sensor }
        let call = Self.call("current_state", "{\"sensors\":[" + matching.map { "\"\($0.sensor)\"" }.joined(separator: ",") + "]}")
        guard !matching.isEmpty else { return ("No \(quantity) sensor is known for that room.", [], [call]) }
        let parts = matching.map { entry in
            "the \(Self.roomName(Self.room(of: entry.sensor))) \(quantity == "co2" ? "CO₂" : quantity) is \(Self.value(entry))"
                + (entry.time.map { " (at \(time($0)))" } ?? "")
        }
        let sentence = Self.list(parts) + "."
        return (sentence.prefix(1).uppercased() + sentence.dropFirst(), [], [call])
    }

    func happened(in span: (from: UTCMillis, to: UTCMillis, label: String)) async throws -> Composed {
        let query = RecallQuery(text: "", kinds: [.observation], from: span.from, to: span.to, topK: 50)
        let hits = Self.notable(try await tools.recall(query).hits, limit: 6)
        let call = Self.call("recall", "{\"kind\":\"observation\",\"since\":\(span.from)}")
        guard !hits.isEmpty else { return ("Nothing was observed \(span.label).", [], [call]) }
        let lines = hits.map { hit in (hit.timeStart.map { time($0) + " " } ?? "") + "\(hit.text) [\(hit.id)]" }
        return ("Observed \(span.label):\n" + lines.joined(separator: "\n"), hits.map(\.id), [call])
    }

    /// The most important observations (newer first among equals), in time order.
    static func notable(_ hits: [RecallHitView], limit: Int) -> [RecallHitView] {
        hits.sorted { ($0.importance, $0.timeStart ?? 0, $0.id) > ($1.importance, $1.timeStart ?? 0, $1.id) }
            .prefix(limit)
            .sorted { ($0.timeStart ?? 0, $0.id) < ($1.timeStart ?? 0, $1.id) }
    }

    func retrieved(_ question: String) async throws -> Composed {
        let hits = try await tools.recall(RecallQuery(text: question, topK: 3)).hits
        let call = Self.call("recall", "{\"query\":\(Self.quoted(question))}")
        guard !hits.isEmpty else { return ("Nothing recorded answers that.", [], [call]) }
        return ("What is recorded:\n" + hits.map { "[\($0.id)] \($0.text)" }.joined(separator: "\n"), hits.map(\.id), [call])
    }

    static func quoted(_ text: String) -> String { (try? MindTools.json(text)) ?? "\"\"" }
}
