import Foundation
import SmollamaCore
import SmollamaSensors
import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaNode

@Suite struct DaemonTests {
    /// A driver kind for tests: `driver: scripted` with `behaviour: fail|ok`.
    static let scripted = SensorDriverKind(name: "scripted", summary: "test") { entry, _ in
        struct Options: Decodable {
            var name: String
            var behaviour: String
        }
        let options = try Options(from: entry)
        return ScriptedDriver(name: options.name, behaviour: options.behaviour == "fail" ? .fail("sensor unplugged") : .values([1]))
    }

    /// Faults reach `status`; healthy drivers keep going.
    @Test func faultsAreCountedAndVisibleInStatus() async throws {
        let home = try TemporaryDirectory("daemon")
        let paths = SmollamaPaths(home: home.path)
        _ = try await NodeSetup.initialise(paths: paths, name: "t", role: .alpaca, sensors: .demo, force: false, now: 0)
        try """
            llm:
              runtime: external
            store:
              flush_interval: 100ms
              rollup_interval: 100ms
            sensors:
              fault_threshold: 2
              max_backoff: 100ms
              drivers:
                - driver: scripted
                  name: unplugged
                  behaviour: fail
                - driver: scripted
                  name: fine
                  behaviour: ok
            """.write(toFile: paths.configFile, atomically: true, encoding: .utf8)
        let runtime = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: ["http.port=0"])
        let registry = SensorDriverRegistry([Self.scripted])
        try await withThrowingTaskGroup { group in
            group.addTask {
                try await Daemon.run(runtime: runtime, environment: [:], logger: .quiet, registry: registry)
            }
            let faulty = try await eventually {
                let report = try await StatusReport.make(runtime: runtime, now: 0, logger: .quiet)
                return report.faultySensorCount == 1 && report.readingCount > 5
            }
            #expect(faulty)
            group.cancelAll()
        }
        let report = try await StatusReport.make(runtime: runtime, now: 0, logger: .quiet)
        #expect(report.sensorCount == 2 && report.faultySensorCount == 1)
        let problem = try #require(report.problems.first)
        #expect(problem.sensor == "unplugged.value" && problem.faultCount >= 2)
        #expect(problem.lastError?.contains("sensor unplugged") == true)
        let log = try await LogEntry.recent(runtime.database, limit: 10)
        #expect(log.contains { $0.type == EventBody.Kind.sensorFault.rawValue && $0.subject == "unplugged.value" })
    }

    /// A node booted with its wall clock at 1970 still writes monotonic, flagged times.
    @Test func aNodeBootedAt1970StampsUnsyncedButMonotonicTimes() async throws {
        let home = try TemporaryDirectory("daemon")
        let paths = SmollamaPaths(home: home.path)
        _ = try await NodeSetup.initialise(paths: paths, name: "t", role: .alpaca, sensors: .demo, force: false, now: 0)
        try "llm:\n  runtime: external\nstore:\n  flush_interval: 100ms\nsensors:\n  drivers:\n    - driver: simulated_house\n      interval: 20ms\n"
            .write(toFile: paths.configFile, atomically: true, encoding: .utf8)
        let runtime = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: ["http.port=0"])
        let clock = TestClockSource(wall: 5_000)  // 1970-01-01T00:00:05Z
        try await withThrowingTaskGroup { group in
            group.addTask {
                try await Daemon.run(runtime: runtime, environment: [:], logger: .quiet, clockSource: clock)
            }
            let ran = try await eventually {
                clock.advance(milliseconds: 20)
                return try await runtime.database.readings.readingCount() > 50
            }
            #expect(ran)
            group.cancelAll()
        }
        let status = try await runtime.database.storeStatus()
        #expect(status.clockQuality == .unsynced)
        let times = try await runtime.database.readings.fetch(sensor: "hallway.temperature").map(\.time)
        #expect(times == times.sorted())
        #expect(times.allSatisfy { $0.rawValue >= HybridLogicalClock.Policy.buildFloor }, "never stamped in 1970")
        let log = try await LogEntry.recent(runtime.database, limit: 50)
        #expect(log.contains { $0.type == EventBody.Kind.clockQuality.rawValue && $0.message.contains("not trusted") }, "\(log.map { "\($0.type): \($0.message)" })")
    }
}
