import Foundation
import SmollamaCore
import SmollamaStore
import SmollamaTesting
import Synchronization
import Testing
@testable import SmollamaSync

/// Issue 16's data path between a node and the hub: rollups sent as events by a node without raw
/// readings, and an untrusted clock repaired on the hub and replaced by the hub's time.
@Suite struct HubDataTests {
    static let day: Duration = .seconds(86_400)
    static let end = UTCMillis(rawValue: 1_796_000_000_000 - 1_796_000_000_000 % 3_600_000)

    /// Buckets as the wire and the hub see them (no NaN of an empty `Rollup`, so `==` compares).
    static func buckets(_ rollups: [Rollup]) -> [RollupSnapshot.Bucket] { rollups.map(RollupSnapshot.Bucket.init) }

    static func enroll(_ hub: LoopbackHub, _ store: TestStore, _ key: SyncKey) async throws {
        let token = try await hub.hub.createToken()
        #expect(await hub.hub.enroll(EnrollRequestBody.make(token: token, node: store.node, key: key)).status == 200)
    }

    @Test func rollupsTravelAsEventsAndTheHubChartsExactlyTheNodesOwn() async throws {
        let hub = try await LoopbackHub()
        let store = try await TestStore()
        let key = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        try await Self.enroll(hub, store, key)
        // A day and a half-finished bucket, rolled up in uneven batches; publishing turned on
        // after the first rollups exist, so they are sent too.
        let split = Self.end - Self.day + .seconds(150)
        try await store.fillWithSimulatedHouse(seed: 7, from: Self.end - Self.day * 2, to: split, step: .seconds(60), rollupBatch: 3_001)
        try await store.database.readings.setRollupPublishing(true)
        #expect(try await store.database.readings.unpublishedRollups() > 0)
        // The first round breaks right after the hub acknowledged the first rollups batch.
        let broken = Mutex(true)
        let faults = SyncFaults { point in
            if point == "after-ack:rollups", broken.withLock({ let was = $0; $0 = false; return was }) {
                throw SyncClientError.injected(point)
            }
        }
        let client = SyncClient(
            database: store.database, node: store.node, incarnation: 1, key: key, hub: hub.info,
            clockSource: TestClockSource(wall: Self.end.rawValue), transport: InProcessSyncTransport(hub: hub.hub),
            configuration: .init(rawReadings: false, maxEventsPerBatch: 100), logger: .quiet, faults: faults)
        await #expect(throws: SyncClientError.self) { try await client.syncOnce() }
        try await client.syncOnce()
        // The rest of the day: the bucket cut at `split` changes and is sent again.
        try await store.fillWithSimulatedHouse(seed: 7, from: split + .seconds(30), to: Self.end, step: .seconds(60), rollupBatch: 997)
        let report = try await client.syncOnce()
        #expect((report.pushed["rollups"] ?? 0) > 0)
        #expect(report.pushed["readings"] == nil, "no raw readings are sent")
        #expect(try await store.database.readings.unpublishedRollups() == 0)

        let sensors = try await store.database.readings.registeredSensors().map(\.descriptor.id)
        var compared = 0
        for sensor in sensors {
            for resolution in Rollup.Resolution.allCases {
                let own = try await store.database.readings.rollups(sensor: sensor, resolution: resolution)
                let held = try await hub.hub.database.hubReadings.rollups(node: store.node, sensor: sensor, resolution: resolution)
                #expect(Self.buckets(held) == Self.buckets(own), "\(sensor) \(resolution)")
                compared += own.count
            }
        }
        #expect(compared > sensors.count * 2 * 24 * 12, "two days of 5-minute and hourly buckets")
        let summary = try #require(try await hub.hub.database.hubSync.hubNodes().first)
        #expect(summary.foreignReadings == 0)
        #expect(summary.diskUse.rawReadings == 0 && summary.diskUse.rollups == Int64(compared))
        // Nothing was applied twice: the hub's log holds the node's rollup events once each.
        let sent = try await store.database.nodeSync.localMax(origin: store.node, stream: .rollups)
        #expect(try await hub.hub.database.hubSync.hubMark(origin: store.node.hex, stream: .rollups) == sent)
        #expect(try await hub.hub.database.events.eventCounts(origin: store.node)[.rollups] == Int(sent))
    }

    @Test func anUntrustedClockIsRepairedOnTheHubAndThenFollowsTheHubsTime() async throws {
        let hub = try await LoopbackHub()
        let store = try await TestStore()
        let key = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        try await Self.enroll(hub, store, key)
        // A Pi without RTC: the wall clock says 1970, so the clock carries time forward from
        // its floor (weeks behind the hub) and stamps `unsynced`.
        let source = TestClockSource(wall: 0, monotonic: 5_000_000_000, bootID: "pi-boot")
        let clock = NodeClock(source: source, persisted: nil)
        let sensor = try await store.database.readings.registerSensors(
            [SensorDescriptor(id: "room.temp", name: "temp")], driver: "test", now: 0)[0]
        var pending: [PendingReading] = []
        for index in 0..<60 {
            source.advance(milliseconds: 60_000)
            let stamp = await clock.stamp().stamp
            #expect(stamp.quality == .unsynced)
            pending.append(PendingReading(sensorRowID: sensor.rowID, value: Double(index), stamp: stamp))
        }
        try await store.database.readings.commit(readings: pending, notices: [], origin: store.node)
        let nodeTimes = pending.map(\.stamp.hlc.time)
        let client = SyncClient(
            database: store.database, node: store.node, incarnation: 1, key: key, hub: hub.info, clockSource: source,
            transport: InProcessSyncTransport(hub: hub.hub), logger: .quiet,
            adoptHubTime: { time, monotonic in await clock.adopt(hubTime: time, monotonicNanoseconds: monotonic) })
        let before = UTCMillis.now()
        try await client.syncOnce()
        let after = UTCMillis.now()

        // On the hub the readings sit at their repaired times: the last hour before the sync.
        let held = try await hub.hub.database.hubReadings.rollups(node: store.node, sensor: "room.temp", resolution: .fiveMinutes)
        #expect(held.map(\.count).reduce(0, +) == 60)
        let earliest = Rollup.Resolution.fiveMinutes.bucketStart(before - .seconds(3600))
        #expect(held.allSatisfy { $0.bucketStart >= earliest && $0.bucketStart <= after }, "\(held.map(\.bucketStart))")
        #expect(nodeTimes.allSatisfy { $0 < before - Self.day }, "the node's own stamps were weeks behind")
        #expect(held.last.map { $0.lastTime >= before - .seconds(60) && $0.lastTime <= after } == true)

        // The node took the hub's time: status shows the offset, and new stamps are trusted.
        let seen = try #require(try await hub.hub.database.hubSync.hubNodes().first?.clockOffsetMilliseconds)
        #expect(seen < -(before.rawValue - 60_000 * 61), "the hub sees the node's wall clock decades behind: \(seen)")
        let reading = try #require(try await store.database.nodeSync.hubClock())
        #expect(reading.followsHub)
        #expect(reading.offsetMilliseconds < -(before.rawValue - 60_000 * 61), "a 1970 wall clock is decades behind")
        let stamp = await clock.stamp().stamp
        #expect(stamp.quality == .synced)
        #expect(stamp.hlc.time >= before && stamp.hlc.time <= UTCMillis.now() + .seconds(1))
        var fresh: [PendingReading] = [PendingReading(sensorRowID: sensor.rowID, value: 100, stamp: stamp)]
        for index in 1..<10 {
            source.advance(milliseconds: 1_000)
            fresh.append(PendingReading(sensorRowID: sensor.rowID, value: 100 + Double(index), stamp: await clock.stamp().stamp))
        }
        #expect(fresh.allSatisfy { $0.stamp.quality == .synced })
        try await store.database.readings.commit(readings: fresh, notices: [], origin: store.node)
        try await client.syncOnce()
        let all = try await hub.hub.database.hubReadings.rollups(node: store.node, sensor: "room.temp", resolution: .fiveMinutes)
        #expect(all.map(\.count).reduce(0, +) == 70)
        // Trusted stamps are charted as stamped.
        let newest = try #require(all.last)
        #expect(newest.lastTime == fresh.last?.stamp.hlc.time)
    }
}
