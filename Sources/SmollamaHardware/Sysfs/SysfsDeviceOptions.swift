public import SmollamaCore

/// `- driver: iio` and `- driver: hwmon` entry keys: both name a sysfs device and, optionally,
/// its channels.
public struct SysfsDeviceOptions: Sendable {
    public var name: String?
    /// The device's `name` attribute (`bme280`, `cpu_thermal`) or its entry (`iio:device0`, `hwmon0`).
    public var device: String
    /// Channel ids (`temp`, `humidityrelative`, `voltage0`; hwmon's `temp1`, `fan1`); every input
    /// channel when omitted.
    public var channels: [String]?
    public var interval: ConfigDuration?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case driver, name, device, channels, interval
    }

    /// `device` says, in the error for a missing `device:` key, what to write there.
    public init(from decoder: any Decoder, driver: String, device hint: String) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        guard let device = try container.decodeIfPresent(String.self, forKey: .device) else {
            throw HardwareConfigError(driver: driver, key: "device", "required: \(hint)")
        }
        self.device = device
        channels = try container.decodeIfPresent([String].self, forKey: .channels)
        interval = try container.decodeIfPresent(ConfigDuration.self, forKey: .interval)
    }
}
