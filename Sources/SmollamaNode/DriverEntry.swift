import Foundation
public import SmollamaCore
import SmollamaSensors
import Yams

/// One entry of `sensors.drivers`: the driver kind, the scheduler's keys every entry may have,
/// and the kind's own keys (kept as YAML text and decoded by the kind when the node starts).
public struct DriverEntry: Sendable, Hashable {
    /// Keys the scheduler reads from every entry; all other keys belong to the driver kind.
    static let commonKeys: Set<String> = ["driver", "enabled", "on_change", "heartbeat", "timeout"]

    public var kind: String
    public var position: Int
    public var enabled = true
    public var onChange = false
    public var heartbeat = ConfigDuration.minutes(5)
    public var timeout = ConfigDuration.seconds(30)
    /// The kind's own keys as a YAML mapping.
    public var options = "{}"

    public init(kind: String, position: Int, options: String = "{}") {
        self.kind = kind
        self.position = position
        self.options = options
    }

    /// A config with no `drivers:` key watches this machine only: made-up readings come only
    /// from a simulated house someone asked for (`init --demo` writes it), never by default.
    /// (`init` writes what `sensors detect` finds; detection is not repeated at every start.)
    public static let defaults = [
        DriverEntry(kind: "system", position: 0),
    ]

    var keyPath: String { "sensors.drivers[\(position)]" }

    /// Splits a YAML mapping into the common keys and the kind's own.
    static func parse(_ node: Node, position: Int, file: String) throws -> DriverEntry {
        let keyPath = "sensors.drivers[\(position)]"
        guard var mapping = node.mapping else {
            throw NodeError.invalidConfig(path: file, key: keyPath, problem: "expected a mapping with a 'driver' key")
        }
        guard let kind = mapping["driver"]?.string, !kind.isEmpty else {
            throw NodeError.invalidConfig(
                path: file, key: keyPath + ".driver", problem: "missing: say which driver, e.g. driver: system")
        }
        var entry = DriverEntry(kind: kind, position: position)
        func scalar<T>(_ key: String, _ convert: (Node) -> T?, expected: String) throws -> T? {
            guard let value = mapping[key] else { return nil }
            guard let converted = convert(value) else {
                throw NodeError.invalidConfig(path: file, key: "\(keyPath).\(key)", problem: "expected \(expected)")
            }
            return converted
        }
        func duration(_ key: String) throws -> ConfigDuration? {
            try scalar(key, { $0.string.flatMap(ConfigDuration.init(parsing:)) }, expected: "a duration like 30s or 5m")
        }
        entry.enabled = try scalar("enabled", \.bool, expected: "true or false") ?? entry.enabled
        entry.onChange = try scalar("on_change", \.bool, expected: "true or false") ?? entry.onChange
        entry.heartbeat = try duration("heartbeat") ?? entry.heartbeat
        entry.timeout = try duration("timeout") ?? entry.timeout
        for key in commonKeys { mapping[key] = nil }
        entry.options = try Yams.serialize(node: .mapping(mapping))
        return entry
    }

    /// Builds the driver this entry describes.
    func makeDriver(registry: SensorDriverRegistry, context: DriverContext, file: String) throws -> ScheduledDriver {
        guard let kind = registry.kind(named: kind) else {
            throw NodeError.unknownDriver(key: keyPath + ".driver", name: self.kind, known: Array(registry.kinds.keys))
        }
        let driver: any SensorDriver
        do {
            let node = try Yams.compose(yaml: options) ?? .mapping(.init([]))
            let box = try YAMLDecoder().decode(
                DriverBox.self, from: node, userInfo: [DriverBox.kindKey: kind, DriverBox.contextKey: context])
            driver = box.driver
        } catch {
            throw ConfigLoader.describe(error, file: file, prefix: keyPath)
        }
        return ScheduledDriver(driver: driver, onChange: onChange, heartbeat: heartbeat.duration,
                               timeout: timeout.duration)
    }
}

/// Lets a kind decode its own keys with the YAML decoder it is handed.
private struct DriverBox: Decodable {
    static let kindKey = CodingUserInfoKey(rawValue: "smollama.driver.kind")!
    static let contextKey = CodingUserInfoKey(rawValue: "smollama.driver.context")!
    let driver: any SensorDriver

    init(from decoder: any Decoder) throws {
        guard let kind = decoder.userInfo[Self.kindKey] as? SensorDriverKind,
              let context = decoder.userInfo[Self.contextKey] as? DriverContext
        else { throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "internal: no driver kind")) }
        driver = try kind.make(decoder, context)
    }
}
