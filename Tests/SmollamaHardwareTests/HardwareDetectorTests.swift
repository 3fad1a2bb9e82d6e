import Foundation
import Testing
@testable import SmollamaHardware
import SmollamaCore
import SmollamaSensors

@Suite struct HardwareDetectorTests {
    /// A Pi 5 with a BME280 and a BH1750 on i2c-1, a BMP280 at 0x77 bound to the kernel's bmp280
    /// driver, two SPI chip selects, a DS18B20, a DHT22 via dtoverlay=dht11 and two hwmon chips.
    static func pi5(_ tree: borrowing FixtureTree) throws -> (HardwareBackends, FakeI2CBus) {
        try tree.write("/dev/i2c-1", "")
        try tree.write("/dev/spidev0.0", "")
        try tree.write("/dev/spidev0.1", "")
        try tree.write("/dev/gpiochip0", "")
        try tree.mkdir("/sys/bus/i2c/drivers/bmp280")
        try tree.mkdir("/sys/bus/i2c/devices/1-0077")
        try tree.write("/sys/bus/i2c/devices/1-0077/name", "bmp280\n")
        try tree.symlink("/sys/bus/i2c/devices/1-0077/driver", to: tree.root + "/sys/bus/i2c/drivers/bmp280")
        try tree.write("/sys/bus/w1/devices/28-0316a2795cff/w1_slave", DS18B20Tests.good)
        try tree.mkdir("/sys/bus/w1/devices/w1_bus_master1")
        try IIOTests.dht11(tree, at: "iio:device0")
        try tree.write("/sys/class/hwmon/hwmon0/name", "cpu_thermal\n")
        try tree.write("/sys/class/hwmon/hwmon0/temp1_input", "48312\n")
        try tree.write("/sys/class/hwmon/hwmon1/name", "rpi_volt\n")
        try tree.write("/sys/class/hwmon/hwmon1/in0_lcrit_alarm", "0\n")
        var light = FakeI2CBus.Device()
        light.plainReads = [[0x01, 0x2C]]
        let bus = FakeI2CBus(path: tree.root + "/dev/i2c-1", devices: [0x76: BME280Tests.chip(), 0x23: light])
        return (HardwareBackends.fake(chips: BoardLayouts.pi5Recent, i2c: [tree.root + "/dev/i2c-1": bus]), bus)
    }

    static let expectedSnippet = """
        sensors:
          drivers:
            # Bosch BME280 (temperature, humidity, pressure) at ROOT/dev/i2c-1 0x76
            - driver: bme280
              name: bme280
              bus: 1
              address: 0x76
            # BH1750 ambient light sensor (likely: the chip has no id register) at ROOT/dev/i2c-1 0x23
            - driver: bh1750
              name: bh1750
              bus: 1
              address: 0x23
            # 1-Wire thermometer 28-0316a2795cff at ROOT/sys/bus/w1/devices/28-0316a2795cff
            - driver: ds18b20
              name: ds18b20_5cff
              device: 28-0316a2795cff
            # IIO device 'dht11': humidityrelative, temp at ROOT/sys/bus/iio/devices/iio:device0
            - driver: iio
              name: dht11
              device: dht11
            # hwmon 'cpu_thermal': temp1 at ROOT/sys/class/hwmon/hwmon0
            - driver: hwmon
              name: cpu_thermal
              device: cpu_thermal
        # Found, not configured automatically:
        #   /dev/gpiochip0: 'pinctrl-rp1', 54 lines (28 named), the 40-pin header — wire a sensor and add e.g. '- driver: pir' with 'line: GPIO17'
        #   /dev/gpiochip10: 'gpio-brcmstb@107d508500', 32 lines (0 named)
        #   /dev/gpiochip11: 'gpio-brcmstb@107d508520', 4 lines (0 named)
        #   /dev/gpiochip12: 'gpio-brcmstb@107d517c00', 17 lines (0 named)
        #   /dev/gpiochip13: 'gpio-brcmstb@107d517c20', 6 lines (0 named)
        #   ROOT/dev/i2c-1 0x77: owned by kernel driver 'bmp280' — not probed; read it through the iio or hwmon driver
        #   ROOT/dev/spidev0.0: SPI device (SPI has no identification to probe) — for an MCP3008 add '- driver: mcp3008' with 'bus: 0', 'chip_select: 0' and its channels
        #   ROOT/dev/spidev0.1: SPI device (SPI has no identification to probe) — for an MCP3008 add '- driver: mcp3008' with 'bus: 0', 'chip_select: 1' and its channels
        #   ROOT/sys/class/hwmon/hwmon1: hwmon 'rpi_volt' — no readable channels

        """

    @Test func detectPrintsTheExpectedSnippet() throws {
        let tree = try FixtureTree()
        let (backends, bus) = try Self.pi5(tree)
        let report = HardwareDetector(context: tree.context, backends: backends).detect()
        #expect(report.configSnippet == Self.expectedSnippet.replacingOccurrences(of: "ROOT", with: tree.root))
        // Nothing was sent to the kernel-owned address, and only reads/register pointers elsewhere.
        #expect(!bus.log.contains { $0.address == 0x77 })
        #expect(bus.log.allSatisfy { $0.write.count <= 1 })
    }

    @Test func snippetDecodesAndEveryDriverReads() async throws {
        let tree = try FixtureTree()
        let (backends, _) = try Self.pi5(tree)
        let snippet = HardwareDetector(context: tree.context, backends: backends).detect().configSnippet
        let drivers = try SensorList.decode(snippet, context: tree.context, backends: backends)
        #expect(drivers.map(\.name) == ["bme280:bme280", "bh1750:bh1750", "ds18b20:ds18b20_5cff", "iio:dht11", "hwmon:cpu_thermal"])
        var values: [String: Double] = [:]
        for driver in drivers {
            for sample in try await driver.read(now: 0) { values[sample.sensor.rawValue] = sample.value }
        }
        let humidity: Double = 40426.0 / 1024
        let pressure: Double = 25_767_233.0 / 256 / 100
        let lux: Double = 300 / 1.2
        var expected: [String: Double] = [:]
        expected["bme280.temperature"] = 25.08
        expected["bme280.humidity"] = humidity
        expected["bme280.pressure"] = pressure
        expected["bh1750.illuminance"] = lux
        expected["ds18b20_5cff.temperature"] = 23.125
        expected["dht11.temperature"] = 21
        expected["dht11.humidity"] = 55
        expected["cpu_thermal.temp1"] = 48.312
        #expect(values == expected)
    }

    @Test func jsonListsDevicesAndSnippet() throws {
        let tree = try FixtureTree()
        let (backends, _) = try Self.pi5(tree)
        let json = try HardwareDetector(context: tree.context, backends: backends).detect().json()
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        #expect((object?["devices"] as? [[String: Any]])?.count == 14)
        #expect((object?["config_snippet"] as? String)?.hasPrefix("sensors:\n") == true)
        #expect(json.contains("\"bus\" : \"w1\""))
    }

    @Test func emptyMachineSaysSo() throws {
        let tree = try FixtureTree()
        let report = HardwareDetector(context: tree.context, backends: .fake(chips: [])).detect()
        #expect(report.devices.isEmpty)
        #expect(report.configSnippet == "sensors:\n  drivers: []  # nothing readable was found\n")
        #expect(report.text == "No hardware sensors found.\n")
    }
}

@Suite struct HardwareDetectorBusTests {
    struct DeniedBus: I2CBus {
        let path: String
        func transfer(address: UInt8, write: [UInt8], readCount: Int) throws -> [UInt8] {
            throw I2CError(path: path, address: address, OSError(code: 13))
        }
    }

    @Test func emptyAndUnreadableBusesAreReportedWithTheCause() throws {
        let tree = try FixtureTree()
        try tree.write("/dev/i2c-1", "")
        try tree.write("/dev/i2c-20", "")
        var backends = HardwareBackends.fake(chips: [])
        let root = tree.root
        backends.i2cBus = { path in
            path.hasSuffix("i2c-20") ? DeniedBus(path: path) as any I2CBus : FakeI2CBus(path: path, devices: [:])
        }
        let report = HardwareDetector(context: tree.context, backends: backends).detect()
        #expect(report.devices == [
            DetectedDevice(bus: "i2c", location: root + "/dev/i2c-1", summary: "I2C bus, no known sensor at 0x76, 0x77, 0x23, 0x5c"),
            DetectedDevice(
                bus: "i2c", location: root + "/dev/i2c-20", summary: "I2C bus, no known sensor at 0x76, 0x77, 0x23, 0x5c",
                note: "probing failed: \(root)/dev/i2c-20 address 0x76: \(OSError(code: 13))"),
        ])
        #expect(report.text.contains("EACCES"))
    }
}
