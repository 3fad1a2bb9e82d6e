import Foundation
import SmollamaCore
import SmollamaStore
import Testing
@testable import SmollamaMind

/// Issue 15: `ask` by rules over the simulated house, thirty fixed questions — fifteen canonical
/// ones (one per kind of question the rules answer) and fifteen paraphrases of them in other words.
/// An answer is correct when the facts parsed from it (room, value, count, yes/no, cited ids)
/// equal the truth computed from the store (`AskThirtyHouse.Truth`). At least 27 must be correct.
@Suite struct AskThirtyTests {
    typealias House = AskThirtyHouse

    /// What a question asks; each topic has one verdict, shared by its canonical question and its paraphrase.
    enum Topic: String, CaseIterable, Sendable {
        case nightMotion, roomMotionAtTime, warmest, coldest, officeTemperature, doorOpenings, officeSchedule
        case eveningRange, humidity, co2, ventilate, recentInRoom, nightHappened, presenceNow, occupiedYesterday
    }

    struct Question: Sendable, CustomStringConvertible {
        var text: String
        var topic: Topic
        var paraphrase: Bool
        var description: String { text }
    }

    static let canonical: [Question] = ([
        ("Was there motion last night?", .nightMotion),
        ("Was there motion in the hallway at 03:00?", .roomMotionAtTime),
        ("What is the warmest room now?", .warmest),
        ("Which room is the coldest right now?", .coldest),
        ("What is the temperature in the office?", .officeTemperature),
        ("How many times was the door opened today?", .doorOpenings),
        ("When is the office usually used?", .officeSchedule),
        ("What is the typical temperature in the living room in the evening?", .eveningRange),
        ("How humid is the living room now?", .humidity),
        ("What is the CO2 level in the study?", .co2),
        ("Should I ventilate the study?", .ventilate),
        ("What was observed in the hallway recently?", .recentInRoom),
        ("What happened last night?", .nightHappened),
        ("Is anyone in the living room now?", .presenceNow),
        ("How long was the study occupied yesterday?", .occupiedYesterday),
    ] as [(String, Topic)]).map { Question(text: $0.0, topic: $0.1, paraphrase: false) }

    static let paraphrases: [Question] = ([
        ("Did anybody walk around the house overnight?", .nightMotion),
        ("Anything moving in the hall around 3 am?", .roomMotionAtTime),
        ("Which room has the highest temperature at the moment?", .warmest),
        ("Where's the lowest temperature in the house?", .coldest),
        ("office temp right now?", .officeTemperature),
        ("How often did someone open the front door today?", .doorOpenings),
        ("At what times does the office tend to be busy?", .officeSchedule),
        ("In the evenings, how warm does the living room normally get?", .eveningRange),
        ("Is the air in the lounge damp right now?", .humidity),
        ("How much carbon dioxide is in the study at the moment?", .co2),
        ("Is it stuffy in the study, should I open a window?", .ventilate),
        ("Any recent notes about the hall?", .recentInRoom),
        ("Anything unusual overnight?", .nightHappened),
        ("Is somebody sitting in the lounge at the moment?", .presenceNow),
        ("Yesterday, for how many hours was someone in the study?", .occupiedYesterday),
    ] as [(String, Topic)]).map { Question(text: $0.0, topic: $0.1, paraphrase: true) }

    static let questions = canonical + paraphrases

    /// Written after the router was finished and never used to change it: how the rules fare on
    /// wording they were not shown.
    static let heldOut: [Question] = ([
        ("Were there any movements in the house during the night?", .nightMotion),
        ("Did the hallway sensor pick up anything at 3:00?", .roomMotionAtTime),
        ("Which is the warmest room in the house?", .warmest),
        ("What's the coldest room?", .coldest),
        ("How hot is the office right now?", .officeTemperature),
        ("Number of door openings today?", .doorOpenings),
        ("What hours is the office normally in use?", .officeSchedule),
        ("What's the usual evening temperature in the living room?", .eveningRange),
        ("What's the humidity like in the living room?", .humidity),
        ("CO2 in the study?", .co2),
        ("Does the study need airing?", .ventilate),
        ("What have you seen in the hallway lately?", .recentInRoom),
        ("Tell me about last night.", .nightHappened),
        ("Anybody in the living room currently?", .presenceNow),
        ("How much time was spent in the study yesterday?", .occupiedYesterday),
    ] as [(String, Topic)]).map { Question(text: $0.0, topic: $0.1, paraphrase: true) }

    // MARK: - Reading facts out of an answer

    static func name(_ room: String) -> String { room.replacingOccurrences(of: "_", with: " ") }

    /// The rooms an answer says had motion (before "None in"), and those it says had none; the
    /// cited observations after "Observed:" are the narrator's sentences, not the answer's claims.
    static func motionClaims(_ answer: String) -> (seen: Set<String>, quiet: Set<String>) {
        let answer = answer.components(separatedBy: " Observed:")[0]
        let parts = answer.components(separatedBy: "None in")
        func mentioned(_ text: String) -> Set<String> { Set(House.rooms.filter { text.contains("the \(name($0))") }) }
        if answer.hasPrefix("No") { return ([], mentioned(answer)) }
        return (mentioned(parts[0]), parts.count > 1 ? mentioned(parts[1]) : [])
    }

    /// The yes or no an answer leads with (nil when it leads with neither).
    static func yesNo(_ answer: String) -> Bool? {
        let lead = answer.lowercased()
        if lead.hasPrefix("yes") { return true }
        if lead.hasPrefix("no") { return false }
        return nil
    }

    /// The room named first in the answer.
    static func firstRoom(_ answer: String) -> String? {
        (House.rooms + [House.airRoom])
            .compactMap { room in answer.range(of: name(room)).map { (room, $0.lowerBound) } }
            .min { $0.1 < $1.1 }?.0
    }

    /// "3 times", "once", "never" / "not opened" → the count.
    static func count(_ answer: String) -> Int? {
        if let match = answer.firstMatch(of: #/(\d+) times?/#) { return Int(match.1) }
        if answer.contains("once") { return 1 }
        if answer.contains("never") || answer.contains("not opened") { return 0 }
        return nil
    }

    /// "5 h 20 min", "5 h", "40 min" → minutes.
    static func minutes(_ answer: String) -> Double? {
        if let match = answer.firstMatch(of: #/(\d+) h(?: (\d+) min)?/#) {
            return Double(match.1)! * 60 + (match.2.flatMap { Double($0) } ?? 0)
        }
        if let match = answer.firstMatch(of: #/(\d+) min/#) { return Double(match.1) }
        return nil
    }

    static func says(_ answer: String, room: String, value: Double, unit: String) -> Bool {
        answer.contains(name(room)) && answer.contains("\(Asker.number(value)) \(unit)")
    }

    // MARK: - Verdicts

    static func correct(_ answer: AskAnswer, _ topic: Topic, _ truth: House.Truth) -> Bool {
        guard answer.mode == .rules else { return false }
        let text = answer.answer
        switch topic {
        case .nightMotion:
            let claims = motionClaims(text)
            return claims.seen == truth.nightMotion && claims.quiet == Set(House.rooms).subtracting(truth.nightMotion)
        case .roomMotionAtTime:
            return yesNo(text) == truth.hallwayMotionAt3 && text.contains("hallway") && text.contains("03:00")
        case .warmest:
            return firstRoom(text) == truth.warmest.room && text.contains("\(Asker.number(truth.warmest.value)) °C")
        case .coldest:
            return firstRoom(text) == truth.coldest.room && text.contains("\(Asker.number(truth.coldest.value)) °C")
        case .officeTemperature:
            return firstRoom(text) == "office" && says(text, room: "office", value: truth.temperatures["office"]!, unit: "°C")
        case .doorOpenings:
            return text.contains("door") && count(text) == truth.doorOpeningsToday
        case .officeSchedule:
            guard let memory = truth.officeSchedule else { return false }
            return answer.citations.first == memory.record.id && text.contains(memory.record.text)
        case .eveningRange:
            guard let memory = truth.livingEveningRange else { return false }
            return answer.citations.first == memory.record.id && text.contains(memory.record.text)
        case .humidity:
            return firstRoom(text) == "living_room" && says(text, room: "living_room", value: truth.livingHumidity, unit: "%")
        case .co2:
            return firstRoom(text) == House.airRoom && says(text, room: House.airRoom, value: truth.studyCO2, unit: "ppm")
        case .ventilate:
            return yesNo(text) == (truth.studyCO2 > 1000) && says(text, room: House.airRoom, value: truth.studyCO2, unit: "ppm")
        case .recentInRoom:
            let about = Set(truth.hallwayObservations.map(\.record.id))
            guard let newest = truth.hallwayObservations.first else { return answer.citations.isEmpty }
            return answer.citations.contains(newest.record.id) && answer.citations.allSatisfy(about.contains)
        case .nightHappened:
            let night = truth.nightObservations
            let cited = night.filter { answer.citations.contains($0.record.id) }
            let least = cited.map(\.record.importance).min() ?? 0
            return !cited.isEmpty && cited.count == answer.citations.count && cited.count == min(6, night.count)
                && night.allSatisfy { answer.citations.contains($0.record.id) || $0.record.importance <= least }
        case .presenceNow:
            return firstRoom(text) == "living_room" && yesNo(text) == truth.livingOccupiedNow
        case .occupiedYesterday:
            guard firstRoom(text) == House.airRoom, let said = minutes(text) else { return false }
            return abs(said - truth.studyMinutesYesterday) <= max(45, 0.25 * truth.studyMinutesYesterday)
        }
    }

    // MARK: - Tests

    @Test func thirtyQuestionsMostlyAnsweredWithTheStoresFacts() async throws {
        let house = try await House.shared.value
        var wrong: [String] = []
        var score = (canonical: 0, paraphrase: 0)
        for question in Self.questions {
            let answer = try await house.asker.ask(question.text)
            print("  \(question.text) → \(answer.answer.prefix(160).replacingOccurrences(of: "\n", with: " | "))")
            if Self.correct(answer, question.topic, house.truth) {
                if question.paraphrase { score.paraphrase += 1 } else { score.canonical += 1 }
            } else {
                wrong.append("[\(question.topic)] \(question.text) → \(answer.answer)")
            }
        }
        let total = score.canonical + score.paraphrase
        print("ask thirty: \(total)/30 correct (canonical \(score.canonical)/15, paraphrases \(score.paraphrase)/15)")
        for line in wrong { print("  wrong: \(line)") }
        #expect(total >= 27, "\(total)/30 correct; wrong:\n\(wrong.joined(separator: "\n"))")
    }

    @Test func heldOutParaphrases() async throws {
        let house = try await House.shared.value
        var right = 0
        for question in Self.heldOut {
            let answer = try await house.asker.ask(question.text)
            let correct = Self.correct(answer, question.topic, house.truth)
            if correct { right += 1 }
            print("  held out \(correct ? "right" : "WRONG"): \(question.text) → \(answer.answer.prefix(140).replacingOccurrences(of: "\n", with: " | "))")
        }
        print("ask held out: \(right)/15 correct")
        // Measured once (11/15: "pick up anything", "need airing", "tell me about last night",
        // "time was spent" are not understood); a floor against regressions, not a target to tune to.
        #expect(right >= 11)
    }

    /// The new routes, by words alone (none of these is one of the thirty).
    @Test func newRoutesByTheirWords() {
        func intent(_ question: String) -> RulesAnswerer.Intent { RulesAnswerer.intent(of: RulesAnswerer.Vocabulary.normalized(question)) }
        #expect(intent("How many times did the garage door open?") == .doorCount)
        #expect(intent("Is the back door open?") == .door)
        #expect(intent("Does the bedroom need fresh air?") == .ventilate)
        #expect(intent("Is anybody in the kitchen right now?") == .presenceNow)
        #expect(intent("Was anybody in the kitchen this morning?") == .motion)
        #expect(intent("How much time did someone spend in the office today?") == .occupiedFor)
        #expect(intent("What did you notice in the bedroom lately?") == .observed)
        #expect(intent("kitchen temp?") == .reading(quantity: "temperature"))
        #expect(intent("Which room has the lowest temperature?") == .extreme(warmest: false))
        #expect(intent("Is it muggy in the bedroom?") == .reading(quantity: "humidity"))
        #expect(RulesAnswerer.Vocabulary.clockTime(in: " at 7 pm ")! == (19, 0))
        #expect(RulesAnswerer.Vocabulary.clockTime(in: " around 03:30 ")! == (3, 30))
        #expect(RulesAnswerer.Vocabulary.clockTime(in: " at 3 sensors ") == nil)
        let rooms: Set = ["hallway", "living_room", "office"]
        #expect(RulesAnswerer.Vocabulary.rooms(in: " is the lounge warm ", among: rooms) == ["living_room"])
        #expect(RulesAnswerer.Vocabulary.rooms(in: " motion in the hall ", among: rooms) == ["hallway"])
        #expect(RulesAnswerer.Vocabulary.rooms(in: " how warm is the house ", among: rooms).isEmpty)
    }

    /// The truths are not degenerate: the table can tell a right answer from a wrong one.
    @Test func truthsAreFromTheStore() async throws {
        let truth = try await House.shared.value.truth
        #expect(Self.questions.count == 30 && Set(Self.questions.map(\.topic)).count == 15)
        #expect(Topic.allCases.allSatisfy { topic in Self.paraphrases.contains { $0.topic == topic } })
        #expect(truth.temperatures.count == 3 && truth.warmest.room != truth.coldest.room)
        #expect(truth.officeSchedule != nil, "reflection over two weekdays gives the office a schedule")
        #expect(truth.livingEveningRange != nil, "and the living room an evening range")
        #expect(!truth.hallwayObservations.isEmpty && !truth.nightObservations.isEmpty)
        #expect(truth.studyMinutesYesterday > 0 && truth.studyCO2 > 400)
        #expect(Self.count("opened 3 times") == 3 && Self.minutes("occupied 5 h 20 min") == 320)
        #expect(Self.yesNo("No motion") == false && Self.firstRoom("the office, then the hallway") == "office")
    }
}
