import Foundation
public import SmollamaCore
public import SmollamaSensors

/// Maxim DS18B20 (and other 1-Wire thermometers) through the kernel's `w1_therm` driver:
/// `/sys/bus/w1/devices/28-*/temperature` where the kernel has it, else `w1_slave`. A read starts
/// a conversion and blocks up to ~750 ms, so it runs on the driver's own queue.
public struct DS18B20Driver: SensorDriver {
    /// 1-Wire family codes of thermometers `w1_therm` serves: DS18S20, DS1822, DS18B20, MAX31850, DS28EA00.
    public static let thermometerFamilies = ["10", "22", "28", "3b", "42"]
    /// The scratchpad's power-on value: the conversion never ran (weak pull-up, parasite power).
    public static let powerOnResetMilliCelsius = 85_000

    public let name: String
    public let sensors: [SensorDescriptor]
    public let interval: Duration
    /// `28-0316a2795cff`, or nil to use the only thermometer on the bus.
    let device: String?
    let devicesDirectory: String
    let io: BlockingIO

    public init(name: String, device: String?, context: DriverContext, interval: Duration) throws {
        self.name = "ds18b20:" + name
        self.device = device
        self.interval = interval
        devicesDirectory = context.systemPath("/sys/bus/w1/devices")
        io = BlockingIO(label: "ds18b20.\(name)")
        sensors = [
            SensorDescriptor(
                id: try DriverNaming.sensorID(name, "temperature", driver: "ds18b20"), name: "\(name) temperature",
                unit: "°C", deviceClass: "temperature", range: -55...125)
        ]
    }

    public func read(now: UTCMillis) async throws -> [SensorSample] {
        let milli = try await io.run { [self] in try readMilliCelsius() }
        return [SensorSample(sensor: sensors[0].id, value: Double(milli) / 1000)]
    }

    func readMilliCelsius() throws -> Int {
        let device = try resolvedDevice()
        let base = devicesDirectory + "/" + device
        let temperaturePath = base + "/temperature"
        do {
            let milli: Int
            if SysfsFile.exists(temperaturePath) {
                let text = try SysfsFile.read(temperaturePath)
                guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
                    throw SensorFault(driver: name, "\(temperaturePath): unexpected content '\(text)'")
                }
                milli = value
            } else {
                let path = base + "/w1_slave"
                switch Self.parseW1Slave(try SysfsFile.read(path)) {
                case .success(let value): milli = value
                case .failure(let problem): throw SensorFault(driver: name, "\(path): \(problem)")
                }
            }
            guard milli != Self.powerOnResetMilliCelsius else {
                throw SensorFault(
                    driver: name,
                    "\(device) returned 85.000 °C, the power-on reset value: the conversion did not run "
                        + "(check the 4.7 kΩ pull-up to 3.3 V and the sensor's VDD)")
            }
            return milli
        } catch let error as SysfsFile.ReadError {
            switch error {
            case .missing:
                throw SensorFault(driver: name, "\(device) disappeared from \(devicesDirectory) (unplugged or bus error)")
            case .failed(let path, let os):
                throw SensorFault(driver: name, "\(path): \(os)")
            }
        }
    }

    func resolvedDevice() throws -> String {
        if let device { return device }
        let found = SysfsFile.list(devicesDirectory).filter { entry in
            Self.thermometerFamilies.contains { entry.lowercased().hasPrefix($0 + "-") }
        }
        guard found.count == 1 else {
            throw SensorFault(
                driver: name,
                found.isEmpty
                    ? "no 1-Wire thermometer under \(devicesDirectory); enable it with dtoverlay=w1-gpio (GPIO4) and check the pull-up"
                    : "several 1-Wire thermometers (\(found.joined(separator: ", "))); set 'device:' to one of them")
        }
        return found[0]
    }

    public enum W1SlaveProblem: Error, Hashable, Sendable, CustomStringConvertible {
        case crcMismatch(String)
        case malformed(String)

        public var description: String {
            switch self {
            case .crcMismatch(let line): "CRC check failed ('\(line)'): noise on the bus or a long cable; check the pull-up"
            case .malformed(let text): "unexpected w1_slave content '\(text)'"
            }
        }
    }

    /// Parses `w1_slave`:
    /// ```
    /// 72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
    /// 72 01 4b 46 7f ff 0e 10 57 t=23125
    /// ```
    public static func parseW1Slave(_ text: String) -> Result<Int, W1SlaveProblem> {
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard lines.count >= 2, lines[0].contains("crc=") else { return .failure(.malformed(text)) }
        guard lines[0].hasSuffix("YES") else { return .failure(.crcMismatch(lines[0])) }
        guard let range = lines[1].range(of: "t="), let value = Int(lines[1][range.upperBound...]) else {
            return .failure(.malformed(text))
        }
        return .success(value)
    }
}

/// `- driver: ds18b20` entry keys.
public struct DS18B20Options: Decodable, Sendable {
    public var name: String?
    /// The sensor's 1-Wire id (`28-0316a2795cff`); omit when exactly one thermometer is connected.
    public var device: String?
    public var interval: ConfigDuration?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case driver, name, device, interval
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        device = try container.decodeIfPresent(String.self, forKey: .device)
        interval = try container.decodeIfPresent(ConfigDuration.self, forKey: .interval)
        if let device, device.contains("/") || device.count < 4 || !device.contains("-") {
            throw HardwareConfigError(
                driver: "ds18b20", key: "device", "'\(device)' is not a 1-Wire id; write it as in /sys/bus/w1/devices, e.g. 28-0316a2795cff")
        }
    }
}
