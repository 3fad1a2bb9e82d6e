#if os(Linux)
import Foundation
import Logging
import Testing
@testable import SmollamaHardware
import SmollamaCore
import SmollamaSensors

/// Runs only inside the VM that `scripts/kernel-check.sh` boots: a real Linux kernel with
/// i2c-dev and i2c-stub, the BME280 datasheet registers at 0x76 and 0x77, and the kernel's own
/// bmp280 IIO driver bound to 0x77. It checks the real ioctl paths, EBUSY reporting, the IIO
/// reader on the kernel's real sysfs, and our compensation against the kernel's.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SMOLLAMA_KERNEL_I2C_BUS"] != nil))
struct KernelI2CStubTests {
    var bus: String { ProcessInfo.processInfo.environment["SMOLLAMA_KERNEL_I2C_BUS"] ?? "0" }
    var context: DriverContext { DriverContext(dataDirectory: "/tmp", logger: Logger(label: "kernel-check")) }

    @Test func userspaceBME280OverTheRealI2CDevice() async throws {
        let linux = LinuxI2CBus(path: "/dev/i2c-\(bus)")
        #expect(try linux.readRegisters(address: 0x76, register: 0xD0, count: 1) == [0x60])
        #expect(try linux.readRegisters(address: 0x76, register: 0x88, count: 26) == BME280Tests.block1)
        let driver = try BME280Driver(name: "stub", bus: linux, address: 0x76, interval: .seconds(30))
        let samples = try await driver.read(now: 0)
        let humidity: Double = 40426.0 / 1024
        let pressure: Double = 25_767_233.0 / 256 / 100
        #expect(samples.map(\.value) == [25.08, humidity, pressure])
        // The forced-mode trigger reached the chip's register file.
        #expect(try linux.readRegisters(address: 0x76, register: 0xF4, count: 1) == [0x25])
    }

    @Test func kernelOwnedAddressIsEBUSY() throws {
        let linux = LinuxI2CBus(path: "/dev/i2c-\(bus)")
        #expect {
            try linux.readRegisters(address: 0x77, register: 0xD0, count: 1)
        } throws: { error in
            "\(error)".hasPrefix("/dev/i2c-\(bus) address 0x77: EBUSY") && "\(error)".contains("use the iio or hwmon driver")
        }
    }

    @Test func absentAddressIsNoAcknowledge() throws {
        #expect {
            try LinuxI2CBus(path: "/dev/i2c-\(bus)").readRegisters(address: 0x5c, register: 0, count: 1)
        } throws: { error in HardwareDetector.isNoAcknowledge(error) }
    }

    /// i2c-stub speaks SMBus only: a bare multi-byte read (BH1750) has no SMBus form and must fail
    /// rather than return bytes from separate transactions.
    @Test func bareMultiByteReadIsRefusedOnSMBusOnlyAdapters() throws {
        #expect {
            try LinuxI2CBus(path: "/dev/i2c-\(bus)").read(address: 0x76, count: 2)
        } throws: { error in "\(error)".contains("EOPNOTSUPP") }
    }

    /// The kernel's bmp280 driver compensates the same registers: its IIO values must agree with
    /// ours to the kernel's output resolution.
    @Test func kernelIIOValuesAgreeWithOurCompensation() async throws {
        let driver = try IIODriver(name: "kernel", device: "bme280", channels: nil, context: context, interval: .seconds(30))
        let values = Dictionary(uniqueKeysWithValues: try await driver.read(now: 0).map { ($0.sensor.rawValue, $0.value) })
        print("kernel IIO values:", values.sorted { $0.key < $1.key })
        #expect(values["kernel.temperature"] == 25.08)
        let pressure: Double = 25_767_233.0 / 256 / 100
        let humidity: Double = 40426.0 / 1024
        #expect(abs((values["kernel.pressure"] ?? 0) - pressure) < 0.00001)
        #expect(abs((values["kernel.humidity"] ?? 0) - humidity) < 0.001)
    }

    @Test func detectOnTheRealMachine() throws {
        let report = HardwareDetector(context: context, backends: .linux).detect()
        print(report.text)
        print(report.configSnippet)
        #expect(report.devices.contains {
            $0.location == "/dev/i2c-\(bus) 0x76" && $0.entry?.first == ConfigPair("driver", "bme280")
        })
        #expect(report.devices.contains {
            $0.location == "/dev/i2c-\(bus) 0x77" && $0.summary == "owned by kernel driver 'bmp280'"
        })
        #expect(report.devices.contains { $0.bus == "iio" && $0.summary.hasPrefix("IIO device 'bme280'") })
    }
}
#endif
