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

    @Test func twoSimulatedDaysOfRulesObservationsReadWellAndReverify() async throws {
        let store = try await TestStore()
        let start = T.tuesday - T.day
        let end = T.tuesday + T.day
        try await seedSimulatedHouse(store, from: start - 7 * T.day, to: end)
        let loop = observationLoop(store, narrator: nil)
        let builder = EvidenceBuilder(database: store.database)
        let narrator = RulesNarrator()
        let verifier = ObservationVerifier()
        let sensors = try await store.database.readings.registeredSensors().map(\.descriptor.id.rawValue)
        var used: [NarrationSituation: Set<Int>] = [:]
        var seen: [NarrationSituation: Int] = [:]
        var window = start
        while window < end {
            let outcome = try await loop.observe(windowStart: window, windowEnd: window + 15 * T.minute)
            #expect(!outcome.stored.isEmpty, "window at \(window) wrote nothing")
            let packet = try await builder.build(windowStart: window, windowEnd: window + 15 * T.minute)
            for (_, situation, variant) in narrator.narrated(packet) {
                used[situation, default: []].insert(variant)
                seen[situation, default: 0] += 1
            }
            // Every stored observation re-verifies against the window's evidence: its text, kind
            // and the facts of this window it cites.
            for record in outcome.stored {
                let ids = packet.facts.filter { record.evidenceIDs.contains($0.key) }.map(\.id)
                let draft = ObservationDraft(kind: record.kind, subjects: record.subjects, text: record.text,
                                             evidenceIDs: ids, importance: record.importance)
                #expect(verifier.verify(draft, against: packet) == nil, "\(record.text)")
            }
            window += 15 * T.minute
        }
        let stored = try await store.database.knowledge.recentObservations(limit: 1000).map(\.record)
        #expect(stored.allSatisfy { $0.generator == .rules })
        for record in stored {
            for sensor in sensors { #expect(!record.text.contains(sensor), "\(record.text)") }
            #expect(!record.text.contains("_"), "\(record.text)")
        }
        // The planted night motion reads as people would say it.
        #expect(stored.contains { $0.kind == "anomaly" && $0.text.lowercased().contains("motion in the hallway at 03:10") })
        // Each situation that came up often enough used every one of its phrasings.
        #expect((seen[.activity] ?? 0) >= 10)
        let counts: [NarrationSituation: Int] = [.activity: 3, .unusualHour: 2, .unusualLevel: 3, .nightDoor: 2, .fault: 2]
        for (situation, count) in counts where (seen[situation] ?? 0) >= 4 * count {
            #expect(used[situation] == Set(0..<count), "\(situation): \(used[situation] ?? [])")
        }
        // Quiet phrasings follow the part of the day: two days have all four.
        #expect(used[.quiet] == Set(0..<4))
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
