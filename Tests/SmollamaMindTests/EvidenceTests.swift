import Foundation
import SmollamaCore
import SmollamaMind
import SmollamaStore
import SmollamaTesting
import Testing

@Suite struct EvidenceTests {
    typealias T = HouseTime

    @Test func plantedNightMotionIsFlaggedAndAnOrdinaryDayIsNot() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.tuesday - 21 * T.day, to: T.wednesday + T.day)
        let builder = EvidenceBuilder(database: store.database)

        // Tuesday 03:00–03:15 holds the planted hallway motion at 03:10.
        let night = try await builder.build(windowStart: T.tuesday + 3 * T.hour, windowEnd: T.tuesday + 3 * T.hour + 15 * T.minute)
        let hallway = try #require(night.facts.first { $0.sensor == "hallway.motion" && $0.kind == .binary })
        #expect(hallway.value("activations")?.value ?? 0 >= 1)
        #expect(hallway.level >= .unusual, "\(hallway.line)")
        let quiet = try #require(night.facts.first { $0.sensor == "hallway.motion" && $0.kind == .notable })
        #expect(quiet.level == .strong)
        #expect(quiet.value("at")?.shown == "03:10")
        #expect((quiet.value("quiet before")?.value ?? 0) >= 3)
        #expect(night.level == .strong)
        let living = try #require(night.facts.first { $0.sensor == "living_room.motion" })
        #expect(living.level == .ordinary)

        // Every 15-minute window of an ordinary Wednesday: no motion or door fact is unusual.
        var flagged: [String] = []
        var numericUnusual = 0
        for index in 0..<96 {
            let start = T.wednesday + Int64(index) * 15 * T.minute
            let packet = try await builder.build(windowStart: start, windowEnd: start + 15 * T.minute)
            for fact in packet.facts where fact.level >= .unusual {
                if fact.kind == .numeric { numericUnusual += 1 } else { flagged.append("\(index): \(fact.line)") }
            }
        }
        #expect(flagged.isEmpty, "\(flagged)")
        // Numeric deviations stay rare on an ordinary day (9 sensors × 96 windows).
        #expect(numericUnusual <= 10, "\(numericUnusual) numeric facts unusual")
    }

    /// A room used on some days at this hour has two usual levels (empty 420 ppm, occupied 900):
    /// an occupied window is far from their mean (and from the hourly means, which smooth a
    /// 20-minute visit away) but inside what those hours showed, so it is not unusual; 1500 ppm,
    /// beyond anything seen, is.
    @Test func aLevelIsUnusualOnlyBeyondWhatTheseHoursShowed() async throws {
        let store = try await TestStore()
        let co2 = SensorDescriptor(id: "study.co2", name: "Study CO₂", unit: "ppm", deviceClass: "carbon_dioxide")
        let day = T.wednesday
        try await seed(store, [co2], from: day - 21 * T.day, to: day + 11 * T.hour) { _, time in
            let minute = (time.rawValue - day.rawValue) / T.minute
            let dayNumber = (minute + 21 * 1440) / 1440
            let minuteOfDay = minute - (dayNumber - 21) * 1440
            let noise = Double((minuteOfDay * 7) % 11) - 5
            // Earlier days: used 10:00–10:20 on every fourth day. The day itself: 900 from 10:00,
            // 1500 from 10:30.
            if time >= day {
                if minuteOfDay >= 10 * 60 + 30 { return 1500 + noise }
                if minuteOfDay >= 10 * 60 { return 900 + noise }
            } else if dayNumber % 4 == 0, (10 * 60..<10 * 60 + 20).contains(minuteOfDay) {
                return 900 + noise
            }
            return 420 + noise
        }
        let builder = EvidenceBuilder(database: store.database)
        func fact(_ minutes: Int64) async throws -> EvidenceFact {
            let start = day + 10 * T.hour + minutes * T.minute
            let packet = try await builder.build(windowStart: start, windowEnd: start + 15 * T.minute)
            return try #require(packet.facts.first { $0.sensor == "study.co2" && $0.kind == .numeric })
        }
        let occupied = try await fact(0)
        #expect((occupied.value("deviation")?.value ?? 0) >= 5, "far from the mean: \(occupied.line)")
        #expect(occupied.level == .ordinary, "a level these hours showed: \(occupied.line)")
        let beyond = try await fact(30)
        #expect(beyond.level == .strong, "\(beyond.line)")
    }

    /// Motion 07:00–08:00 on weekdays only. On a Saturday, 06:15 is rare for a weekend but the
    /// edge of the weekday habit (07:00 is active on most days): not unusual. 03:10, with 02:00
    /// and 04:00 quiet on every day, is — and so is the long quiet it ends.
    @Test func aRareHourIsUnusualOnlyWhenTheHoursAroundItAreQuiet() async throws {
        let store = try await TestStore()
        let motion = SensorDescriptor(id: "hallway.motion", name: "Hallway motion", kind: .binary, deviceClass: "motion")
        let saturday = T.tuesday + 4 * T.day
        let clock = LocalClock(timeZone: LocalClock.utc)
        try await seed(store, [motion], from: saturday - 21 * T.day, to: saturday + 5 * T.hour) { _, time in
            let minute = clock.hour(time) * 60 + clock.minute(time)
            if time >= saturday { return [6 * 60 + 20, 6 * 60 + 21, 3 * 60 + 10].contains(minute) ? 1 : 0 }
            return !clock.isWeekend(time) && (7 * 60..<8 * 60).contains(minute) && minute % 3 == 0 ? 1 : 0
        }
        let builder = EvidenceBuilder(database: store.database)
        func facts(_ hour: Int64, _ minute: Int64) async throws -> [EvidenceFact] {
            let start = saturday + hour * T.hour + minute * T.minute
            return try await builder.build(windowStart: start, windowEnd: start + 15 * T.minute).facts
                .filter { $0.sensor == "hallway.motion" }
        }
        let night = try await facts(3, 0)
        let nightActivity = try #require(night.first { $0.kind == .binary })
        #expect(nightActivity.level == .unusual, "\(nightActivity.line)")
        #expect(night.contains { $0.kind == .notable && $0.level == .strong }, "\(night.map(\.line))")
        let early = try await facts(6, 15)
        let earlyActivity = try #require(early.first { $0.kind == .binary })
        #expect(earlyActivity.value("share of days active at this hour")?.value == 0, "rare on a weekend: \(earlyActivity.line)")
        #expect(early.allSatisfy { $0.level < .unusual }, "\(early.map(\.line))")
    }

    @Test func packetIsCompactWithUniqueIDsAndStableKeys() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.tuesday - 7 * T.day, to: T.tuesday + 4 * T.hour)
        let builder = EvidenceBuilder(database: store.database)
        let window = (T.tuesday + 3 * T.hour, T.tuesday + 3 * T.hour + 15 * T.minute)
        let packet = try await builder.build(windowStart: window.0, windowEnd: window.1)
        let again = try await builder.build(windowStart: window.0, windowEnd: window.1)
        #expect(packet == again)  // deterministic
        #expect(Set(packet.facts.map(\.id)).count == packet.facts.count)
        #expect(Set(packet.facts.map(\.key)).count == packet.facts.count)
        #expect(packet.facts.first?.id == "f0")
        #expect(packet.facts.first?.line.contains("from 03:00") == true)
        // Every sensor has a fact; the whole evidence stays small.
        for sensor in packet.sensors.keys {
            #expect(packet.facts.contains { $0.sensor == sensor }, "\(sensor) has no fact")
        }
        let text = packet.lines.joined(separator: "\n")
        #expect(text.utf8.count < 1400, "\(text.utf8.count) bytes:\n\(text)")
        // Numeric facts carry the previous-window change.
        let temperature = try #require(packet.facts.first { $0.sensor == "hallway.temperature" })
        #expect(temperature.value("change") != nil)
        #expect(temperature.value("mean")?.unit == "°C")
    }

    @Test func faultySensorIsANotableFact() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.tuesday, to: T.tuesday + 2 * T.hour)
        let sensor = try #require(try await store.database.readings.registeredSensors().first { $0.descriptor.id == "hallway.temperature" })
        for _ in 0..<3 {
            _ = try await store.database.readings.recordFailure(sensorRowIDs: [sensor.rowID], reason: "I2C read failed",
                                                       now: T.tuesday + 95 * T.minute, markFaulty: true)
        }
        let packet = try await EvidenceBuilder(database: store.database)
            .build(windowStart: T.tuesday + 90 * T.minute, windowEnd: T.tuesday + 105 * T.minute)
        let fault = packet.facts.first { $0.note == "sensor fault" }
        #expect(fault?.sensor == "hallway.temperature")
        #expect(fault?.level == .strong)
        #expect(fault?.value("failed reads")?.value == 3)
    }
}
