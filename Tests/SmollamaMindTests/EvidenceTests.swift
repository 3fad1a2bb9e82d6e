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
