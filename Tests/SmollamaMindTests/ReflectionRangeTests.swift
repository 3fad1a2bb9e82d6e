import Foundation
import Logging
import SmollamaCore
import SmollamaSensors
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaMind

/// Typical ranges by part of the day as memories: bounds against a direct percentile
/// computation from the store, and supersession when a room's level changes.
@Suite struct ReflectionRangeTests {
    typealias T = HouseTime

    /// The nearest-rank percentile, written out here rather than taken from the module.
    static func percentile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        return sorted[Int((Double(sorted.count - 1) * q).rounded())]
    }

    @Test func rangeBoundsArePercentilesOfTheHourlyMeansInTheStore() async throws {
        let store = try await TestStore()
        let (_, monday, end) = try await seedFiveWeekdays(store)
        let counter = MemoryStampCounter(end)
        let reflection = Reflection(database: store.database, node: store.node, logger: .quiet) { counter.next() }
        let now = end + T.hour
        let report = try await reflection.reflect(now: now)
        #expect(Set(report.ranges.map(\.quantity)) == Set(RangeQuantity.allCases))
        #expect(Set(report.ranges.map(\.part)) == Set(PartOfDay.allCases))
        let memories = try await store.database.knowledge.memories(currentOnly: true, limit: 1000)
        for range in report.ranges {
            // Hourly rollups of the five days, in the part's local (UTC) hours.
            let means = try await store.database.readings.rollups(
                sensor: SensorID(range.sensor), resolution: .hour, from: monday, to: end)
                .filter { $0.count > 0 && range.part.hours.contains(Int(($0.bucketStart.rawValue % T.day) / T.hour)) }
                .map(\.mean)
            #expect(range.samples == means.count)
            #expect(range.low == Self.percentile(means, 0.1), "\(range.key)")
            #expect(range.high == Self.percentile(means, 0.9), "\(range.key)")
            #expect(range.sampleDays == 5)
            let memory = try #require(memories.first { $0.record.metadata["pattern"] == range.key })
            #expect(memory.record.kind == "range" && memory.record.subjects == [range.sensor])
            #expect(memory.record.metadata["low"].flatMap(Double.init) == range.low)
            #expect(memory.record.metadata["high"].flatMap(Double.init) == range.high)
            #expect(memory.record.text == range.text)
            #expect(!memory.record.text.contains(range.sensor))
        }
        let evening = try #require(report.ranges.first { $0.sensor == "living_room.temperature" && $0.part == .evening })
        let low = evening.formatted(evening.low)
        let high = evening.formatted(evening.high)
        #expect(evening.text == "The living room is usually \(low)–\(high) °C in the evening (over 5 days).")
        print("typical ranges:", report.ranges.filter { $0.room == "study" || $0.part == .evening }.map(\.text))

        let again = try await reflection.reflect(now: now)
        #expect(again.created.isEmpty && again.closed.isEmpty && again.refreshed.isEmpty && again.superseded.isEmpty)
    }

    /// Evening temperatures 21.0–22.0 °C for two weeks; a day 0.3 °C warmer changes nothing; then
    /// the room is 4 °C warmer for two weeks: the old memory is closed where that began.
    @Test func aChangedRangeSupersedesTheOldMemoryAndASmallDriftDoesNot() async throws {
        let store = try await TestStore()
        let sensors = try await store.database.readings.registerSensors(
            [SensorDescriptor(id: "living_room.temperature", name: "Living room temperature", unit: "°C",
                              deviceClass: "temperature")], driver: "test", now: 0)
        let row = try #require(sensors.first?.rowID)
        func dayStart(_ n: Int) -> UTCMillis { T.tuesday + Int64(n) * T.day }
        func write(days: Range<Int>, base: (Int) -> Double) async throws {
            var readings: [PendingReading] = []
            for n in days {
                for minute in stride(from: 0, to: 1440, by: 10) {
                    let hour = minute / 60
                    let value = base(n) + (hour >= 18 ? Double(hour - 18) * 0.2 : 0)
                    readings.append(PendingReading(
                        sensorRowID: row, value: value, stamp: houseStamp(dayStart(n) + .seconds(Int64(minute) * 60))))
                }
            }
            try await store.database.readings.commit(readings: readings, notices: [], origin: store.node)
            try await store.database.readings.rollUpAll()
        }
        let counter = MemoryStampCounter(dayStart(14))
        let reflection = Reflection(database: store.database, node: store.node, logger: .quiet) { counter.next() }
        func reflect(_ n: Int) async throws -> ReflectionReport {
            counter.set((dayStart(n) + T.hour).rawValue)
            return try await reflection.reflect(now: dayStart(n) + T.hour)
        }
        try await write(days: 0..<14) { _ in 21 }
        let first = try await reflect(14)
        let old = try #require(first.ranges.first { $0.part == .evening })
        #expect(old.low == 21 && old.high == 22)
        let memories = try await store.database.knowledge.memories(currentOnly: true, limit: 10)
        let oldMemory = try #require(memories.first { $0.record.metadata["pattern"] == old.key })
        #expect(oldMemory.record.text == "The living room is usually 21.0–22.0 °C in the evening (over 14 days).")

        try await write(days: 14..<15) { _ in 21.3 }
        let drift = try await reflect(15)
        #expect(drift.closed.isEmpty && drift.created.isEmpty, "0.3 °C is within half the range's width")

        try await write(days: 15..<29) { _ in 25 }
        for n in 16...29 { _ = try await reflect(n) }
        let closed = try #require(try await store.database.knowledge.memory(id: oldMemory.record.id))
        // The last day nearer the old range was day 14 (21.3 °C): closed at the midnight after it.
        #expect(closed.record.validTo == dayStart(15))
        let current = try #require(try await store.database.knowledge.memories(currentOnly: true, limit: 20)
            .first { $0.record.metadata["pattern"] == old.key })
        #expect(current.record.text == "The living room is usually 25.0–26.0 °C in the evening (over 14 days).")
        #expect(current.record.validFrom == dayStart(15))
        var link = current.record.supersedes
        var chain: [String] = []
        while let id = link, chain.count < 10 {
            chain.append(id)
            link = try await store.database.knowledge.memory(id: id)?.record.supersedes
        }
        #expect(chain.last == oldMemory.record.id)
    }

    @Test func partsOfTheDayAndFormatting() {
        #expect(PartOfDay.of(hour: 5) == .night && PartOfDay.of(hour: 6) == .morning && PartOfDay.of(hour: 23) == .evening)
        let co2 = TypicalRange(sensor: "study.co2", room: "study", quantity: .co2, part: .afternoon, low: 447, high: 912.4,
                               unit: "ppm", sampleDays: 10, samples: 60, sample: [])
        #expect(co2.text == "CO₂ in the study is usually 450–910 ppm in the afternoon (over 10 days).")
        let narrow = TypicalRange(sensor: "bath.humidity", room: "bath", quantity: .temperature, part: .night, low: 20.04,
                                  high: 20.96, unit: "°C", sampleDays: 4, samples: 24, sample: [])
        #expect(narrow.text == "The bath is usually 20.0–21.0 °C at night (over 4 days).")
        #expect(narrow.confidence == 0.57)
    }
}
