import Foundation
import Logging
import SmollamaCore
import SmollamaLLM
import SmollamaStore
import SmollamaTesting
import Synchronization
import Testing
@testable import SmollamaMind

@Suite struct ReflectionTests {
    static let day: Int64 = 86_400_000
    static let hour: Int64 = 3_600_000
    /// 1970-01-05 was a Monday; this is a Monday too (day index ≡ 4 mod 7).
    static let firstDay: Int64 = 20_304
    static func dayStart(_ n: Int) -> Int64 { (firstDay + Int64(n)) * day }
    static func isWeekend(_ n: Int) -> Bool { n % 7 >= 5 }

    /// Writes motion on/off pairs (5 minutes on) at the given local hours of each day.
    func motion(_ store: MindStore, sensorRow: Int64, days: Range<Int>, hours: (Int) -> [Int]) async throws {
        var readings: [PendingReading] = []
        for n in days {
            for hour in hours(n) {
                let on = Self.dayStart(n) + Int64(hour) * Self.hour + 10 * 60_000
                readings.append(PendingReading(sensorRowID: sensorRow, value: 1, stamp: store.stamp(UTCMillis(rawValue: on))))
                readings.append(PendingReading(sensorRowID: sensorRow, value: 0, stamp: store.stamp(UTCMillis(rawValue: on + 5 * 60_000))))
            }
        }
        try await store.database.readings.commit(readings: readings, notices: [], origin: store.node)
        try await store.database.readings.rollUpAll()
    }

    func setUp() async throws -> (MindStore, Int64, Reflection, MemoryStampCounter) {
        let store = try await MindStore(withVec: false)
        let sensors = try await store.database.readings.registerSensors(
            [SensorDescriptor(id: "hallway.motion", name: "Hallway motion", kind: .binary)], driver: "test", now: 0)
        let row = try #require(sensors.first?.rowID)
        let clock = MemoryStampCounter(UTCMillis(rawValue: Self.dayStart(0)))
        let reflection = Reflection(database: store.database, node: store.node, logger: .quiet) { clock.next() }
        return (store, row, reflection, clock)
    }

    @Test func aShiftedRoutineSupersedesTheOldMemoryWhichStaysQueryableWithValidityClosed() async throws {
        let (store, row, reflection, clock) = try await setUp()
        // Two weeks: weekdays 07–09, weekends 10–11, one stray evening.
        try await motion(store, sensorRow: row, days: 0..<14) { n in
            Self.isWeekend(n) ? [10] : [7, 8] + (n == 3 ? [20] : [])
        }
        let firstNow = Self.dayStart(14) + Self.hour
        clock.set(firstNow)
        let first = try await reflection.reflect(now: UTCMillis(rawValue: firstNow))
        #expect(first.created.count == 2)
        let weekday = try #require(first.patterns.first { $0.days == .weekdays })
        #expect(weekday.blocks == [HourBlock(start: 7, end: 9)])
        #expect(weekday.sampleDays == 10)
        #expect(weekday.confidence > 0.6 && weekday.confidence < 1)
        let memories = try await store.database.knowledge.memories(currentOnly: true, limit: 10)
        let old = try #require(memories.first { $0.record.metadata["pattern"] == "hallway.motion|weekdays" })
        #expect(old.record.text == "The hallway motion sensor is usually active on weekdays 07:00–09:00 (active in those hours on 100% of 10 days).")
        #expect(old.record.validFrom.rawValue == Self.dayStart(0))
        #expect(old.record.source == .reflection)

        // The household changes: from day 14 on, weekday motion is at 10–12. Reflection runs daily.
        try await motion(store, sensorRow: row, days: 14..<28) { n in Self.isWeekend(n) ? [10] : [10, 11] }
        var superseded: [String: String] = [:]
        for n in 15...28 {
            let now = Self.dayStart(n) + Self.hour
            clock.set(now)
            let report = try await reflection.reflect(now: UTCMillis(rawValue: now))
            superseded.merge(report.superseded) { $1 }
        }
        #expect(superseded.count == 1)
        let (newID, oldID) = try #require(superseded.first)
        #expect(oldID == old.record.id)

        // The old memory is still there, its validity closed where the new routine began: the
        // midnight after the last weekday that still followed it (Friday, day 11).
        let closed = try #require(try await store.database.knowledge.memory(id: old.record.id))
        #expect(closed.record.validTo?.rawValue == Self.dayStart(12))
        #expect(closed.record.expiredAt != nil)
        #expect(closed.record.text == old.record.text)
        let history = try await store.database.knowledge.memoryVersions(id: old.record.id)
        // Versions: the first, confidence refreshes while the routine wavered, the closing one.
        #expect(history.count >= 2)
        #expect(history.dropLast().allSatisfy { $0.record.validTo == nil && $0.record.expiredAt == nil })
        #expect(history.last?.record.validTo?.rawValue == Self.dayStart(12))

        let new = try #require(try await store.database.knowledge.memory(id: newID))
        #expect(new.record.supersedes == old.record.id)
        #expect(new.record.validFrom.rawValue == Self.dayStart(12))
        #expect(new.record.validTo == nil)
        #expect(new.record.text.contains("10:00–12:00"))

        // Current memories: the new weekday routine and the unchanged weekend one.
        let current = try await store.database.knowledge.memories(currentOnly: true, limit: 10)
        #expect(Set(current.map(\.record.id)).contains(newID))
        #expect(!current.contains { $0.record.id == old.record.id })
        #expect(current.filter { $0.record.metadata["pattern"] == "hallway.motion|weekends" }.count == 1)

        // Recall finds the old one only when asked for closed memories too.
        let recall = Recall(database: store.database, embedder: nil, vectorSearch: .off, logger: .quiet)
        let valid = try await recall.search(RecallQuery(text: "hallway weekdays", kinds: [.memory], topK: 5))
        #expect(!valid.contains { $0.id == old.record.id })
        let everything = try await recall.search(RecallQuery(text: "hallway weekdays", kinds: [.memory], validOnly: false, topK: 5))
        #expect(everything.contains { $0.id == old.record.id })
    }

    @Test func aStableRoutineWritesOneMemoryAndAVanishedOneIsClosed() async throws {
        let (store, row, reflection, clock) = try await setUp()
        try await motion(store, sensorRow: row, days: 0..<14) { n in Self.isWeekend(n) ? [] : [7, 8] }
        for n in 14...16 {
            let now = Self.dayStart(n) + Self.hour
            clock.set(now)
            try await reflection.reflect(now: UTCMillis(rawValue: now))
        }
        // Days 14–16 had no readings: too little change to close anything.
        #expect(try await store.database.knowledge.memories(currentOnly: true, limit: 10).count == 1)
        // Two quiet weeks (the sensor still reports, off): the routine is gone.
        try await motion(store, sensorRow: row, days: 14..<30) { _ in [3] }
        let now = Self.dayStart(30) + Self.hour
        clock.set(now)
        let report = try await reflection.reflect(now: UTCMillis(rawValue: now))
        #expect(report.closed.count == 1)
        #expect(try await store.database.knowledge.memories(currentOnly: false, limit: 10).count >= 2)
    }

    @Test func verificationRejectsInventedNumbers() throws {
        let pattern = RoutinePattern(
            sensor: "hallway.motion", days: .weekdays, blocks: [HourBlock(start: 7, end: 9)], sampleDays: 10,
            insideShare: 0.9, outsideShare: 0.05, dayHours: [])
        #expect(Reflection.verify("On weekdays the hallway motion sensor is active from 07:00 to 09:00 on 90% of 10 days.", pattern: pattern))
        #expect(!Reflection.verify("On weekdays the hallway motion sensor is active from 06:00 to 09:00.", pattern: pattern))
        // The id itself is never accepted in a sentence.
        #expect(!Reflection.verify("On weekdays hallway.motion is active from 07:00 to 09:00 on 90% of 10 days.", pattern: pattern))
        #expect(!Reflection.verify("The hallway is busy in the morning.", pattern: pattern))
        #expect(Reflection.numbers(in: "at 07:30, 21.5 °C.") == [7, 30, 21.5])
    }

    @Test func theModelMayOnlyRephraseWithThePatternsNumbers() async throws {
        let (_, _, reflection, _) = try await setUp()
        let pattern = RoutinePattern(
            sensor: "hallway.motion", days: .weekdays, blocks: [HourBlock(start: 7, end: 9)], sampleDays: 10,
            insideShare: 0.9, outsideShare: 0.05, dayHours: [])
        let model = ScriptedChatModel(capabilities: [.completion], replies: [
            ScriptedChatModel.text(#"{"text":"Weekday mornings: the hallway motion sensor is busy from 07:00 to 09:00 on 90% of 10 days."}"#),
            ScriptedChatModel.text(#"{"text":"The hallway motion sensor fires 25 times every weekday morning."}"#),
            ScriptedChatModel.text("not json"),
        ])
        let accepted = await reflection.phrase(pattern, with: model)
        #expect(accepted == "Weekday mornings: the hallway motion sensor is busy from 07:00 to 09:00 on 90% of 10 days.")
        #expect(await reflection.phrase(pattern, with: model) == nil)  // 25 is not in the data
        #expect(await reflection.phrase(pattern, with: model) == nil)  // schema violation
        let requests = model.requests.withLock { $0 }
        guard case .jsonSchema = requests.first?.format else {
            Issue.record("phrasing must be schema-constrained")
            return
        }
        #expect(requests.first?.options.temperature == 0)
    }
}
