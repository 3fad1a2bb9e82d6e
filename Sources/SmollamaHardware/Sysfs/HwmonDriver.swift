import Foundation
public import SmollamaCore
public import SmollamaSensors

/// Hardware monitoring chips (`/sys/class/hwmon/hwmonN`): `cpu_thermal`, `rp1_adc`, `pwmfan`,
/// `nvme`, sensors with kernel drivers (lm75, sht3x …). Reads `temp*_input` (m°C), `fan*_input`
/// (RPM), `in*_input` (mV), `curr*_input` (mA), `power*_input` (µW), `humidity*_input` (m%).
public struct HwmonDriver: SensorDriver {
    struct Bound: Hashable, Sendable {
        var file: String
        var divisor: Double
        var descriptor: SensorDescriptor
    }

    /// Attribute prefix → unit, device class, divisor to that unit (m°C → °C: 1000), range.
    static let kinds: [(prefix: String, unit: String, deviceClass: String?, divisor: Double, range: ClosedRange<Double>?)] = [
        ("temp", "°C", "temperature", 1000, -273.15...500),
        ("fan", "rpm", nil, 1, 0...100_000),
        ("in", "V", "voltage", 1000, nil),
        ("curr", "A", "current", 1000, nil),
        ("power", "W", "power", 1_000_000, nil),
        ("humidity", "%", "humidity", 1000, 0...100),
    ]

    public let name: String
    public let sensors: [SensorDescriptor]
    public let interval: Duration
    let device: String
    let classDirectory: String
    let bound: [Bound]
    let io: BlockingIO

    /// The `*_input` channels of a hwmon directory (`temp1`, `fan1`), in natural order.
    static func channels(in files: [String]) -> [String] {
        files.filter { file in
            file.hasSuffix("_input") && kinds.contains { kind in
                file.hasPrefix(kind.prefix) && file.dropFirst(kind.prefix.count).first?.isNumber == true
            }
        }.map { String($0.dropLast("_input".count)) }
    }

    public init(name: String, device: String, channels: [String]?, context: DriverContext, interval: Duration) throws {
        self.name = "hwmon:" + name
        self.device = device
        self.interval = interval
        classDirectory = context.systemPath("/sys/class/hwmon")
        io = BlockingIO(label: "hwmon.\(name)")
        let found = SysfsDeviceLookup.find(device, in: classDirectory, prefix: "hwmon")
        guard found != nil || channels != nil else {
            throw HardwareConfigError(
                driver: "hwmon", key: "device",
                "no hwmon device named '\(device)' under \(classDirectory); `smollama sensors detect` lists them, or list 'channels:'")
        }
        let selected = channels ?? Self.channels(in: found.map { SysfsFile.list($0.directory) } ?? [])
        guard !selected.isEmpty else {
            throw HardwareConfigError(driver: "hwmon", key: "channels", "hwmon device '\(device)' has no readable channels")
        }
        bound = try selected.map { channel in
            guard let kind = Self.kinds.first(where: { channel.hasPrefix($0.prefix) && channel.dropFirst($0.prefix.count).allSatisfy(\.isNumber) })
            else {
                throw HardwareConfigError(
                    driver: "hwmon", key: "channels", "'\(channel)' is not a hwmon channel; use e.g. temp1, fan1, in0, curr1, power1")
            }
            let label = found.flatMap { try? SysfsFile.read($0.directory + "/\(channel)_label") }
            return Bound(
                file: channel + "_input", divisor: kind.divisor,
                descriptor: SensorDescriptor(
                    id: try DriverNaming.sensorID(name, channel, driver: "hwmon"), name: "\(name) \(label ?? channel)",
                    unit: kind.unit, deviceClass: kind.deviceClass, range: kind.range))
        }
        sensors = bound.map(\.descriptor)
    }

    public func read(now: UTCMillis) async throws -> [SensorSample] {
        try await io.run { [self] in try readAll() }
    }

    func readAll() throws -> [SensorSample] {
        guard let directory = SysfsDeviceLookup.find(device, in: classDirectory, prefix: "hwmon")?.directory else {
            throw SensorFault(driver: name, "hwmon device '\(device)' is gone from \(classDirectory)")
        }
        var samples: [SensorSample] = []
        for item in bound {
            let path = directory + "/" + item.file
            do {
                guard let value = try SysfsFile.readNumber(path) else {
                    throw SensorFault(driver: name, "\(path): not a number")
                }
                samples.append(SensorSample(sensor: item.descriptor.id, value: value / item.divisor))
            } catch let error as SysfsFile.ReadError where error.isTransient || error == .failed(path: path, OSError(code: ENODATA)) {
                continue
            } catch let error as SysfsFile.ReadError {
                switch error {
                case .missing: throw SensorFault(driver: name, "\(path) is missing (device unplugged or driver unloaded)")
                case .failed(_, let os): throw SensorFault(driver: name, "\(path): \(os)")
                }
            }
        }
        return samples
    }
}
