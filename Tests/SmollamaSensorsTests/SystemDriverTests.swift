import Foundation
import Logging
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaSensors

@Suite struct SystemDriverTests {
    func context(_ root: TemporaryDirectory) -> DriverContext {
        DriverContext(systemRoot: root.path, deviceRoot: root.path, dataDirectory: root.path, logger: Logger.quiet)
    }

    @Test func readsAFixtureMachine() async throws {
        let root = try TemporaryDirectory("sys")
        try root.write("proc/loadavg", "0.52 0.58 0.59 1/389 12345\n")
        try root.write("proc/meminfo", "MemTotal:        3884084 kB\nMemFree:          123456 kB\nMemAvailable:    2000000 kB\n")
        try root.write("proc/self/status", "Name:\tsmollama\nVmRSS:\t   40960 kB\n")
        try root.write("sys/class/thermal/thermal_zone0/type", "cpu-thermal\n")
        try root.write("sys/class/thermal/thermal_zone0/temp", "48312\n")
        let driver = SystemDriver(context: context(root))
        #expect(driver.sensors.map(\.id.rawValue).contains("system.cpu_temperature"))
        let values = Dictionary(uniqueKeysWithValues: try await driver.read(now: 0).map { ($0.sensor.rawValue, $0.value) })
        #expect(values["system.cpu_temperature"] == 48.312)
        #expect(values["system.load_1m"] == 0.52)
        #expect(values["system.memory_available"] == Double(2_000_000 * 1024))
        #expect(values["system.process_rss"] == Double(40960 * 1024))
        #expect((values["system.disk_free"] ?? 0) > 0)
    }

    @Test func noThermalZoneMeansNoTemperatureSensor() async throws {
        let root = try TemporaryDirectory("sys")
        try root.write("proc/loadavg", "1.00 1.00 1.00 1/1 1\n")
        let driver = SystemDriver(context: context(root))
        #expect(!driver.sensors.map(\.id.rawValue).contains("system.cpu_temperature"))
        // Missing meminfo and status: a partial read is still a read.
        let samples = try await driver.read(now: 0)
        #expect(samples.map(\.sensor.rawValue).sorted() == ["system.disk_free", "system.load_1m"])
    }

    @Test func hwmonIsUsedWhenThereIsNoThermalZone() async throws {
        let root = try TemporaryDirectory("sys")
        try root.write("sys/class/hwmon/hwmon0/temp1_input", "51000\n")
        let driver = SystemDriver(context: context(root))
        let values = Dictionary(uniqueKeysWithValues: try await driver.read(now: 0).map { ($0.sensor.rawValue, $0.value) })
        #expect(values["system.cpu_temperature"] == 51)
    }

    @Test func garbageIsAFaultNamingTheFile() async throws {
        let root = try TemporaryDirectory("sys")
        try root.write("proc/loadavg", "garbage\n")
        let driver = SystemDriver(context: DriverContext(systemRoot: root.path, dataDirectory: "/nonexistent/dir",
                                                         logger: Logger.quiet))
        await #expect(throws: SensorFault.self) { try await driver.read(now: 0) }
    }
}
