import Logging
import Testing
@testable import SmollamaHardware
import SmollamaCore
import SmollamaSensors
import SmollamaTesting

@Suite struct GPIOInputDriverTests {
    /// A reed switch with kernel debounce; one burst overflowed the buffer.
    static let door = """
        1.000 rising
        5.000 falling
        9.000 falling +1
        12.000 rising
        """

    @Test func edgesBecomeTransitionsAndDropsAreLogged() async throws {
        let capture = LogCapture()
        let logger = capture.logger(level: .trace)
        let driver = try GPIOInputDriver(
            name: "front_door", deviceClass: "door", input: ReplayInput(trace: parseTrace(Self.door)), interval: .seconds(60),
            logger: logger)
        #expect(driver.sensors == [SensorDescriptor(id: "front_door.state", name: "front_door state", kind: .binary, deviceClass: "door")])
        var values: [Double] = []
        for try await sample in driver.events() { values.append(sample.value) }
        // The repeated falling edge (after 1 lost rising edge) is not a new state.
        #expect(values == [1, 0, 1])
        let warnings = capture.all.filter { $0.level == .warning }
        #expect(warnings.count == 1)
        #expect(warnings.first?.metadata["smollama.gpio.dropped"] == "1")
        #expect(warnings.first?.metadata["smollama.sensor.id"] == "front_door.state")
    }

    @Test func pollingReadsTheLevel() async throws {
        let driver = try GPIOInputDriver(name: "button", deviceClass: nil, input: ReplayInput(trace: [], level: true), interval: .seconds(60))
        #expect(try await driver.read(now: 0) == [SensorSample(sensor: "button.state", value: 1)])
    }
}

#if os(Linux)
/// The real transports against things that are not devices: the messages a user would see.
@Suite struct LinuxTransportErrorTests {
    @Test func i2cBusThatDoesNotExist() throws {
        let bus = LinuxI2CBus(path: "/nonexistent/i2c-7")
        #expect {
            try bus.transfer(address: 0x76, write: [0xD0], readCount: 1)
        } throws: { error in
            "\(error)".hasPrefix("/nonexistent/i2c-7 address 0x76: ENOENT") && "\(error)".contains("raspi-config")
        }
    }

    @Test func i2cBusThatIsARegularFile() throws {
        let tree = try FixtureTree()
        try tree.write("/dev/i2c-1", "")
        #expect {
            try LinuxI2CBus(path: tree.root + "/dev/i2c-1").transfer(address: 0x23, write: [], readCount: 2)
        } throws: { error in "\(error)".contains("address 0x23: ENOTTY") }
    }

    @Test func spiDeviceThatIsARegularFile() throws {
        let tree = try FixtureTree()
        try tree.write("/dev/spidev0.0", "")
        #expect {
            try LinuxSPIDevice(path: tree.root + "/dev/spidev0.0").transfer([1, 0x80, 0])
        } throws: { error in "\(error)".contains("cannot set SPI mode 0") && "\(error)".contains("ENOTTY") }
    }

    @Test func gpioProbeSkipsNonDevicesAndInputReportsTheChip() async throws {
        let tree = try FixtureTree()
        try tree.write("/dev/gpiochip0", "")
        #expect(try LinuxGPIOChipProbe(deviceDirectory: tree.root + "/dev").chips().isEmpty)
        let input = LinuxGPIOInput(settings: GPIOLineSettings(), consumer: "t") {
            try GPIOChipLocator.locate(.named("GPIO17"), in: LinuxGPIOChipProbe(deviceDirectory: tree.root + "/dev").chips())
        }
        #expect { try input.value() } throws: { error in "\(error)".contains("no GPIO line named 'GPIO17'") }
        await #expect {
            for try await _ in input.edges() {}
        } throws: { error in "\(error)".contains("no GPIO line named 'GPIO17'") }
        // A chip path that is a regular file: the line request ioctl fails with ENOTTY.
        let chip = GPIOChipInfo(path: tree.root + "/dev/gpiochip0", name: "gpiochip0", label: "pinctrl-rp1", lineCount: 54)
        let direct = LinuxGPIOInput(settings: GPIOLineSettings(), consumer: "t") { GPIOLineLocation(chip: chip, offset: 17) }
        #expect { try direct.value() } throws: { error in "\(error)".contains("gpiochip0 line 17: ENOTTY") }
    }
}
#endif
