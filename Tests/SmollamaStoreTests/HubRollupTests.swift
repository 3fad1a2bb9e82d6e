import Foundation
import GRDB
import SmollamaCore
@testable import SmollamaStore
import SmollamaTesting
import Testing

/// The hub's rollups of other nodes: folded as pushed batches are applied, equal to the node's own
/// rollups, caught up when they predate the rollup table, and the hub's retention of their raw
/// readings (only rolled-up ones, only other nodes', only past the limit; rollups stay).
@Suite struct HubRollupTests {
    static let start: UTCMillis = 1_796_000_000_000 - 1_796_000_000_000 % 86_400_000
    static let day: Duration = .seconds(86_400)

    /// Pushes every reading the node holds to the hub as a node would, `batch` readings at a time.
    static func push(_ node: TestStore, to hub: SmollamaDatabase, batch: Int) async throws {
        var mark: Int64 = try await hub.hubSync.hubMark(origin: node.node.hex, stream: .readings)
        while let readings = try await node.database.nodeSync.readingBatch(after: mark, limit: batch) {
            let last = try #require(readings.rows.last).id
            let outcome = try await hub.hubSync.pushReadings(readings, origin: node.node, stream: .readings, from: mark + 1,
                                                             to: last, now: start)
            mark = outcome.mark
        }
    }

    /// Every rollup with values of every sensor the node has, at `resolution`, as comparable text.
    static func nodeRollups(_ node: TestStore, _ resolution: Rollup.Resolution) async throws -> [String] {
        var lines: [String] = []
        for sensor in try await node.database.readings.registeredSensors() {
            for rollup in try await node.database.readings.rollups(sensor: sensor.descriptor.id, resolution: resolution)
            where rollup.count > 0 {
                lines.append(describe(rollup))
            }
        }
        return lines.sorted()
    }

    static func hubRollups(_ hub: SmollamaDatabase, of node: TestStore, _ resolution: Rollup.Resolution) async throws -> [String] {
        var lines: [String] = []
        for sensor in try await hub.hubReadings.sensorSummaries(node: node.node, now: start) {
            for rollup in try await hub.hubReadings.rollups(node: node.node, sensor: sensor.sensor.id, resolution: resolution)
            where rollup.count > 0 {
                lines.append(describe(rollup))
            }
        }
        return lines.sorted()
    }

    /// What the hub can know of a bucket (binary on-counts need the sensor's kind, which sync does not carry).
    static func describe(_ rollup: Rollup) -> String {
        "\(rollup.sensor) \(rollup.bucketStart.rawValue) n=\(rollup.count) min=\(rollup.min) max=\(rollup.max) "
            + "sum=\(rollup.sum) mean=\(rollup.mean) last=\(rollup.last)@\(rollup.lastTime.rawValue)"
    }

    @Test func pushedReadingsAreRolledUpAsTheyArriveAndEqualTheNodesRollups() async throws {
        let hub = try await TestStore()
        let alpha = try await TestStore()
        let beta = try await TestStore()
        // Node and hub fold the same partitions (5000 readings): floating-point sums then agree to the bit.
        try await alpha.fillWithSimulatedHouse(seed: 7, from: Self.start, to: Self.start + Self.day * 2, rollupBatch: 5_000)
        try await beta.fillWithSimulatedHouse(seed: 8, from: Self.start, to: Self.start + Self.day, rollupBatch: 5_000)
        try await Self.push(alpha, to: hub.database, batch: 5_000)
        try await Self.push(beta, to: hub.database, batch: 5_000)

        // Nothing left for the catch-up: every acknowledged reading was folded in its push.
        #expect(try await hub.database.hubReadings.rollUpAll() == 0)
        for node in [alpha, beta] {
            for resolution in Rollup.Resolution.allCases {
                let expected = try await Self.nodeRollups(node, resolution)
                let got = try await Self.hubRollups(hub.database, of: node, resolution)
                #expect(!expected.isEmpty)
                #expect(got == expected, "\(resolution): \(Set(got).symmetricDifference(expected).sorted().prefix(4))")
            }
        }
        // Each node's own sensors, identified by (node, sensor): the same keys, different values.
        let alphaSensors = try await hub.database.hubReadings.sensorSummaries(node: alpha.node, now: Self.start + Self.day * 2)
        let betaSensors = try await hub.database.hubReadings.sensorSummaries(node: beta.node, now: Self.start + Self.day)
        #expect(alphaSensors.map(\.sensor.id) == betaSensors.map(\.sensor.id))
        #expect(alphaSensors.count > 5 && alphaSensors.allSatisfy { $0.lastTime != nil && $0.driver == "sync" })
        #expect(try await hub.database.hubReadings.sensorCounts() == [alpha.node: alphaSensors.count, beta.node: betaSensors.count])
        #expect(try await hub.database.hubReadings.sensorSummaries(node: hub.node, now: Self.start).isEmpty)
    }

    /// A hub that held readings before migration v8 (no rollups, no cursor) catches up in id order,
    /// and retention deletes only what is rolled up so far.
    @Test func readingsFromBeforeTheRollupTableAreCaughtUpAndKeptUntilThen() async throws {
        let hub = try await TestStore()
        let node = try await TestStore()
        let count = try await node.fillWithSimulatedHouse(seed: 3, from: Self.start, to: Self.start + Self.day)
        try await Self.push(node, to: hub.database, batch: 50_000)
        let folded = try await Self.hubRollups(hub.database, of: node, .hour)
        try await hub.database.writer.write { db in
            try db.execute(sql: "DELETE FROM foreign_rollups; DELETE FROM foreign_rollup_cursors")
        }
        #expect(try await Self.hubRollups(hub.database, of: node, .hour).isEmpty)
        let nothing = try await hub.database.hubReadings.deleteExpired(
            rawOlderThan: Self.start + Self.day * 30, fiveMinuteRollupsOlderThan: Self.start)
        #expect(nothing.readings == 0, "no reading is rolled up, so none may go")

        // Catch up the first twelve hours only (a partition that splits no bucket), then retention.
        let (ref, morning) = try await hub.database.reader.read { db in
            (try Int64.fetchOne(db, sql: "SELECT ref FROM sync_origins") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM foreign_readings WHERE time < ?",
                              arguments: [Self.start + Self.day / 2]) ?? 0)
        }
        #expect(try await hub.database.writer.write { db in try HubReadingStore.fold(db, originRef: ref, limit: morning) } == morning)
        let deleted = try await hub.database.hubReadings.deleteExpired(
            rawOlderThan: Self.start + Self.day * 30, fiveMinuteRollupsOlderThan: Self.start)
        #expect(deleted.readings == morning, "exactly the rolled-up readings go, though all are past the limit")
        #expect(try await hub.database.hubReadings.rollUpAll() == count - morning)
        #expect(try await Self.hubRollups(hub.database, of: node, .hour) == folded)
    }

    /// The hub's maintenance tick with a clock the test moves: other nodes' raw readings go once
    /// rolled up and older than `raw_retention`, 5-minute rollups past `rollup_retention`; the hub's
    /// own readings and every hourly rollup stay.
    @Test func hubRetentionDeletesOnlyOtherNodesRolledUpReadingsPastTheLimit() async throws {
        let hub = try await TestStore()
        let node = try await TestStore()
        let end = Self.start + Self.day * 6
        try await node.fillWithSimulatedHouse(seed: 11, from: Self.start, to: end, step: .seconds(300))
        try await Self.push(node, to: hub.database, batch: 20_000)
        let ownCount = try await hub.fillWithSimulatedHouse(seed: 12, from: Self.start, to: end, step: .seconds(600))
        let hourly = try await Self.hubRollups(hub.database, of: node, .hour)
        let fiveMinute = try await Self.hubRollups(hub.database, of: node, .fiveMinutes)

        let source = TestClockSource(wall: end.rawValue)
        let maintenance = MaintenanceService(
            database: hub.database, clock: NodeClock(source: source, persisted: nil),
            configuration: .init(rawRetention: .seconds(30 * 86_400),
                                 hub: .init(rawRetention: Self.day * 2, rollupRetention: Self.day * 4)),
            logger: .quiet)
        func foreignTimes() async throws -> [Int64] {
            try await hub.database.reader.read { db in try Int64.fetchAll(db, sql: "SELECT time FROM foreign_readings ORDER BY id") }
        }
        let before = try await foreignTimes()
        await maintenance.tick(retentionDue: false)
        #expect(try await foreignTimes() == before, "retention runs only when due")

        await maintenance.tick(retentionDue: true)
        let cutoff = (end - Self.day * 2).rawValue
        #expect(try await foreignTimes() == before.filter { $0 >= cutoff })
        #expect(before.contains { $0 < cutoff })
        #expect(try await hub.database.readings.readingCount() == ownCount, "the hub's own readings follow store.raw_retention")
        #expect(try await Self.hubRollups(hub.database, of: node, .hour) == hourly, "hourly rollups are kept forever")
        let rollupCutoff = (end - Self.day * 4).rawValue
        let keptFiveMinute = try await Self.hubRollups(hub.database, of: node, .fiveMinutes)
        #expect(keptFiveMinute.count < fiveMinute.count)
        #expect(keptFiveMinute == fiveMinute.filter { line in
            Int64(line.split(separator: " ")[1]).map { $0 >= rollupCutoff } ?? false
        })

        // A day later, one more day of raw readings goes.
        source.advance(milliseconds: 86_400_000)
        await maintenance.tick(retentionDue: true)
        #expect(try await foreignTimes() == before.filter { $0 >= cutoff + 86_400_000 })
        #expect(try await Self.hubRollups(hub.database, of: node, .hour) == hourly)
    }
}
