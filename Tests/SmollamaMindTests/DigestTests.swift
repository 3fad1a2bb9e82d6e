import Foundation
import SmollamaCore
import SmollamaMind
import SmollamaStore
import SmollamaTesting
import Testing

/// The daily digest: one per local day, grounded in its own packet, readable.
@Suite struct DigestTests {
    typealias T = HouseTime

    func makeLoop(_ store: TestStore, stamps: StampCounter) -> (ObservationLoop, DailyDigest) {
        let digest = DailyDigest(database: store.database, origin: store.node)
        let loop = ObservationLoop(
            database: store.database, origin: store.node, builder: EvidenceBuilder(database: store.database),
            narrator: nil, digest: digest, stamp: { stamps.stamp() }, logger: .quiet)
        return (loop, digest)
    }

    func digests(_ store: TestStore) async throws -> [ObservationRecord] {
        try await store.database.knowledge.recentObservations(limit: 10_000).map(\.record)
            .filter { $0.kind == DailyDigest.kind }
    }

    @Test func theWindowEndingADayWritesItsDigestOnceAndItVerifies() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.tuesday - 7 * T.day, to: T.wednesday + T.hour)
        let stamps = StampCounter(start: (T.wednesday + 7 * T.day).rawValue)
        let (loop, digest) = makeLoop(store, stamps: stamps)
        // The planted 03:10 hallway motion, then the day's last window.
        let night = try await loop.observe(windowStart: T.tuesday + 3 * T.hour, windowEnd: T.tuesday + 3 * T.hour + 15 * T.minute)
        #expect(night.digest == nil, "a window inside the day writes no digest")
        let last = try await loop.observe(windowStart: T.wednesday - 15 * T.minute, windowEnd: T.wednesday)
        let record = try #require(last.digest)
        #expect(record.kind == "digest" && record.generator == .rules)
        #expect(record.timeStart == T.tuesday && record.timeEnd == T.wednesday)
        #expect(record.id == DailyDigest.id(origin: store.node, day: LocalClock(timeZone: LocalClock.utc).dayIndex(T.tuesday)))
        let confidence = try #require(record.confidence)
        #expect(confidence > 0.05 && confidence < 1)

        // Every number traces to a fact of its packet; names are words, times local.
        let packet = try await digest.packet(day: LocalClock(timeZone: LocalClock.utc).dayIndex(T.tuesday))
        #expect(DailyDigest.verify(record, against: packet) == nil, "\(record.text)")
        let sensors = try await store.database.readings.registeredSensors().map(\.descriptor.id.rawValue)
        for sensor in sensors { #expect(!record.text.contains(sensor), "\(record.text)") }
        #expect(!record.text.contains("_"))
        #expect(record.text.hasPrefix("Tuesday 24 November: "), "\(record.text)")
        #expect(record.text.contains("motion in the hallway at night"), "\(record.text)")
        #expect(record.text.contains("The living room was occupied "), "\(record.text)")
        #expect(record.text.contains("°C and ") && record.text.contains("% humidity"), "\(record.text)")
        print("digest:", record.text)

        // Re-run, restart (a new loop), a direct write: still one.
        _ = try await loop.observe(windowStart: T.wednesday - 15 * T.minute, windowEnd: T.wednesday)
        let (again, _) = makeLoop(store, stamps: stamps)
        let rerun = try await again.observe(windowStart: T.wednesday - 15 * T.minute, windowEnd: T.wednesday)
        #expect(rerun.digest == nil)
        #expect(try await digest.write(day: LocalClock(timeZone: LocalClock.utc).dayIndex(T.tuesday), stamp: stamps.stamp()) == nil)
        #expect(try await digests(store).count == 1)
    }

    @Test func aDigestWithAFabricatedNumberOrASensorIDIsRefused() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.tuesday - 2 * T.day, to: T.wednesday)
        let digest = DailyDigest(database: store.database, origin: store.node)
        let day = LocalClock(timeZone: LocalClock.utc).dayIndex(T.tuesday)
        let packet = try await digest.packet(day: day)
        let draft = DigestNarrator().draft(packet)
        let record = ObservationRecord(
            id: "x", kind: "digest", subjects: draft.subjects, text: draft.text,
            evidenceIDs: draft.evidenceIDs.compactMap(packet.fact(id:)).map(\.key), importance: 0.3,
            generator: .rules, timeStart: packet.windowStart, timeEnd: packet.windowEnd)
        #expect(DailyDigest.verify(record, against: packet) == nil, "\(record.text)")
        var wrong = record
        wrong.text = record.text.replacingOccurrences(of: "Comfort: ", with: "Comfort: 99.9 °C outside; ")
        #expect(wrong.text != record.text)
        #expect(DailyDigest.verify(wrong, against: packet) == .fabricatedNumber("99.9"))
        wrong.text = record.text + " See living_room.temperature."
        #expect(DailyDigest.verify(wrong, against: packet) == .sensorIDInText("living_room.temperature"))
    }

    @Test func theDayEndsAtLocalMidnightWithDaylightSaving() async throws {
        let zone = try #require(TimeZone(identifier: "Europe/Berlin"))
        let store = try await TestStore()
        let digest = DailyDigest(database: store.database, origin: store.node, settings: EvidenceSettings(timeZone: zone))
        // 2026-03-29 is 23 hours long in Berlin; its last 15-minute window ends at local midnight.
        let clock = LocalClock(timeZone: zone)
        let day = clock.dayIndex(UTCMillis(rawValue: 1_774_778_400_000))  // 2026-03-29T10:00Z
        let end = clock.midnight(ofDay: day + 1)
        #expect(end - clock.midnight(ofDay: day) == .seconds(23 * 3600))
        #expect(digest.completedDay(windowStart: end - .seconds(900), windowEnd: end) == day)
        #expect(digest.completedDay(windowStart: end - .seconds(1800), windowEnd: end - .seconds(900)) == nil)
        #expect(digest.completedDay(windowStart: end, windowEnd: end + .seconds(900)) == nil)
    }
}
