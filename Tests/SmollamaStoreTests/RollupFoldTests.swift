import Foundation
import SmollamaCore
import SmollamaStore
import SmollamaTesting
import Testing

/// A bucket's rollup is the same left fold over its readings however they were split into
/// batches, so a hub folding a node's pushes and the node folding its own agree to the bit.
@Suite struct RollupFoldTests {
    @Test func sumsDoNotDependOnHowReadingsWereBatched() async throws {
        let end = UTCMillis(rawValue: 1_796_000_000_000)
        let start = end - .seconds(2 * 86_400)
        let whole = try await TestStore()
        let pieces = try await TestStore()
        try await whole.fillWithSimulatedHouse(seed: 11, from: start, to: end, step: .seconds(60), rollupBatch: 1_000_000)
        try await pieces.fillWithSimulatedHouse(seed: 11, from: start, to: end, step: .seconds(60), rollupBatch: 7)
        var differing: [String] = []
        var compared = 0
        for sensor in try await whole.database.readings.registeredSensors().map(\.descriptor.id) {
            for resolution in Rollup.Resolution.allCases {
                let one = try await whole.database.readings.rollups(sensor: sensor, resolution: resolution)
                let other = try await pieces.database.readings.rollups(sensor: sensor, resolution: resolution)
                #expect(one.count == other.count)
                for (a, b) in zip(one, other) where a.sum.bitPattern != b.sum.bitPattern || a.count != b.count
                    || a.onDuration != b.onDuration || a.onCount != b.onCount {
                    differing.append("\(sensor) \(a.bucketStart): \(a.sum) vs \(b.sum)")
                }
                compared += one.count
            }
        }
        #expect(compared > 0)
        #expect(differing.isEmpty, "\(differing.prefix(3))")
    }
}
