public import SmollamaCore

/// `- driver: bme280` and `- driver: bh1750` entry keys: a chip at one of its addresses on
/// `/dev/i2c-N`.
public struct I2CDeviceOptions: Sendable {
    public var name: String?
    /// The N of `/dev/i2c-N`; 1 on the Pi's header pins 3/5.
    public var bus: Int
    /// One of the chip's `addresses` (the first when omitted).
    public var address: ConfigInteger
    public var interval: ConfigDuration?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case driver, name, bus, address, interval
    }

    /// `addresses` are those the chip can answer at, the default first; `chip` names it in errors.
    public init(from decoder: any Decoder, driver: String, chip: String, addresses: [Int]) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        bus = try container.decodeIfPresent(Int.self, forKey: .bus) ?? 1
        address = try container.decodeIfPresent(ConfigInteger.self, forKey: .address) ?? ConfigInteger(addresses[0])
        interval = try container.decodeIfPresent(ConfigDuration.self, forKey: .interval)
        guard addresses.contains(address.value) else {
            let choices = addresses.map { ConfigInteger($0).hex }.joined(separator: " or ")
            throw HardwareConfigError(driver: driver, key: "address", "\(address.hex) is not a \(chip) address; use \(choices)")
        }
        guard bus >= 0 else { throw HardwareConfigError(driver: driver, key: "bus", "bus must be 0 or more (the N of /dev/i2c-N)") }
    }
}
