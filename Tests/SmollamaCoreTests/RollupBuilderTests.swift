import Testing
@testable import SmollamaCore

@Suite struct RollupBuilderTests {
    let motion = SensorID("hall.motion")

    @Test func numericAggregates() {
        var builder = RollupBuilder()
        for (i, v) in [3.0, 1.0, 2.0].enumerated() {
            builder.add(Reading(sensor: "t", time: UTCMillis(rawValue: Int64(i) * 1000), value: v), kind: .numeric)
        }
        let rollup = builder.rollups[.init(sensor: "t", resolution: .fiveMinutes, bucketStart: 0)]!
        #expect(rollup.count == 3 && rollup.min == 1 && rollup.max == 3 && rollup.mean == 2 && rollup.last == 2)
    }

    @Test func binaryOnDurationIsSplitAcrossBuckets() {
        var builder = RollupBuilder()
        // On at 4:00, off at 6:00: two minutes on, one in each 5-minute bucket... 1 min + 1 min.
        builder.add(Reading(sensor: motion, time: 240_000, value: 1), kind: .binary)
        builder.add(Reading(sensor: motion, time: 360_000, value: 0), kind: .binary)
        let first = builder.rollups[.init(sensor: motion, resolution: .fiveMinutes, bucketStart: 0)]!
        let second = builder.rollups[.init(sensor: motion, resolution: .fiveMinutes, bucketStart: 300_000)]!
        #expect(first.onCount == 1 && first.onDuration == 60_000)
        #expect(second.onCount == 0 && second.onDuration == 60_000)
        let hour = builder.rollups[.init(sensor: motion, resolution: .hour, bucketStart: 0)]!
        #expect(hour.onDuration == 120_000 && hour.onCount == 1)
    }

    @Test func carriedStateContinuesAcrossBatches() {
        var first = RollupBuilder()
        first.add(Reading(sensor: motion, time: 0, value: 1), kind: .binary)
        var second = RollupBuilder(carry: first.carry)
        second.add(Reading(sensor: motion, time: 30_000, value: 0), kind: .binary)
        #expect(second.rollups[.init(sensor: motion, resolution: .fiveMinutes, bucketStart: 0)]!.onDuration == 30_000)
        // A heartbeat of "on" does not count as a new activation.
        var third = RollupBuilder(carry: [motion: .init(value: 1, time: 0)])
        third.add(Reading(sensor: motion, time: 60_000, value: 1), kind: .binary)
        #expect(third.rollups[.init(sensor: motion, resolution: .fiveMinutes, bucketStart: 0)]!.onCount == 0)
    }

    @Test func longSilenceIsNotCountedAsOn() {
        var builder = RollupBuilder()
        builder.add(Reading(sensor: motion, time: 0, value: 1), kind: .binary)
        builder.add(Reading(sensor: motion, time: 0 + RollupBuilder.maxBinaryGap + .milliseconds(1), value: 0), kind: .binary)
        #expect(builder.rollups.values.allSatisfy { $0.onDuration == 0 })
    }

    @Test func bucketStartHandlesNegativeTimes() {
        #expect(Rollup.Resolution.fiveMinutes.bucketStart(-1) == -300_000)
        #expect(Rollup.Resolution.hour.bucketStart(3_600_001) == 3_600_000)
    }
}
