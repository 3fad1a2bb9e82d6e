import Foundation
import Logging
import SmollamaCore
import SmollamaLLM
import SmollamaSensors
import SmollamaStore
import SmollamaTesting
import Synchronization
import Testing
@testable import SmollamaMind

/// `ask` by rules over the simulated house: each answer's facts must equal a truth computed from
/// the store's raw readings, memories and observations (not from the tools the rules call).
@Suite struct AskRulesTests {
    typealias T = HouseTime
    /// Tuesday 10:00: last night holds the planted 03:10 hallway motion.
    static let now = T.tuesday + 10 * T.hour
    static let rooms = ["living_room", "hallway", "office"]

    struct House {
        let store: TestStore
        let asker: Asker
        let officeMemory = "m-office"
    }

    static func house() async throws -> House {
        let store = try await TestStore()
        var options = SimulatedHouseDriver.Options()
        options.rooms = rooms
        try await seedSimulatedHouse(store, from: T.tuesday - T.day, to: now, house: options)
        for (id, sensor, text) in [
            ("m-office", "office.motion", "office.motion on weekdays is usually active 08:00-17:00"),
            ("m-living", "living_room.motion", "living_room.motion is usually active 18:00-22:00"),
        ] {
            try await store.database.knowledge.record(
                MemoryRecord(id: id, kind: "routine", subjects: [sensor], text: text, confidence: 0.8, importance: 0.5,
                             validFrom: T.tuesday - 7 * T.day, createdAt: T.tuesday - T.day, source: .reflection),
                origin: store.node, stamp: houseStamp(T.tuesday - T.day))
        }
        // Observations for today, written by the rules narrator as the loop would.
        let loop = observationLoop(store, narrator: nil)
        for start in stride(from: T.tuesday.rawValue, to: now.rawValue, by: Int(15 * T.minute)).map(UTCMillis.init(rawValue:)) {
            _ = try await loop.observe(windowStart: start, windowEnd: start + 15 * T.minute)
        }
        let counter = MemoryStampCounter(now)
        let tools = MindTools(
            database: store.database,
            recall: Recall(database: store.database, embedder: nil, vectorSearch: .off, logger: .quiet, now: { now }),
            node: store.node, indexer: nil, logger: .quiet, now: { now }, stamp: { counter.next() })
        let model = ScriptedChatModel(capabilities: [.completion], replies: [])
        return House(store: store, asker: Asker(model: model, tools: tools, strategy: .rules, logger: .quiet))
    }

    // MARK: - Truths from the store

    static func name(_ room: String) -> String { room.replacingOccurrences(of: "_", with: " ") }

    static func latest(_ store: TestStore, _ sensor: String) async throws -> Double {
        try #require(try await store.database.readings.fetch(sensor: SensorID(sensor), from: now - T.hour, to: now + 1).last).value
    }

    static func roomsWithMotion(_ store: TestStore, from: UTCMillis, to: UTCMillis) async throws -> Set<String> {
        var rooms: Set<String> = []
        for room in Self.rooms where try await store.database.readings.fetch(sensor: SensorID("\(room).motion"), from: from, to: to)
            .contains(where: { $0.value > 0 }) {
            rooms.insert(room)
        }
        return rooms
    }

    /// The rooms an answer says had motion (before "None in"), and those it says had none. The
    /// observations it cites after "Observed:" are the narrator's sentences, not the answer's claims.
    static func motionClaims(_ answer: String) -> (seen: Set<String>, quiet: Set<String>) {
        let answer = answer.components(separatedBy: " Observed:")[0]
        let parts = answer.components(separatedBy: "None in")
        let negative = answer.hasPrefix("No motion")
        func mentioned(_ text: String) -> Set<String> { Set(rooms.filter { text.contains("the \(name($0))") }) }
        if negative { return ([], mentioned(answer)) }
        return (mentioned(parts[0]), parts.count > 1 ? mentioned(parts[1]) : [])
    }

    // MARK: - The fixed questions

    @Test func fixedQuestionsAnswerWithTheStoresFacts() async throws {
        let house = try await Self.house()
        let store = house.store
        var correct: [String: Bool] = [:]
        func check(_ question: String, _ verdict: (AskAnswer) async throws -> Bool) async throws {
            let answer = try await house.asker.ask(question)
            correct[question] = try await verdict(answer) && answer.mode == .rules
            if correct[question] == false { Issue.record("wrong answer to \(question): \(answer.answer)") }
        }

        // Motion: last night is Monday 22:00 – Tuesday 06:00; this morning 06:00 – now.
        let night = try await Self.roomsWithMotion(store, from: T.tuesday - 2 * T.hour, to: T.tuesday + 6 * T.hour)
        let morning = try await Self.roomsWithMotion(store, from: T.tuesday + 6 * T.hour, to: Self.now)
        #expect(night.contains("hallway"), "the planted 03:10 hallway motion is in the store")
        for question in ["Was there motion last night?", "Did anyone move around overnight?"] {
            try await check(question) { answer in
                let claims = Self.motionClaims(answer.answer)
                return claims.seen == night && claims.quiet == Set(Self.rooms).subtracting(night)
            }
        }
        try await check("Was there any movement in the hallway this morning?") { answer in
            Self.motionClaims(answer.answer).seen == morning.intersection(["hallway"])
        }

        // Warmest and coldest now, from the last raw readings.
        var temperatures: [(room: String, value: Double)] = []
        for room in Self.rooms { temperatures.append((room, try await Self.latest(store, "\(room).temperature"))) }
        let warmest = try #require(temperatures.max { $0.value < $1.value })
        let coldest = try #require(temperatures.min { $0.value < $1.value })
        for question in ["What is the warmest room now?", "Which room is the hottest at the moment?"] {
            try await check(question) { answer in
                answer.answer.hasPrefix("The \(Self.name(warmest.room)) is the warmest room now: \(Asker.number(warmest.value)) °C")
            }
        }
        try await check("Where is it coldest?") { answer in
            answer.answer.hasPrefix("The \(Self.name(coldest.room)) is the coldest room now: \(Asker.number(coldest.value)) °C")
        }

        // Routines come from the memories, cited.
        for question in ["When is the office usually used?", "What is the typical office schedule?"] {
            try await check(question) { answer in
                answer.citations.first == house.officeMemory && answer.answer.contains("08:00-17:00")
            }
        }

        // Readings of one room.
        let living = try await Self.latest(store, "living_room.temperature")
        try await check("What is the temperature in the living room?") { answer in
            answer.answer.hasPrefix("The living room temperature is \(Asker.number(living)) °C")
        }
        let office = try await Self.latest(store, "office.temperature")
        try await check("How warm is it in the office?") { answer in
            answer.answer.hasPrefix("The office temperature is \(Asker.number(office)) °C")
        }
        let humidity = try await Self.latest(store, "living_room.humidity")
        try await check("How humid is the living room?") { answer in
            answer.answer.hasPrefix("The living room humidity is \(Asker.number(humidity)) %")
        }

        // The door, from its last reading (1 = open).
        let door = try await Self.latest(store, "hallway.door") > 0 ? "open" : "closed"
        for question in ["Is the door open?", "Is the hallway door shut right now?"] {
            try await check(question) { answer in answer.answer.hasPrefix("The hallway door is \(door)") }
        }

        // Today's observations, each cited with its text.
        let today = try await store.database.knowledge.recentObservations(limit: 1000)
            .filter { $0.record.timeEnd > T.tuesday && $0.record.timeStart < Self.now }
        #expect(!today.isEmpty)
        for question in ["What happened today?", "Anything going on today?"] {
            try await check(question) { answer in
                let cited = today.filter { answer.citations.contains($0.record.id) }
                let least = cited.map(\.record.importance).min() ?? 0
                return !answer.citations.isEmpty && cited.count == answer.citations.count
                    && cited.count == min(6, today.count)
                    && today.allSatisfy { answer.citations.contains($0.record.id) || $0.record.importance <= least }
                    && cited.allSatisfy { answer.answer.contains("\($0.record.text) [\($0.record.id)]") }
            }
        }

        #expect(correct.count == 15)
    }

    /// Questions about what is usual, over five simulated weekdays after reflection: schedules
    /// and typical ranges answer them, cited; the range's numbers are the percentiles of the
    /// store's hourly means.
    @Test func usualQuestionsAnswerFromSchedulesAndRanges() async throws {
        let store = try await TestStore()
        let (_, monday, end) = try await seedFiveWeekdays(store)
        let now = end + T.hour
        let counter = MemoryStampCounter(now)
        let reflection = Reflection(database: store.database, node: store.node, logger: .quiet) { counter.next() }
        let report = try await reflection.reflect(now: now)
        let memories = try await store.database.knowledge.memories(currentOnly: true, limit: 1000)
        func memory(_ key: String) throws -> StoredMemory {
            try #require(memories.first { $0.record.metadata["pattern"] == key }, "no memory \(key)")
        }
        let tools = MindTools(
            database: store.database,
            recall: Recall(database: store.database, embedder: nil, vectorSearch: .off, logger: .quiet, now: { now }),
            node: store.node, indexer: nil, logger: .quiet, now: { now }, stamp: { counter.next() })
        let asker = Asker(model: ScriptedChatModel(capabilities: [.completion], replies: []), tools: tools,
                          strategy: .rules, logger: .quiet)

        let study = try memory("schedule|study|weekdays")
        let schedule = try #require(report.schedules.first { $0.room == "study" && $0.days == .weekdays })
        for question in ["When is the study usually used?", "Is the study normally occupied?"] {
            let answer = try await asker.ask(question)
            #expect(answer.mode == .rules)
            #expect(answer.citations.first == study.record.id, "\(question): \(answer.answer)")
            #expect(answer.answer.contains(schedule.blocks[0].label), "\(question): \(answer.answer)")
        }

        // The evening range of the living room, against the store's hourly means (UTC hours 18–24).
        let means = try await store.database.readings.rollups(
            sensor: "living_room.temperature", resolution: .hour, from: monday, to: end)
            .filter { $0.count > 0 && ($0.bucketStart.rawValue % T.day) / T.hour >= 18 }.map(\.mean).sorted()
        let low = means[Int((Double(means.count - 1) * 0.1).rounded())]
        let high = means[Int((Double(means.count - 1) * 0.9).rounded())]
        let evening = try memory("range|living_room.temperature|evening")
        let range = try #require(report.ranges.first { $0.key == "range|living_room.temperature|evening" })
        #expect(range.low == low && range.high == high)
        for question in ["How warm is the living room usually in the evening?",
                         "What temperature is typical for the living room in the evening?"] {
            let answer = try await asker.ask(question)
            #expect(answer.citations.first == evening.record.id, "\(question): \(answer.answer)")
            #expect(answer.answer.contains("The living room is usually \(range.formatted(low))–\(range.formatted(high)) °C in the evening"),
                    "\(question): \(answer.answer)")
        }
        let co2 = try memory("range|study.co2|afternoon")
        let answer = try await asker.ask("How much CO2 is usual in the study in the afternoon?")
        #expect(answer.citations.first == co2.record.id, "\(answer.answer)")
        #expect(answer.answer.contains("CO₂ in the study is usually"))
    }

    /// The rules strategy never calls the model; an unknown question shows what recall found.
    @Test func rulesStrategyNeedsNoModel() async throws {
        let fixture = try await ToolsFixture()
        let model = ScriptedChatModel(capabilities: [.completion, .tools], replies: [])
        let asker = Asker(model: model, tools: fixture.tools, strategy: .rules, logger: .quiet)
        let answer = try await asker.ask("When does the post arrive?")
        #expect(answer.mode == .retrieval)
        #expect(answer.citations.first == "m25")
        #expect(answer.model == "rules")
        #expect(model.requests.withLock { $0.isEmpty })
    }

    @Test func questionsRouteByTheirWords() {
        #expect(RulesAnswerer.intent(of: "which room is coolest") == .extreme(warmest: false))
        #expect(RulesAnswerer.intent(of: "is the front door closed") == .door)
        #expect(RulesAnswerer.intent(of: "was somebody in the kitchen") == .motion)
        #expect(RulesAnswerer.intent(of: "how bright is the office") == .reading(quantity: "light"))
        #expect(RulesAnswerer.intent(of: "tell me a joke") == .other)
        #expect(RulesAnswerer.intent(of: " is anything unusual today ") == .happened)
        #expect(RulesAnswerer.intent(of: " what co2 is usual in the study ") == .usual)
        #expect(RulesAnswerer.rangeQuantity(in: " how warm is the hall usually ") == .temperature)
        #expect(RulesAnswerer.asksWhen(" when is the study usually used ") && !RulesAnswerer.asksWhen(" how humid is it usually "))
        #expect(RulesAnswerer.intent(of: "where is the hallway motion sensor") == .other)
    }
}
