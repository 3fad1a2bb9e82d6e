/// A well-known I2C address and how to tell, with reads only, whether the expected chip is there.
struct I2CCandidate: Sendable {
    var address: UInt8
    var driver: String
    /// A description if the chip answered as expected, nil if something else or nothing did;
    /// throws the bus error when the probe could not be made.
    var identify: @Sendable (any I2CBus) throws -> String?

    static let known: [I2CCandidate] = [
        bosch(0x76), bosch(0x77),
        bh1750(0x23), bh1750(0x5C),
    ]

    /// BME280/BMP280: register 0xD0 holds the chip id.
    static func bosch(_ address: UInt8) -> I2CCandidate {
        I2CCandidate(address: address, driver: "bme280") { bus in
            let id = try bus.readRegisters(address: address, register: BME280Driver.chipIDRegister, count: 1).first
            switch id {
            case BME280Driver.bme280ChipID: return "Bosch BME280 (temperature, humidity, pressure)"
            case BME280Driver.bmp280ChipID: return "Bosch BMP280 (temperature, pressure)"
            default: return nil
            }
        }
    }

    /// BH1750 has no id register: a plain 2-byte read that is acknowledged is taken as presence.
    static func bh1750(_ address: UInt8) -> I2CCandidate {
        I2CCandidate(address: address, driver: "bh1750") { bus in
            _ = try bus.read(address: address, count: 2)
            return "BH1750 ambient light sensor (likely: the chip has no id register)"
        }
    }
}
