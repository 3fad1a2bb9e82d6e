import Foundation
import GRDB
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaStore

/// The reads behind the node's pages (issue 21) answer what the plain queries they replaced did:
/// the newest events across streams, the clock's high-water mark, several sensors' rollups.
@Suite struct PageReadTests {
    static func change(_ sensor: String, _ time: Int64) -> EventBody {
        .binaryChanged(Notice.BinaryChanged(sensor: SensorID(sensor), value: 1, time: UTCMillis(rawValue: time)))
    }

    static func control(_ time: Int64) -> EventBody {
        .clockQuality(Notice.ClockQualityChanged(quality: .synced, wallMilliseconds: time, issuedMilliseconds: time))
    }

    @Test func newestEventsOfSeveralStreamsAreTheNewestByStampAcrossThem() async throws {
        let store = try await TestStore()
        let events = store.database.events
        // Interleaved: notices every 10 ms, a control event every 35 ms, so each stream's newest
        // run is shorter than the limit and the merge decides the order.
        for step in Int64(0)..<60 {
            try await events.appendEvent(Self.change("hall.motion", step), origin: store.node, stamp: .test(1_000_000 + step * 10))
            if step % 3 == 0 {
                try await events.appendEvent(Self.control(step), origin: store.node, stamp: .test(1_000_000 + step * 10 + 5))
            }
        }
        let all = try await store.database.reader.read { db in
            try Int64.fetchAll(db, sql: "SELECT hlc FROM events WHERE stream IN ('notices', 'control') ORDER BY hlc DESC")
        }
        for limit in [1, 7, 25, 500] {
            let newest = try await events.recentEvents(streams: [.notices, .control, .notices], limit: limit)
            #expect(newest.map(\.stamp.hlc.rawValue) == Array(all.prefix(limit)))
        }
        #expect(try await events.recentEvents(streams: [.control], limit: 3).allSatisfy { $0.stream == .control })
    }

    @Test func theClocksMarkIsTheNewestOwnStampNotAForeignOne() async throws {
        let store = try await TestStore()
        let events = store.database.events
        try await events.appendEvent(Self.change("hall.motion", 1), origin: store.node, stamp: .test(2_000_000))
        try await events.appendEvent(Self.control(2), origin: store.node, stamp: .test(2_000_500))
        try await events.appendEvent(Self.change("hall.motion", 3), origin: store.node, stamp: .test(2_000_900))
        // Another node's event a year ahead does not move this node's clock.
        let foreign = try Event(origin: NodeID.random(), seq: 1, stamp: .test(2_000_000 + 365 * 86_400_000),
                                body: Self.change("garage.door", 4))
        #expect(try await events.apply(foreign) == .inserted)
        let mark = try #require(try await store.database.meta.maxIssuedTimestamp())
        #expect(mark >= HLCTimestamp(milliseconds: 2_000_900, counter: 0))
        #expect(mark < HLCTimestamp(milliseconds: 2_001_000, counter: 0))
    }

    @Test func severalSensorsRollupsInOneReadEqualEachSensorsOwn() async throws {
        let store = try await TestStore()
        let database = store.database
        let registered = try await database.readings.registerSensors(
            [SensorDescriptor(id: "a.temperature", name: "A", unit: "°C"), SensorDescriptor(id: "a.motion", name: "M", kind: .binary)],
            driver: "test", now: 0)
        var pending: [PendingReading] = []
        for minute in Int64(0)..<180 {
            let stamp = ClockStamp.test(1_800_000_000_000 + minute * 60_000)
            pending.append(PendingReading(sensorRowID: registered[0].rowID, value: 20 + Double(minute % 13) / 10, stamp: stamp))
            if minute % 17 == 0 { pending.append(PendingReading(sensorRowID: registered[1].rowID, value: Double(minute % 2), stamp: stamp)) }
        }
        try await database.readings.commit(readings: pending, notices: [], origin: store.node)
        try await database.readings.rollUpAll()
        let ids: [SensorID] = ["a.temperature", "a.motion", "a.nothing"]
        let together = try await database.readings.rollups(sensors: ids, resolution: .fiveMinutes)
        let expected = try database.reader.read { db in
            try Row.fetchAll(db, sql: """
                SELECT s.key, r.bucket_start, r.count, r.min, r.max, r.sum, r.on_count, r.on_duration FROM rollups r
                JOIN sensors s ON s.id = r.sensor WHERE r.resolution = ? ORDER BY s.key, r.bucket_start
                """, arguments: [Rollup.Resolution.fiveMinutes.rawValue])
        }
        let flat = ids.flatMap { id in (together[id] ?? []).map { (id.rawValue, $0) } }.sorted { ($0.0, $0.1.bucketStart) < ($1.0, $1.1.bucketStart) }
        #expect(flat.count == expected.count && !flat.isEmpty)
        for ((key, rollup), row) in zip(flat, expected) {
            #expect(key == row[0] as String)
            #expect(rollup.bucketStart.rawValue == row[1] as Int64 && rollup.count == row[2] as Int64)
            #expect(rollup.min == (row[3] as Double?) ?? .infinity && rollup.max == (row[4] as Double?) ?? -.infinity)
            #expect(rollup.sum == row[5] as Double && rollup.onCount == row[6] as Int64 && rollup.onDuration == row[7] as Int64)
        }
        #expect(together["a.nothing"] == [])
        let one = try await database.readings.rollups(sensor: "a.temperature", resolution: .fiveMinutes)
        #expect(one.map(\.bucketStart) == together["a.temperature"]?.map(\.bucketStart))
        #expect(one.map(\.sum) == together["a.temperature"]?.map(\.sum))
    }
}
