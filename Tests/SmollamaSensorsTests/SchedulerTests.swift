import Foundation
import Logging
import SmollamaCore
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaSensors

@Suite struct SchedulerTests {
    /// A good driver keeps producing while others throw, return NaN, go out of range or hang.
    /// Time is the scheduler's manual clock: only the stuck driver's short timeout ever runs
    /// out, however slowly this machine runs the others' reads.
    @Test func badDriversDoNotStopGoodOnes() async throws {
        let store = try await TestStore()
        let logger = Logger.quiet
        let writer = ReadingWriter(database: store.database, origin: store.node,
                                   configuration: .init(flushInterval: .milliseconds(50)), logger: logger)
        let clock = NodeClock(source: SystemClockSource(), persisted: nil)
        let ticks = ManualClock()
        let timeout = Duration.seconds(3600)
        let drivers = [
            ScheduledDriver(driver: ScriptedDriver(name: "good", behaviour: .values([1, 2, 3])), timeout: timeout),
            ScheduledDriver(driver: ScriptedDriver(name: "broken", behaviour: .fail("I2C bus error")), timeout: timeout),
            ScheduledDriver(driver: ScriptedDriver(name: "noisy", behaviour: .values([.nan, 5, .infinity])), timeout: timeout),
            ScheduledDriver(driver: ScriptedDriver(name: "wild", behaviour: .values([500, 20]), range: -40...85),
                            timeout: timeout),
            ScheduledDriver(driver: ScriptedDriver(name: "stuck", behaviour: .hang), timeout: .milliseconds(150)),
        ]
        let scheduler = SensorScheduler(drivers: drivers, writer: writer, clock: clock,
                                        configuration: .init(faultThreshold: 3, maxBackoff: .milliseconds(100)),
                                        logger: logger, timing: ticks)
        let values = { (name: String) in try await store.database.readings.fetch(sensor: SensorID("\(name).value")).map(\.value) }
        // nil until the scheduler has registered the sensor.
        let summaryOf = { (name: String) in
            try await store.database.sensorSummaries(now: 0).first { $0.sensor.id.rawValue == "\(name).value" }
        }
        try await withThrowingTaskGroup { group in
            group.addTask { try await scheduler.run() }
            group.addTask { try await ReadingWriterService(writer: writer).run() }
            // Run until every driver has shown its behaviour, however slow the machine is.
            let settled = try await ticks.advance(by: .milliseconds(10)) {
                let polled = (try await values("good").count, try await values("noisy").count, try await values("wild").count)
                let broken = try await summaryOf("broken"), stuck = try await summaryOf("stuck")
                let refused = (try await summaryOf("noisy")?.rejectedCount ?? 0, try await summaryOf("wild")?.rejectedCount ?? 0)
                return polled.0 > 20 && polled.1 > 3 && polled.2 > 1 && broken?.status == "faulty"
                    && stuck?.status == "faulty" && refused.0 >= 2 && refused.1 >= 1
            }
            #expect(settled, "every driver should have been polled, failed or refused by now")
            group.cancelAll()
        }
        await writer.flush()

        #expect(try await Set(values("good")) == [1, 2, 3])
        #expect(try await values("noisy").allSatisfy { $0 == 5 }, "only finite values stored")
        #expect(try await values("wild").allSatisfy { $0 == 20 }, "out-of-range values never stored")
        #expect(try await values("broken").isEmpty)
        #expect(try await values("stuck").isEmpty)

        let summaries = Dictionary(uniqueKeysWithValues: try await store.database.sensorSummaries(now: 0).map { ($0.sensor.id, $0) })
        let broken = try #require(summaries["broken.value"])
        #expect(broken.status == "faulty" && broken.faultCount >= 3 && broken.lastError?.contains("I2C bus error") == true)
        let stuck = try #require(summaries["stuck.value"])
        #expect(stuck.status == "faulty" && stuck.faultCount >= 3)
        #expect(stuck.lastError?.contains("no answer") == true || stuck.lastError?.contains("still not returned") == true)
        let noisy = try #require(summaries["noisy.value"])
        let wild = try #require(summaries["wild.value"])
        let good = try #require(summaries["good.value"])
        #expect(noisy.rejectedCount >= 2 && noisy.status == "ok")
        #expect(wild.rejectedCount >= 1)
        #expect(good.status == "ok" && good.faultCount == 0)

        let notices = try await store.database.events.recentEvents(streams: [.notices], limit: 100)
        let faults = try notices.compactMap { event -> SensorID? in
            guard case .sensorFault(let fault) = try event.body else { return nil }
            return fault.sensor
        }
        #expect(Set(faults) == ["broken.value", "stuck.value"])
    }

    @Test func aRecoveredDriverIsHealthyAgainAndSaysSo() async throws {
        let store = try await TestStore()
        let logger = Logger.quiet
        let writer = ReadingWriter(database: store.database, origin: store.node, logger: logger)
        let clock = NodeClock(source: SystemClockSource(), persisted: nil)
        let ticks = ManualClock()
        let flaky = FlakyDriver(failures: 4)
        let scheduler = SensorScheduler(drivers: [ScheduledDriver(driver: flaky)], writer: writer, clock: clock,
                                        configuration: .init(faultThreshold: 3, maxBackoff: .milliseconds(40)),
                                        logger: logger, timing: ticks)
        try await withThrowingTaskGroup { group in
            group.addTask { try await scheduler.run() }
            let recovered = try await ticks.advance(by: .milliseconds(10)) {
                await writer.flush()
                return try await store.database.readings.readingCount() > 0
            }
            #expect(recovered)
            group.cancelAll()
        }
        await writer.flush()
        let summary = try #require(try await store.database.sensorSummaries(now: 0).first)
        #expect(summary.status == "ok" && summary.faultCount == 4 && summary.consecutiveFailures == 0)
        let kinds = try await store.database.events.recentEvents(streams: [.notices], limit: 10).map { try $0.body.kind }
        #expect(kinds.contains(.sensorFault) && kinds.contains(.sensorRecovered))
        #expect(try await store.database.readings.readingCount() > 0)
    }

    @Test func binarySensorsStoreTransitionsOnly() async throws {
        let store = try await TestStore()
        let logger = Logger.quiet
        let writer = ReadingWriter(database: store.database, origin: store.node, logger: logger)
        let clock = NodeClock(source: SystemClockSource(), persisted: nil)
        let ticks = ManualClock()
        let door = ScriptedDriver(name: "door", behaviour: .values([0, 0, 0, 1, 1, 1, 0, 0]), interval: .milliseconds(10),
                                  kind: .binary)
        let scheduler = SensorScheduler(drivers: [ScheduledDriver(driver: door)], writer: writer, clock: clock,
                                        logger: logger, timing: ticks)
        try await withThrowingTaskGroup { group in
            group.addTask { try await scheduler.run() }
            // The script cycles 0,0,0,1,1,1,0,0: wait for at least two full cycles.
            let cycled = try await ticks.advance(by: .milliseconds(10)) {
                await writer.flush()
                return try await store.database.readings.fetch(sensor: "door.value").count >= 4
            }
            #expect(cycled)
            group.cancelAll()
        }
        await writer.flush()
        let stored = try await store.database.readings.fetch(sensor: "door.value").map(\.value)
        #expect(stored.count >= 4)
        #expect(zip(stored, stored.dropFirst()).allSatisfy { $0 != $1 }, "consecutive stored values must differ: \(stored)")
        let changes = try await store.database.events.recentEvents(streams: [.notices], limit: 100)
            .filter { try $0.body.kind == .binaryChanged }
        #expect(changes.count == stored.count)
    }
}

/// Fails its first `failures` reads, then works.
struct FlakyDriver: SensorDriver {
    let name = "flaky"
    let interval = Duration.milliseconds(10)
    let sensors = [SensorDescriptor(id: "flaky.value", name: "flaky")]
    let failures: Int
    private let counter = Counter()

    init(failures: Int) { self.failures = failures }

    func read(now: UTCMillis) async throws -> [SensorSample] {
        if await counter.next() <= failures { throw SensorFault(driver: name, "not yet") }
        return [SensorSample(sensor: "flaky.value", value: 1)]
    }

    actor Counter {
        var value = 0
        func next() -> Int {
            value += 1
            return value
        }
    }
}
