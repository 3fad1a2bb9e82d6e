import Foundation
import SmollamaCore
import Testing
@testable import SmollamaSensors

@Suite struct SimulatedHouseTests {
    /// Tuesday 2026-11-24 00:00 UTC.
    let tuesday: Int64 = 1_795_478_400_000
    let minute: Int64 = 60_000

    @Test func sameSeedSameValuesOtherSeedOtherValues() {
        let a = SimulatedHouseDriver(options: .init())
        let b = SimulatedHouseDriver(options: .init())
        var other = SimulatedHouseDriver.Options()
        other.seed = 7
        let c = SimulatedHouseDriver(options: other)
        var differences = 0
        for step in stride(from: Int64(0), to: 86_400_000, by: 600_000) {
            #expect(a.samples(at: tuesday + step) == b.samples(at: tuesday + step))
            if a.samples(at: tuesday + step) != c.samples(at: tuesday + step) { differences += 1 }
        }
        #expect(differences > 100)
    }

    @Test func thePlantedEventHappensAtTenPastThreeOnTuesdaysOnly() {
        let house = SimulatedHouse()
        // Night minutes 00:00–05:59: motion only during the planted 03:10–03:11 event.
        for day in 0..<14 {
            let midnight = tuesday + Int64(day) * 86_400_000
            let active = (0..<360).filter { house.value(room: "hallway", what: "motion", at: midnight + Int64($0) * minute) == 1 }
            if day % 7 == 0 {
                #expect(active == [190, 191], "Tuesday night: motion exactly at 03:10 and 03:11")
            } else {
                #expect(active.isEmpty, "no motion on other nights")
            }
        }
    }

    @Test func routinesLookLikeAHome() {
        let house = SimulatedHouse()
        var morning = 0
        var afternoon = 0
        for day in 1...5 {  // Wednesday to Sunday... weekdays Wed–Fri are 1...3
            guard day <= 3 else { continue }
            let midnight = tuesday + Int64(day) * 86_400_000
            morning += (7 * 60..<9 * 60).filter { house.value(room: "hallway", what: "motion", at: midnight + Int64($0) * minute) == 1 }.count
            afternoon += (10 * 60..<12 * 60).filter { house.value(room: "hallway", what: "motion", at: midnight + Int64($0) * minute) == 1 }.count
        }
        #expect(morning > 3 * afternoon, "weekday mornings are busy (\(morning)) and late mornings quiet (\(afternoon))")
        let noon = house.value(room: "living_room", what: "light", at: tuesday + 12 * 60 * minute)
        let night = house.value(room: "living_room", what: "light", at: tuesday + 2 * 60 * minute)
        #expect(noon > 100 && night == 0)
        let afternoonTemperature = house.value(room: "living_room", what: "temperature", at: tuesday + 15 * 60 * minute)
        let dawnTemperature = house.value(room: "living_room", what: "temperature", at: tuesday + 4 * 60 * minute)
        #expect(afternoonTemperature > dawnTemperature)
        #expect((10.0...30.0).contains(afternoonTemperature))
        // The door opens twice a weekday.
        let openings = (0..<1440).filter { house.value(room: "hallway", what: "door", at: tuesday + Int64($0) * minute) == 1 }
        #expect(openings.count == 2)
    }

    @Test func everyValueIsWithinItsDeclaredRange() {
        let driver = SimulatedHouseDriver(options: .init())
        let byID = Dictionary(uniqueKeysWithValues: driver.sensors.map { ($0.id, $0) })
        for step in stride(from: Int64(0), to: 400 * 86_400_000, by: 3_700_000) {
            for sample in driver.samples(at: tuesday + step) {
                #expect(SampleRejection.check(sample.value, for: byID[sample.sensor]!) == nil)
            }
        }
    }

    @Test func unusualEventConfigIsValidated() throws {
        let bad = #"{"sensor": "hallway.motion", "at": "25:10"}"#
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(SimulatedHouse.UnusualEvent.self, from: Data(bad.utf8))
        }
        let typo = #"{"sensor": "hallway.motion", "at": "03:10", "weekdy": "monday"}"#
        #expect(throws: UnknownConfigKey.self) {
            try JSONDecoder().decode(SimulatedHouse.UnusualEvent.self, from: Data(typo.utf8))
        }
    }
}
