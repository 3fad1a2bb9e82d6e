import SmollamaCore

/// A config entry for a hardware driver that cannot work as written. The message names the key
/// and says what would be accepted.
public struct HardwareConfigError: Error, Hashable, Sendable, CustomStringConvertible {
    public var driver: String
    public var key: String
    public var message: String

    public init(driver: String, key: String, _ message: String) {
        self.driver = driver
        self.key = key
        self.message = message
    }

    public var description: String { "sensors entry 'driver: \(driver)': key '\(key)': \(message)" }
}

/// An integer written either as a YAML number (`118`, `0x76`) or as a string (`"0x76"`).
public struct ConfigInteger: Hashable, Sendable, Codable, CustomStringConvertible {
    public var value: Int

    public init(_ value: Int) { self.value = value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            value = number
            return
        }
        let text = try container.decode(String.self).lowercased()
        let parsed = text.hasPrefix("0x") ? Int(text.dropFirst(2), radix: 16) : Int(text)
        guard let parsed else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "'\(text)' is not an integer; write e.g. 118 or 0x76")
        }
        value = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public var description: String { String(value) }
    public var hex: String { "0x" + String(value, radix: 16) }
}

/// Pull resistor the kernel enables on a GPIO input.
public enum GPIOBias: String, Hashable, Sendable, Codable, CaseIterable {
    case none = "disabled"
    case pullUp = "pull_up"
    case pullDown = "pull_down"
    /// Leave the line as the firmware or device tree configured it.
    case asIs = "as_is"

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let bias = GPIOBias(rawValue: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "bias '\(text)' is not one of: \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = bias
    }
}

/// Naming rules shared by every hardware driver: sensor ids are `<name>.<quantity>`.
enum DriverNaming {
    static func validatedName(_ name: String?, default fallback: String, driver: String) throws -> String {
        let name = name ?? fallback
        guard SensorID.validate(name + ".x") else {
            throw HardwareConfigError(
                driver: driver, key: "name",
                "'\(name)' is not a valid sensor name; use lower-case letters, digits, '_', '-' and '.' (e.g. living_room)")
        }
        return name
    }

    static func sensorID(_ name: String, _ quantity: String, driver: String) throws -> SensorID {
        let id = SensorID(name + "." + sanitized(quantity))
        guard SensorID.validate(id.rawValue) else {
            throw HardwareConfigError(driver: driver, key: "name", "sensor id '\(id)' is too long or invalid; choose a shorter name")
        }
        return id
    }

    /// Lower-cases a kernel channel name ("temp1", "in_voltage0") into a sensor-id part.
    static func sanitized(_ text: String) -> String {
        String(text.lowercased().map { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" ? $0 : "_" })
    }

    static func interval(_ value: ConfigDuration?, default fallback: ConfigDuration, driver: String) throws -> Duration {
        let value = value ?? fallback
        guard value.milliseconds >= 100 else {
            throw HardwareConfigError(driver: driver, key: "interval", "\(value) is too short; use at least 100ms")
        }
        return value.duration
    }
}
