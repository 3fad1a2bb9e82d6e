import Foundation
import SmollamaCore
import SmollamaMind
import SmollamaStore
import SmollamaTesting
import Testing

/// The rules narrator over two simulated days (Monday and the Tuesday with the planted 03:10
/// hallway motion) after a week of history: what a node without a capable model writes.
@Suite struct NarrationTests {
    typealias T = HouseTime

    /// The "over a simulated week", CI-sized (2 days; the week is `smollama-bench
    /// week-report`): every stored observation re-verifies against its window's evidence rebuilt
    /// from the store, no text names a sensor id, each situation uses its phrasings, one digest a day.
    @Test func twoSimulatedDaysOfRulesObservationsReadWellAndReverify() async throws {
        let store = try await TestStore()
        let start = T.tuesday - T.day
        let end = T.tuesday + T.day
        try await seedSimulatedHouse(store, from: start - 7 * T.day, to: end)
        let stamps = StampCounter(start: (T.wednesday + 7 * T.day).rawValue)
        let builder = EvidenceBuilder(database: store.database)
        let digest = DailyDigest(database: store.database, origin: store.node)
        let loop = ObservationLoop(database: store.database, origin: store.node, builder: builder, narrator: nil,
                                   digest: digest, stamp: { stamps.stamp() }, logger: .quiet)
        let report = try await ObservationQuality.run(
            loop: loop, builder: builder, digest: digest, database: store.database, origin: store.node, from: start,
            to: end, interval: .seconds(900), dedupWindow: ObserveConfig().dedupWindow.duration)
        #expect(report.days.map(\.windows) == [96, 96])
        #expect(report.days.allSatisfy { ($0.stored["rules"] ?? 0) > 0 })
        // Every stored observation re-verifies; every digest too.
        #expect(report.failures.isEmpty, "\(report.failures)")
        #expect(report.generators["rules"].map { $0.stored > 0 && $0.verified == $0.stored } == true)
        #expect(report.generators["llm"] == nil)
        // One digest per day, the day's own.
        #expect(report.days.map(\.digests) == [1, 1])
        #expect(report.digestsVerified == 2)
        let stored = try await store.database.knowledge.recentObservations(limit: 1000).map(\.record)
        #expect(stored.filter { $0.kind == DailyDigest.kind }.map(\.timeStart).sorted() == [start, T.tuesday])
        #expect(stored.allSatisfy { $0.generator == .rules })
        // No sensor id in any text.
        #expect(report.sensorIDTexts.isEmpty, "\(report.sensorIDTexts)")
        for record in stored { #expect(!record.text.contains("_"), "\(record.text)") }
        #expect(report.duplicates == 0)
        // The planted night motion reads as people would say it.
        #expect(stored.contains { $0.kind == "anomaly" && $0.text.lowercased().contains("motion in the hallway at 03:10") })
        // Each situation that came up often enough used every one of its phrasings.
        #expect((report.situations["activity"] ?? 0) >= 10)
        let counts: [NarrationSituation: Int] = [.activity: 3, .unusualHour: 2, .unusualLevel: 3, .nightDoor: 2, .fault: 2]
        for (situation, count) in counts where (report.situations[situation.rawValue] ?? 0) >= 4 * count {
            #expect(report.variants[situation.rawValue] == Array(0..<count), "\(situation): \(report.variants)")
        }
        // Quiet phrasings follow the part of the day: two days have all four.
        #expect(report.variants["quiet"] == [0, 1, 2, 3])
        for record in stored where record.kind == DailyDigest.kind { print("digest:", record.text) }
        print("situations:", report.situations, "variants:", report.variants, "repeated texts:", report.repeatedTexts)
    }

    @Test func namesAreRoomsAndQuantitiesNeverIDs() {
        let names = DisplayNames(areas: ["desk.motion": "study"])
        let motion = SensorDescriptor(id: "hallway.motion", name: "Hallway motion", kind: .binary, deviceClass: "motion")
        let temperature = SensorDescriptor(id: "living_room.temperature", name: "Living room temperature", unit: "°C",
                                           deviceClass: "temperature")
        #expect(names.subject("hallway.motion", motion) == "motion in the hallway")
        #expect(names.subject("living_room.temperature", temperature) == "the living room temperature")
        #expect(names.subject("hallway.door", nil) == "the hallway door")
        #expect(names.subject("desk.motion", nil) == "motion in the study")
        #expect(names.device("hallway.motion", motion) == "the hallway motion sensor")
        #expect(names.room("cpu_temp") == nil)
    }

    @Test func localTimeFollowsTheZoneAndItsDaylightSaving() throws {
        let berlin = LocalClock(timeZone: try #require(TimeZone(identifier: "Europe/Berlin")))
        // 2026-03-29 00:30 UTC is 01:30 CET; at 01:00 UTC clocks jump to 03:00 CEST.
        let beforeJump: UTCMillis = 1_774_744_200_000
        #expect(berlin.hour(beforeJump) == 1 && berlin.minute(beforeJump) == 30)
        #expect(berlin.hour(beforeJump + T.hour) == 3)
        // Winter: the 03:10 UTC of the planted Tuesday is 04:10 in Berlin, still a Tuesday.
        #expect(berlin.hour(T.tuesday + 3 * T.hour + 10 * T.minute) == 4)
        #expect(berlin.weekday(T.tuesday + 3 * T.hour) == 1)
        // Just before midnight UTC on Monday is already Tuesday in Berlin.
        #expect(berlin.weekday(T.tuesday - T.minute) == 1)
        #expect(LocalClock(timeZone: LocalClock.utc).weekday(T.tuesday - T.minute) == 0)
    }
}
