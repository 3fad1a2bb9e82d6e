import Foundation
public import SmollamaCore
public import SmollamaSensors

/// Bosch BME280 (temperature, humidity, pressure) — or BMP280, without humidity — read from
/// userspace over `/dev/i2c-N` in forced mode: one measurement per poll, then the chip sleeps.
/// If the kernel's `bmp280` driver owns the address, the bus reports EBUSY: use the `iio` driver.
public struct BME280Driver: SensorDriver {
    public static let chipIDRegister: UInt8 = 0xD0
    public static let bme280ChipID: UInt8 = 0x60
    public static let bmp280ChipID: UInt8 = 0x58

    public let name: String
    public let sensors: [SensorDescriptor]
    public let interval: Duration
    let chip: I2CChip

    public init(
        name: String, bus: any I2CBus, address: UInt8, interval: Duration,
        pause: @escaping @Sendable (UInt32) -> Void = DevicePause.real
    ) throws {
        self.name = "bme280:" + name
        self.interval = interval
        chip = I2CChip(bus: bus, address: address, label: "bme280.\(name)", pause: pause)
        sensors = [
            SensorDescriptor(
                id: try DriverNaming.sensorID(name, "temperature", driver: "bme280"), name: "\(name) temperature",
                unit: "°C", deviceClass: "temperature", range: -40...85),
            SensorDescriptor(
                id: try DriverNaming.sensorID(name, "humidity", driver: "bme280"), name: "\(name) humidity",
                unit: "%", deviceClass: "humidity", range: 0...100),
            SensorDescriptor(
                id: try DriverNaming.sensorID(name, "pressure", driver: "bme280"), name: "\(name) pressure",
                unit: "hPa", deviceClass: "pressure", range: 300...1100),
        ]
    }

    public func read(now: UTCMillis) async throws -> [SensorSample] {
        let measurement: BME280Measurement
        do {
            measurement = try await chip.io.run { [self] in try measure() }
        } catch {
            throw SensorFault(driver: name, "\(error)")
        }
        var samples = [
            SensorSample(sensor: sensors[0].id, value: measurement.celsius),
            SensorSample(sensor: sensors[2].id, value: measurement.pascals / 100),
        ]
        if let humidity = measurement.relativeHumidity {
            samples.insert(SensorSample(sensor: sensors[1].id, value: humidity), at: 1)
        }
        return samples
    }

    /// One forced-mode measurement: check the chip, read calibration, trigger, wait, read.
    func measure() throws -> BME280Measurement {
        let chipID = try chip.bus.readRegisters(address: chip.address, register: Self.chipIDRegister, count: 1)[0]
        guard chipID == Self.bme280ChipID || chipID == Self.bmp280ChipID else {
            throw I2CError(
                path: chip.bus.path, address: chip.address,
                message: "chip id 0x\(String(chipID, radix: 16)) is not a BME280 (0x60) or BMP280 (0x58); check the address")
        }
        let hasHumidity = chipID == Self.bme280ChipID
        let block1 = try chip.bus.readRegisters(address: chip.address, register: 0x88, count: 26)
        let block2 = hasHumidity ? try chip.bus.readRegisters(address: chip.address, register: 0xE1, count: 7) : [UInt8](repeating: 0, count: 7)
        let calibration = BME280Calibration(block1: block1, block2: block2)
        if hasHumidity {
            // ctrl_hum only takes effect after a write to ctrl_meas, so it goes first.
            try chip.bus.writeRegister(address: chip.address, register: 0xF2, value: 0x01)
        }
        // osrs_t ×1, osrs_p ×1, forced mode.
        try chip.bus.writeRegister(address: chip.address, register: 0xF4, value: 0b001_001_01)
        // A ×1/×1/×1 measurement takes at most ~9.3 ms; poll status.measuring (bit 3).
        var waited: UInt32 = 0
        while try chip.bus.readRegisters(address: chip.address, register: 0xF3, count: 1)[0] & 0x08 != 0 {
            guard waited < 100_000 else {
                throw I2CError(path: chip.bus.path, address: chip.address, message: "measurement did not finish within 100 ms")
            }
            chip.pause(2_000)
            waited += 2_000
        }
        let data = try chip.bus.readRegisters(address: chip.address, register: 0xF7, count: hasHumidity ? 8 : 6)
        let adcP = Int32(data[0]) << 12 | Int32(data[1]) << 4 | Int32(data[2]) >> 4
        let adcT = Int32(data[3]) << 12 | Int32(data[4]) << 4 | Int32(data[5]) >> 4
        let adcH = hasHumidity ? Int32(data[6]) << 8 | Int32(data[7]) : nil
        return BME280Measurement(calibration: calibration, adcT: adcT, adcP: adcP, adcH: adcH)
    }
}
