import Foundation
import GRDB
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaStore

@Suite struct RollupAndRetentionTests {
    /// Rollups folded incrementally in uneven batches must equal one pass over all readings.
    @Test func incrementalRollupsEqualBruteForce() async throws {
        let house = try await HouseStore()
        // Two simulated days at 10 s, binary sensors thinned to transitions like the scheduler does.
        var readings: [Reading] = []
        var lastBinary: [SensorID: Double] = [:]
        for reading in simulatedReadings(from: house.start, count: 150_000) {
            if house.rows[reading.sensor]!.descriptor.kind == .binary {
                if lastBinary[reading.sensor] == reading.value { continue }
                lastBinary[reading.sensor] = reading.value
            }
            readings.append(reading)
        }
        var offset = 0
        for size in [1, 999, 7_000, 20_011, 50_000, 200_000] where offset < readings.count {
            let slice = Array(readings[offset..<min(readings.count, offset + size)])
            try await house.database.readings.commit(readings: house.pending(slice), notices: [], origin: house.store.node)
            try await house.database.readings.rollUp(batchSize: 3_333)  // folding lags and catches up in pieces
            offset += slice.count
        }
        try await house.database.readings.rollUpAll(batchSize: 4_096)

        var expected = RollupBuilder()
        for reading in readings { expected.add(reading, kind: house.rows[reading.sensor]!.descriptor.kind) }
        var compared = 0
        for sensor in house.rows.keys {
            for resolution in Rollup.Resolution.allCases {
                let stored = try await house.database.readings.rollups(sensor: sensor, resolution: resolution)
                for rollup in stored {
                    let want = expected.rollups[.init(sensor: sensor, resolution: resolution, bucketStart: rollup.bucketStart)]!
                    #expect(rollup.count == want.count)
                    #expect(rollup.onCount == want.onCount && rollup.onDuration == want.onDuration)
                    if want.count > 0 {
                        #expect(rollup.min == want.min && rollup.max == want.max && rollup.last == want.last)
                        #expect(abs(rollup.sum - want.sum) < 1e-6 * max(1, abs(want.sum)))
                    }
                    compared += 1
                }
                #expect(stored.count == expected.rollups.keys.filter { $0.sensor == sensor && $0.resolution == resolution }.count)
            }
        }
        #expect(compared > 1000)
        let motionOn = try await house.database.readings.rollups(sensor: "hallway.motion", resolution: .hour).map(\.onDuration).reduce(0, +)
        #expect(motionOn > 0, "the simulated hallway must have seen motion in two days")
    }

    @Test func retentionDeletesOnlyOldRolledUpAndAcknowledgedReadings() async throws {
        let house = try await HouseStore()
        let day: Int64 = 86_400_000
        let readings = simulatedReadings(from: house.start, count: 30_000, step: 30_000)  // ~1.2 days per 1000 rows
        try await house.database.readings.commit(readings: house.pending(readings), notices: [], origin: house.store.node)
        let cutoff = house.start + day

        // Nothing is rolled up yet: nothing may go.
        #expect(try await house.database.deleteExpiredReadings(olderThan: cutoff, acknowledgedBy: nil) == 0)

        try await house.database.readings.rollUp(batchSize: 10_000)  // only the first 10 000 are folded
        let deletedWithoutSync = try await house.database.deleteExpiredReadings(olderThan: cutoff, acknowledgedBy: nil)
        #expect(deletedWithoutSync > 0 && deletedWithoutSync <= 10_000)
        #expect(try await house.database.readings.readingCount() == 30_000 - deletedWithoutSync)

        try await house.database.readings.rollUpAll()
        // With sync on, the hub's acknowledgement bounds deletion too.
        #expect(try await house.database.deleteExpiredReadings(olderThan: cutoff, acknowledgedBy: "hub") == 0)
        try await house.database.recordAcknowledgement(peer: "hub", stream: .readings, seq: 12_000, now: cutoff)
        let deletedWithSync = try await house.database.deleteExpiredReadings(olderThan: cutoff + day, acknowledgedBy: "hub")
        #expect(deletedWithSync == 12_000 - deletedWithoutSync)
        let remaining = try house.database.reader.read { db in
            try Row.fetchAll(db, sql: "SELECT id, time FROM readings ORDER BY id")
        }
        #expect(remaining.first!["id"] as Int64 == 12_001)
        // Everything left is either recent or not acknowledged; rollups are untouched.
        #expect(try await house.database.readings.rollups(sensor: "hallway.temperature", resolution: .hour).reduce(0) { $0 + $1.count } > 0)
        let oldest: UTCMillis = remaining.first!["time"]
        #expect(oldest < cutoff + day)  // unacknowledged old rows were kept
    }
}
