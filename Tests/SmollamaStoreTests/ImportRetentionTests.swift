import Foundation
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaStore

/// Imported history sits after live readings in id order but is older: retention must still only
/// delete readings older than its cutoff.
@Suite struct ImportRetentionTests {
    @Test func importedHistoryNeverMakesRetentionDeleteRecentReadings() async throws {
        let house = try await HouseStore()
        let day: Int64 = 86_400_000
        // 1000 live readings on day 10, then 3000 imported ones from days 0–3.
        let live = (0..<1000).map { Reading(sensor: "hallway.temperature", time: house.start + 10 * day + Int64($0) * 60_000, value: 20) }
        try await house.database.readings.commit(readings: house.pending(live), notices: [], origin: house.store.node)
        let targets = try await house.database.imports.importTargets(
            [SensorDescriptor(id: "attic.temperature", name: "Attic", unit: "°C")], now: house.start)
        let row = try #require(targets["attic.temperature"]).rowID
        let epoch = try await house.database.imports.beginImportEpoch(label: "import-test", firstTime: house.start)
        for chunk in 0..<3 {
            let batch = (0..<1000).map {
                ImportedReading(sensorRowID: row, time: house.start + Int64(chunk) * day + Int64($0) * 60_000, value: 5)
            }
            #expect(try await house.database.imports.storeImported(batch, epoch: epoch) == 1000)
        }
        // The same values again add nothing.
        let again = [ImportedReading(sensorRowID: row, time: house.start, value: 6)]
        #expect(try await house.database.imports.storeImported(again, epoch: epoch) == 0)
        try await house.database.readings.rollUpAll()

        // Cutoff on day 5: the imported days are old, the live day is not. Before import blocks,
        // the binary search (times assumed increasing by id) cut through everything.
        #expect(try await house.database.deleteExpiredReadings(olderThan: house.start + 5 * day, acknowledgedBy: nil) == 0)
        #expect(try await house.database.readings.readingCount() == 4000)
        // Once the live readings are old too, the whole prefix goes.
        #expect(try await house.database.deleteExpiredReadings(olderThan: house.start + 11 * day, acknowledgedBy: nil) == 4000)
        // Rollups of the imported days were built and stay.
        #expect(try await house.database.readings.rollups(sensor: "attic.temperature", resolution: .hour).count == 3 * 17)
    }

    @Test func aRecentImportHoldsBackTheCutUntilItAges() async throws {
        let house = try await HouseStore()
        let day: Int64 = 86_400_000
        let old = (0..<100).map { Reading(sensor: "hallway.temperature", time: house.start + Int64($0) * 60_000, value: 20) }
        try await house.database.readings.commit(readings: house.pending(old), notices: [], origin: house.store.node)
        let row = try #require(try await house.database.imports.importTargets(
            [SensorDescriptor(id: "attic.temperature", name: "Attic", unit: "°C")], now: house.start)["attic.temperature"]).rowID
        let epoch = try await house.database.imports.beginImportEpoch(label: "import-test", firstTime: house.start)
        _ = try await house.database.imports.storeImported(
            [ImportedReading(sensorRowID: row, time: house.start + 3 * day, value: 5)], epoch: epoch)
        let later = (0..<100).map { Reading(sensor: "hallway.temperature", time: house.start + 4 * day + Int64($0) * 60_000, value: 21) }
        try await house.database.readings.commit(readings: house.pending(later), notices: [], origin: house.store.node)
        try await house.database.readings.rollUpAll()
        // Cutoff on day 2: the 100 old live readings go; the day-3 import and day-4 live rows stay.
        #expect(try await house.database.deleteExpiredReadings(olderThan: house.start + 2 * day, acknowledgedBy: nil) == 100)
        #expect(try await house.database.readings.readingCount() == 101)
    }
}
