import Foundation
import Logging
import SmollamaCore
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaSensors

/// What the scheduler does with a live driver's updates: sensors adopted at runtime go through
/// the same registration and writer, refusals are counted per sensor and logged once a minute,
/// unavailability is a fault, removal stops the values.
@Suite struct LiveDriverTests {
    struct PushedDriver: LiveSensorDriver {
        let name = "pushed"
        let sensors: [SensorDescriptor] = []
        let interval = Duration.seconds(3600)
        let stream: AsyncThrowingStream<SensorUpdate, any Error>
        func read(now: UTCMillis) async throws -> [SensorSample] { [] }
        func updates() -> AsyncThrowingStream<SensorUpdate, any Error> { stream }
    }

    @Test func adoptionRefusalsAvailabilityAndRemoval() async throws {
        let store = try await TestStore()
        let logs = LogCapture()
        let time = TestClockSource(wall: 1_800_000_000_000)
        let (stream, push) = AsyncThrowingStream.makeStream(of: SensorUpdate.self)
        let writer = ReadingWriter(database: store.database, origin: store.node,
                                   configuration: .init(flushInterval: .milliseconds(20)), logger: .quiet)
        let scheduler = SensorScheduler(drivers: [ScheduledDriver(driver: PushedDriver(stream: stream))], writer: writer,
                                        clock: NodeClock(source: time, persisted: nil), logger: logs.logger())
        let door = SensorID("hall.door")
        let values = { try await store.database.readings.fetch(sensor: door).map(\.value) }
        let summary = { try await store.database.sensorSummaries(now: 0).first { $0.sensor.id == door } }
        let refusalLines = { logs.all.filter { $0.message == "payload refused" } }
        try await withThrowingTaskGroup(of: Void.self) { (group: inout ThrowingTaskGroup<Void, any Error>) async throws in
            group.addTask { try await scheduler.run() }
            group.addTask { try await ReadingWriterService(writer: writer).run() }
            push.yield(.adopted(SensorDescriptor(id: door, name: "Hall door", kind: .binary, deviceClass: "door")))
            push.yield(.sample(SensorSample(sensor: door, value: 1)))
            #expect(try await eventually { try await values() == [1] })
            #expect(try await summary()?.sensor.deviceClass == "door")

            for _ in 0..<3 { push.yield(.rejected(door, reason: "zigbee2mqtt/hall: payload is not JSON")) }
            #expect(try await eventually { try await summary()?.rejectedCount == 3 })
            #expect(refusalLines().count == 1, "once a minute per sensor")
            time.advance(milliseconds: 61_000)
            push.yield(.rejected(door, reason: "zigbee2mqtt/hall: 'contact' is 7"))
            #expect(try await eventually { try await summary()?.rejectedCount == 4 })
            #expect(refusalLines().count == 2 && refusalLines().last?.metadata["smollama.sensor.unlogged"] == "2")
            #expect(try await summary()?.lastError == "zigbee2mqtt/hall: 'contact' is 7")

            push.yield(.unavailable(door, reason: "zigbee2mqtt/hall/availability: offline"))
            push.yield(.sample(SensorSample(sensor: door, value: 0)))
            #expect(try await eventually { try await summary()?.status == "faulty" })
            push.yield(.available(door))
            push.yield(.sample(SensorSample(sensor: door, value: 0)))
            #expect(try await eventually { try await values() == [1, 0] })
            #expect(try await summary()?.status == "ok")

            push.yield(.removed(door))
            push.yield(.sample(SensorSample(sensor: door, value: 1)))
            #expect(try await eventually { logs.all.contains { $0.message == "driver reported an undeclared sensor; ignored" } })
            await writer.flush()
            #expect(try await values() == [1, 0], "no values after removal")
            group.cancelAll()
        }
        let notices = try await store.database.events.recentEvents(streams: [.notices], limit: 100).map { try $0.body.kind }
        #expect(notices.contains(.sensorFault) && notices.contains(.sensorRecovered))
    }
}
