import Testing
@testable import SmollamaHardware
import SmollamaCore
import SmollamaSensors

#if canImport(Glibc)
import Glibc
#endif

@Suite struct BME280Tests {
    /// The datasheet's calibration example (BST-BMP280-DS001 §3.12, shared by the BME280).
    static let datasheet = BME280Calibration(
        t1: 27504, t2: 26435, t3: -1000,
        p1: 36477, p2: -10685, p3: 3024, p4: 2855, p5: 140, p6: -7, p7: 15500, p8: -14600, p9: 6000,
        h1: 75, h2: 362, h3: 0, h4: 313, h5: 50, h6: 30)

    @Test func datasheetVectorIsReproducedExactly() {
        let calibration = Self.datasheet
        let tFine = calibration.fineTemperature(adcT: 519888)
        #expect(tFine == 128422)
        #expect(calibration.temperatureCentiCelsius(tFine: tFine) == 2508)
        // 25767233 / 256 = 100653.2539 Pa: the datasheet's 100653.27 Pa within the 64-bit routine's 1/256 Pa step.
        #expect(calibration.pressureQ24_8(adcP: 415148, tFine: tFine) == 25_767_233)
        let measurement = BME280Measurement(calibration: calibration, adcT: 519888, adcP: 415148, adcH: nil)
        #expect(measurement.celsius == 25.08)
        #expect((measurement.pascals * 100).rounded() / 100 == 100653.25)
        #expect(measurement.relativeHumidity == nil)
    }

    @Test func humidityMatchesTheFloatingPointFormula() {
        let calibration = Self.datasheet
        let tFine = calibration.fineTemperature(adcT: 519888)
        let q = calibration.humidityQ22_10(adcH: 0x6A50, tFine: tFine)
        #expect(q == 40426)
        // Bosch's double-precision formula gives 39.48205 %RH for the same inputs.
        var h = Double(tFine) - 76800
        h = (Double(0x6A50) - (313 * 64 + 50 / 16384 * h)) * (362 / 65536 * (1 + 30 / 67_108_864 * h * (1 + 0 / 67_108_864 * h)))
        h = h * (1 - 75 * h / 524_288)
        #expect(abs(Double(q) / 1024 - h) < 0.01)
    }

    @Test func humidityIsClampedTo0And100() {
        let tFine = Self.datasheet.fineTemperature(adcT: 519888)
        #expect(Self.datasheet.humidityQ22_10(adcH: 0, tFine: tFine) == 0)
        #expect(Self.datasheet.humidityQ22_10(adcH: 0xFFFF, tFine: tFine) == 100 * 1024)
    }

    @Test func skippedChannelsAreNaN() {
        let measurement = BME280Measurement(calibration: Self.datasheet, adcT: 519888, adcP: 0x80000, adcH: 0x8000)
        #expect(measurement.pascals.isNaN)
        #expect(measurement.relativeHumidity?.isNaN == true)
    }

    /// Calibration bytes as the chip stores them (little-endian words; dig_H4/H5 share 0xE5).
    static let block1: [UInt8] = [112, 107, 67, 103, 24, 252, 125, 142, 67, 214, 208, 11, 39, 11, 140, 0, 249, 255, 140, 60, 248, 198, 112, 23, 0, 75]
    static let block2: [UInt8] = [0x6A, 0x01, 0x00, 0x13, 0x29, 0x03, 30]

    @Test func calibrationParsesFromRegisterBytes() {
        #expect(BME280Calibration(block1: Self.block1, block2: Self.block2) == Self.datasheet)
        // Negative dig_H4/dig_H5 keep their sign (0xE4/0xE6 are signed).
        let negative = BME280Calibration(block1: Self.block1, block2: [0, 0, 0, 0xFF, 0xF1, 0xFE, 0])
        #expect(negative.h4 == -15)
        #expect(negative.h5 == -17)
    }

    static func chip(id: UInt8 = 0x60) -> FakeI2CBus.Device {
        var device = FakeI2CBus.Device()
        device.registers[0xD0] = id
        for (index, byte) in block1.enumerated() { device.registers[0x88 + index] = byte }
        for (index, byte) in block2.enumerated() { device.registers[0xE1 + index] = byte }
        // press 0x655AC0>>4, temp 0x7EED0, hum 0x6A50
        for (index, byte) in [0x65, 0x5A, 0xC0, 0x7E, 0xED, 0x00, 0x6A, 0x50].enumerated() { device.registers[0xF7 + index] = UInt8(byte) }
        device.scripted[0xF3] = [0x08, 0x08]  // measuring for two polls
        return device
    }

    @Test func driverMeasuresOverTheBusInForcedMode() async throws {
        let bus = FakeI2CBus(devices: [0x76: Self.chip()])
        let pauses = Locked<[UInt32]>([])
        let driver = try BME280Driver(
            name: "living_room", bus: bus, address: 0x76, interval: .seconds(30), pause: { us in pauses.withLock { $0.append(us) } })
        #expect(driver.name == "bme280:living_room")
        #expect(driver.sensors.map(\.id) == ["living_room.temperature", "living_room.humidity", "living_room.pressure"])
        let samples = try await driver.read(now: 0)
        #expect(samples.map(\.sensor) == ["living_room.temperature", "living_room.humidity", "living_room.pressure"])
        #expect(samples[0].value == 25.08)
        #expect(samples[1].value == 40426.0 / 1024)
        #expect(samples[2].value == 25_767_233.0 / 256 / 100)
        for sample in samples {
            #expect(SampleRejection.check(sample.value, for: driver.sensors.first { $0.id == sample.sensor }!) == nil)
        }
        // ctrl_hum before ctrl_meas (forced mode, ×1 oversampling), then status polled until idle.
        let writes = bus.log.filter { $0.write.count == 2 }.map(\.write)
        #expect(writes == [[0xF2, 0x01], [0xF4, 0x25]])
        #expect(pauses.value == [2000, 2000])
        #expect(bus.log.last == FakeI2CBus.Transfer(address: 0x76, write: [0xF7], readCount: 8))
    }

    @Test func bmp280HasNoHumidity() async throws {
        let bus = FakeI2CBus(devices: [0x77: Self.chip(id: 0x58)])
        let driver = try BME280Driver(name: "attic", bus: bus, address: 0x77, interval: .seconds(30), pause: { _ in })
        let samples = try await driver.read(now: 0)
        #expect(samples.map(\.sensor) == ["attic.temperature", "attic.pressure"])
        #expect(!bus.log.contains { $0.write == [0xE1] })
    }

    @Test func wrongChipIDIsAFaultNamingTheAddress() async throws {
        let bus = FakeI2CBus(devices: [0x76: Self.chip(id: 0x61)])
        let driver = try BME280Driver(name: "x", bus: bus, address: 0x76, interval: .seconds(30), pause: { _ in })
        await #expect {
            try await driver.read(now: 0)
        } throws: { error in
            (error as? SensorFault)?.message.contains("/dev/i2c-1 address 0x76: chip id 0x61 is not a BME280") == true
        }
    }

    @Test func kernelOwnedAddressReportsEBUSYWithAdvice() async throws {
        var owned = Self.chip()
        owned.failure = EBUSY
        let driver = try BME280Driver(
            name: "x", bus: FakeI2CBus(devices: [0x76: owned]), address: 0x76, interval: .seconds(30), pause: { _ in })
        await #expect {
            try await driver.read(now: 0)
        } throws: { error in
            let message = (error as? SensorFault)?.message ?? ""
            return message.contains("/dev/i2c-1 address 0x76: EBUSY") && message.contains("use the iio or hwmon driver")
        }
    }

    @Test func unpluggedMidRunIsAFaultThenRecovers() async throws {
        let bus = FakeI2CBus(devices: [0x76: Self.chip()])
        let driver = try BME280Driver(name: "x", bus: bus, address: 0x76, interval: .seconds(30), pause: { _ in })
        _ = try await driver.read(now: 0)
        bus.remove(0x76)
        await #expect {
            try await driver.read(now: 0)
        } throws: { error in "\(error)".contains("EREMOTEIO") }
    }
}
