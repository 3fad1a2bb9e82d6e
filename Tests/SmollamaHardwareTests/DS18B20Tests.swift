import Testing
@testable import SmollamaHardware
import SmollamaCore
import SmollamaSensors

@Suite struct DS18B20Tests {
    static let good = """
        72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
        72 01 4b 46 7f ff 0e 10 57 t=23125

        """
    static let badCRC = """
        72 01 4b 46 7f ff 0e 10 57 : crc=ff NO
        72 01 4b 46 7f ff 0e 10 57 t=23125

        """
    static let powerOn = """
        50 05 4b 46 7f ff 0c 10 1c : crc=1c YES
        50 05 4b 46 7f ff 0c 10 1c t=85000

        """
    static let negative = """
        5e ff 4b 46 7f ff 02 10 d6 : crc=d6 YES
        5e ff 4b 46 7f ff 02 10 d6 t=-10125

        """

    @Test func parsesW1Slave() {
        #expect(DS18B20Driver.parseW1Slave(Self.good) == .success(23125))
        #expect(DS18B20Driver.parseW1Slave(Self.negative) == .success(-10125))
        #expect(DS18B20Driver.parseW1Slave(Self.badCRC) == .failure(.crcMismatch("72 01 4b 46 7f ff 0e 10 57 : crc=ff NO")))
        #expect(DS18B20Driver.parseW1Slave("") == .failure(.malformed("")))
    }

    func driver(_ tree: borrowing FixtureTree, device: String? = "28-0316a2795cff") throws -> DS18B20Driver {
        try DS18B20Driver(name: "tank", device: device, context: tree.context, interval: .seconds(30))
    }

    @Test func readsW1SlaveAndTemperatureAttribute() async throws {
        let tree = try FixtureTree()
        try tree.write("/sys/bus/w1/devices/28-0316a2795cff/w1_slave", Self.good)
        let driver = try driver(tree)
        #expect(driver.sensors == [
            SensorDescriptor(id: "tank.temperature", name: "tank temperature", unit: "°C", deviceClass: "temperature", range: -55...125)
        ])
        #expect(try await driver.read(now: 0) == [SensorSample(sensor: "tank.temperature", value: 23.125)])
        // Newer kernels: the `temperature` attribute wins.
        try tree.write("/sys/bus/w1/devices/28-0316a2795cff/temperature", "-1500\n")
        #expect(try await driver.read(now: 0) == [SensorSample(sensor: "tank.temperature", value: -1.5)])
    }

    @Test func crcFailureIsAFault() async throws {
        let tree = try FixtureTree()
        try tree.write("/sys/bus/w1/devices/28-0316a2795cff/w1_slave", Self.badCRC)
        await #expect {
            try await driver(tree).read(now: 0)
        } throws: { error in "\(error)".contains("CRC check failed") && "\(error)".contains("w1_slave") }
    }

    @Test func powerOnValueIsRejectedFromBothSources() async throws {
        let tree = try FixtureTree()
        try tree.write("/sys/bus/w1/devices/28-0316a2795cff/w1_slave", Self.powerOn)
        await #expect {
            try await driver(tree).read(now: 0)
        } throws: { error in "\(error)".contains("85.000 °C, the power-on reset value") }
        try tree.write("/sys/bus/w1/devices/28-0316a2795cff/temperature", "85000\n")
        await #expect(throws: SensorFault.self) { try await driver(tree).read(now: 0) }
    }

    @Test func eioAndUnplugMidRunAreFaults() async throws {
        let tree = try FixtureTree()
        try tree.write("/sys/bus/w1/devices/28-0316a2795cff/w1_slave", Self.good)
        let driver = try driver(tree)
        _ = try await driver.read(now: 0)
        try tree.makeEIO("/sys/bus/w1/devices/28-0316a2795cff/w1_slave")
        await #expect {
            try await driver.read(now: 0)
        } throws: { error in "\(error)".contains("EIO") }
        try tree.remove("/sys/bus/w1/devices/28-0316a2795cff")
        await #expect {
            try await driver.read(now: 0)
        } throws: { error in "\(error)".contains("28-0316a2795cff disappeared") }
    }

    @Test func withoutDeviceTheOnlyThermometerIsUsed() async throws {
        let tree = try FixtureTree()
        try tree.mkdir("/sys/bus/w1/devices/w1_bus_master1")
        try tree.mkdir("/sys/bus/w1/devices/00-800000000000")
        await #expect {
            try await driver(tree, device: nil).read(now: 0)
        } throws: { error in "\(error)".contains("no 1-Wire thermometer") && "\(error)".contains("dtoverlay=w1-gpio") }
        try tree.write("/sys/bus/w1/devices/28-00000a1b2c3d/w1_slave", Self.good)
        #expect(try await driver(tree, device: nil).read(now: 0).first?.value == 23.125)
        try tree.write("/sys/bus/w1/devices/28-00000a1b2c3e/w1_slave", Self.good)
        await #expect {
            try await driver(tree, device: nil).read(now: 0)
        } throws: { error in "\(error)".contains("several 1-Wire thermometers (28-00000a1b2c3d, 28-00000a1b2c3e)") }
    }
}
