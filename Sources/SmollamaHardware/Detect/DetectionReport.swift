import Foundation
import SmollamaCore

/// One thing `sensors detect` found, with the config entry that would read it (if any).
public struct DetectedDevice: Hashable, Sendable, Codable {
    /// `gpiochip`, `i2c`, `spi`, `w1`, `iio`, `hwmon`.
    public var bus: String
    /// Where it was found (`/dev/i2c-1 0x76`, `/sys/bus/iio/devices/iio:device0`).
    public var location: String
    /// What it is, in words.
    public var summary: String
    /// The suggested `sensors:` entry as ordered key/value pairs (values already YAML scalars),
    /// or nil when the device needs wiring decisions the detector cannot make.
    public var entry: [ConfigPair]?
    /// Why no entry was suggested, or what to check.
    public var note: String?

    public init(bus: String, location: String, summary: String, entry: [ConfigPair]? = nil, note: String? = nil) {
        self.bus = bus
        self.location = location
        self.summary = summary
        self.entry = entry
        self.note = note
    }
}

/// One `key: value` line of a config entry.
public struct ConfigPair: Hashable, Sendable, Codable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// Everything found, and the snippet to paste into the config file.
public struct DetectionReport: Hashable, Sendable, Codable {
    public var devices: [DetectedDevice]

    public init(devices: [DetectedDevice]) { self.devices = devices }

    /// A `sensors.drivers` list for every device with a suggested entry; notes become comments.
    /// It is a complete YAML document, so it can be checked on its own and merged into a config.
    public var configSnippet: String {
        var lines = ["sensors:", "  drivers:"]
        let entries = devices.compactMap { device in device.entry.map { (device, $0) } }
        if entries.isEmpty { lines = ["sensors:", "  drivers: []  # nothing readable was found"] }
        for (device, entry) in entries {
            lines.append("    # \(device.summary) at \(device.location)")
            for (index, pair) in entry.enumerated() {
                lines.append((index == 0 ? "    - " : "      ") + "\(pair.key): \(pair.value)")
            }
        }
        let notes = devices.filter { $0.entry == nil }
        if !notes.isEmpty {
            lines.append("# Found, not configured automatically:")
            for device in notes {
                lines.append("#   \(device.location): \(device.summary)" + (device.note.map { " — \($0)" } ?? ""))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A human-readable table of what was found.
    public var text: String {
        if devices.isEmpty { return "No hardware sensors found.\n" }
        return devices.map { device in
            "\(device.bus.padding(toLength: 9, withPad: " ", startingAt: 0)) \(device.location): \(device.summary)"
                + (device.note.map { "\n          \($0)" } ?? "")
        }.joined(separator: "\n") + "\n"
    }
}

extension DetectionReport {
    private struct JSONForm: Encodable {
        var devices: [DetectedDevice]
        var configSnippet: String
    }

    /// `sensors detect --json`: the devices plus the snippet, snake_case keys, stable order.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .snakeCaseWords
        return String(decoding: try encoder.encode(JSONForm(devices: devices, configSnippet: configSnippet)), as: UTF8.self)
    }
}
