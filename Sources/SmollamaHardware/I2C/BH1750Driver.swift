import Foundation
public import SmollamaCore
public import SmollamaSensors

/// ROHM BH1750 ambient light sensor in continuous high-resolution mode (1 lx resolution,
/// 120 ms per measurement): lux = raw / 1.2 at the default measurement time.
public struct BH1750Driver: SensorDriver {
    public static let powerOn: UInt8 = 0x01
    public static let continuousHighResolution: UInt8 = 0x10
    /// Datasheet maximum for the first high-resolution measurement.
    public static let firstMeasurementMicroseconds: UInt32 = 180_000

    public let name: String
    public let sensors: [SensorDescriptor]
    public let interval: Duration
    let chip: I2CChip
    private let configured = Locked(false)

    public init(
        name: String, bus: any I2CBus, address: UInt8, interval: Duration,
        pause: @escaping @Sendable (UInt32) -> Void = DevicePause.real
    ) throws {
        self.name = "bh1750:" + name
        self.interval = interval
        chip = I2CChip(bus: bus, address: address, label: "bh1750.\(name)", pause: pause)
        sensors = [
            SensorDescriptor(
                id: try DriverNaming.sensorID(name, "illuminance", driver: "bh1750"), name: "\(name) illuminance",
                unit: "lx", deviceClass: "illuminance", range: 0...65535)
        ]
    }

    /// Lux from the two result bytes (MSB first).
    public static func lux(high: UInt8, low: UInt8) -> Double {
        Double(UInt16(high) << 8 | UInt16(low)) / 1.2
    }

    public func read(now: UTCMillis) async throws -> [SensorSample] {
        do {
            let lux = try await chip.io.run { [self] in try measure() }
            return [SensorSample(sensor: sensors[0].id, value: lux)]
        } catch {
            configured.value = false
            throw SensorFault(driver: name, "\(error)")
        }
    }

    func measure() throws -> Double {
        if !configured.value {
            try chip.bus.writeCommand(address: chip.address, Self.powerOn)
            try chip.bus.writeCommand(address: chip.address, Self.continuousHighResolution)
            chip.pause(Self.firstMeasurementMicroseconds)
            configured.value = true
        }
        let bytes = try chip.bus.read(address: chip.address, count: 2)
        return Self.lux(high: bytes[0], low: bytes[1])
    }
}
