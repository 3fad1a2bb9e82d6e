import Testing
@testable import SmollamaHardware
import SmollamaCore
import SmollamaSensors

@Suite struct IIOTests {
    /// The kernel's bmp280 driver bound to a BME280: processed values in ABI units.
    static func bme280(_ tree: borrowing FixtureTree, at entry: String = "iio:device0") throws {
        let base = "/sys/bus/iio/devices/\(entry)"
        try tree.write(base + "/name", "bme280\n")
        try tree.write(base + "/in_temp_input", "23450\n")
        try tree.write(base + "/in_humidityrelative_input", "41234\n")
        try tree.write(base + "/in_pressure_input", "100.653254\n")
        try tree.write(base + "/in_temp_oversampling_ratio", "2\n")
    }

    /// dht11 (DHT11/DHT22 via dtoverlay=dht11): processed values, EIO when the sensor misses.
    static func dht11(_ tree: borrowing FixtureTree, at entry: String = "iio:device1") throws {
        let base = "/sys/bus/iio/devices/\(entry)"
        try tree.write(base + "/name", "dht11\n")
        try tree.write(base + "/in_temp_input", "21000\n")
        try tree.write(base + "/in_humidityrelative_input", "55000\n")
    }

    @Test func channelsAreFoundFromFileNames() {
        let channels = IIOChannel.channels(in: [
            "name", "in_voltage0_raw", "in_voltage10_raw", "in_voltage1_raw", "in_voltage_scale", "in_temp_input", "in_temp_raw",
            "in_temp_oversampling_ratio", "in_distance_raw",
        ])
        #expect(channels.map(\.id) == ["distance", "temp", "voltage0", "voltage1", "voltage10"])
        #expect(channels.first { $0.id == "temp" }?.processed == true)
        #expect(channels.first { $0.id == "voltage1" }?.type == "voltage")
    }

    @Test func processedValuesConvertToStoredUnits() async throws {
        let tree = try FixtureTree()
        try Self.bme280(tree)
        let driver = try IIODriver(name: "office", device: "bme280", channels: nil, context: tree.context, interval: .seconds(30))
        #expect(driver.sensors.map(\.id) == ["office.humidity", "office.pressure", "office.temperature"])
        #expect(driver.sensors.map(\.unit) == ["%", "hPa", "°C"])
        let samples = try await driver.read(now: 0)
        #expect(samples.map(\.value) == [41.234, 1006.53254, 23.45])
    }

    @Test func rawValuesUseOffsetAndScale() async throws {
        let tree = try FixtureTree()
        // mcp3008 via the kernel's mcp320x driver: shared scale in mV per code.
        try tree.write("/sys/bus/iio/devices/iio:device0/name", "mcp3008\n")
        try tree.write("/sys/bus/iio/devices/iio:device0/in_voltage0_raw", "512\n")
        try tree.write("/sys/bus/iio/devices/iio:device0/in_voltage1_raw", "1023\n")
        try tree.write("/sys/bus/iio/devices/iio:device0/in_voltage_scale", "3.222656250\n")
        // srf04: distance in mm with scale 0.001 → m.
        try tree.write("/sys/bus/iio/devices/iio:device2/name", "srf04\n")
        try tree.write("/sys/bus/iio/devices/iio:device2/in_distance_raw", "1234\n")
        try tree.write("/sys/bus/iio/devices/iio:device2/in_distance_scale", "0.001\n")
        // A temperature with its own offset: (raw + offset) × scale m°C.
        try tree.write("/sys/bus/iio/devices/iio:device3/name", "tmp\n")
        try tree.write("/sys/bus/iio/devices/iio:device3/in_temp_raw", "100\n")
        try tree.write("/sys/bus/iio/devices/iio:device3/in_temp_offset", "-50\n")
        try tree.write("/sys/bus/iio/devices/iio:device3/in_temp_scale", "500\n")

        let adc = try IIODriver(name: "adc", device: "mcp3008", channels: nil, context: tree.context, interval: .seconds(5))
        #expect(adc.sensors.map(\.id) == ["adc.voltage0", "adc.voltage1"])
        let volts = try await adc.read(now: 0).map(\.value)
        #expect(abs(volts[0] - 1.65) < 1e-9)
        #expect(abs(volts[1] - 3.2967773) < 1e-6)

        let sonar = try IIODriver(name: "tank", device: "srf04", channels: nil, context: tree.context, interval: .seconds(5))
        #expect(sonar.sensors.first?.unit == "cm")
        #expect(abs(try await sonar.read(now: 0)[0].value - 123.4) < 1e-9)

        let thermo = try IIODriver(name: "t", device: "iio:device3", channels: nil, context: tree.context, interval: .seconds(5))
        #expect(try await thermo.read(now: 0) == [SensorSample(sensor: "t.temperature", value: 25)])
    }

    @Test func eioOnOneChannelIsAMissingSampleNotAFault() async throws {
        let tree = try FixtureTree()
        try Self.dht11(tree)
        let driver = try IIODriver(name: "porch", device: "dht11", channels: nil, context: tree.context, interval: .seconds(30))
        #expect(try await driver.read(now: 0).count == 2)
        try tree.makeEIO("/sys/bus/iio/devices/iio:device1/in_humidityrelative_input")
        #expect(try await driver.read(now: 0) == [SensorSample(sensor: "porch.temperature", value: 21)])
        try tree.makeEIO("/sys/bus/iio/devices/iio:device1/in_temp_input")
        #expect(try await driver.read(now: 0).isEmpty)
    }

    @Test func deviceIsFoundByNameAfterRenumbering() async throws {
        let tree = try FixtureTree()
        try Self.dht11(tree, at: "iio:device1")
        let driver = try IIODriver(name: "porch", device: "dht11", channels: ["temp"], context: tree.context, interval: .seconds(30))
        try tree.remove("/sys/bus/iio/devices/iio:device1")
        try Self.dht11(tree, at: "iio:device0")
        #expect(try await driver.read(now: 0) == [SensorSample(sensor: "porch.temperature", value: 21)])
    }

    @Test func missingDeviceIsAConfigErrorAtStartAndAFaultMidRun() async throws {
        let tree = try FixtureTree()
        #expect {
            try IIODriver(name: "x", device: "dht11", channels: nil, context: tree.context, interval: .seconds(30))
        } throws: { error in "\(error)".contains("no IIO device named 'dht11'") && "\(error)".contains("key 'device'") }
        try Self.dht11(tree)
        let driver = try IIODriver(name: "x", device: "dht11", channels: nil, context: tree.context, interval: .seconds(30))
        try tree.remove("/sys/bus/iio/devices/iio:device1")
        await #expect {
            try await driver.read(now: 0)
        } throws: { error in "\(error)".contains("IIO device 'dht11' is gone") }
    }
}

@Suite struct HwmonTests {
    static func layout(_ tree: borrowing FixtureTree) throws {
        try tree.write("/sys/class/hwmon/hwmon0/name", "cpu_thermal\n")
        try tree.write("/sys/class/hwmon/hwmon0/temp1_input", "48312\n")
        try tree.write("/sys/class/hwmon/hwmon0/temp1_crit", "110000\n")
        try tree.write("/sys/class/hwmon/hwmon2/name", "pwmfan\n")
        try tree.write("/sys/class/hwmon/hwmon2/fan1_input", "2950\n")
        try tree.write("/sys/class/hwmon/hwmon2/pwm1", "75\n")
        try tree.write("/sys/class/hwmon/hwmon10/name", "rp1_adc\n")
        try tree.write("/sys/class/hwmon/hwmon10/in1_input", "1650\n")
        try tree.write("/sys/class/hwmon/hwmon10/in1_label", "vdd\n")
        try tree.write("/sys/class/hwmon/hwmon10/temp1_input", "51500\n")
    }

    @Test func channelsAndUnits() async throws {
        let tree = try FixtureTree()
        try Self.layout(tree)
        let cpu = try HwmonDriver(name: "cpu", device: "cpu_thermal", channels: nil, context: tree.context, interval: .seconds(30))
        #expect(cpu.sensors.map(\.id) == ["cpu.temp1"])
        #expect(try await cpu.read(now: 0) == [SensorSample(sensor: "cpu.temp1", value: 48.312)])
        let fan = try HwmonDriver(name: "fan", device: "hwmon2", channels: nil, context: tree.context, interval: .seconds(30))
        #expect(try await fan.read(now: 0) == [SensorSample(sensor: "fan.fan1", value: 2950)])
        let adc = try HwmonDriver(name: "rp1", device: "rp1_adc", channels: nil, context: tree.context, interval: .seconds(30))
        #expect(adc.sensors.map(\.name) == ["rp1 vdd", "rp1 temp1"])
        #expect(try await adc.read(now: 0).map(\.value) == [1.65, 51.5])
    }

    @Test func errorsMissingAndEIO() async throws {
        let tree = try FixtureTree()
        try Self.layout(tree)
        #expect {
            try HwmonDriver(name: "x", device: "nvme", channels: nil, context: tree.context, interval: .seconds(30))
        } throws: { error in "\(error)".contains("no hwmon device named 'nvme'") }
        #expect {
            try HwmonDriver(name: "x", device: "pwmfan", channels: ["pwm1"], context: tree.context, interval: .seconds(30))
        } throws: { error in "\(error)".contains("'pwm1' is not a hwmon channel") }
        let cpu = try HwmonDriver(name: "cpu", device: "cpu_thermal", channels: nil, context: tree.context, interval: .seconds(30))
        try tree.makeEIO("/sys/class/hwmon/hwmon0/temp1_input")
        #expect(try await cpu.read(now: 0).isEmpty)
        try tree.remove("/sys/class/hwmon/hwmon0")
        await #expect {
            try await cpu.read(now: 0)
        } throws: { error in "\(error)".contains("hwmon device 'cpu_thermal' is gone") }
    }
}
