public import Foundation
public import Logging
import SmollamaCore

/// Where drivers find the machine. Roots are injectable so every driver runs on fixture trees
/// in tests (`SMOLLAMA_SYSFS_ROOT`, `SMOLLAMA_DEV_ROOT`).
public struct DriverContext: Sendable {
    /// Root under which `/sys` and `/proc` are looked up ("/" on a real node).
    public var systemRoot: String
    /// Root under which `/dev` nodes are opened ("/" on a real node).
    public var deviceRoot: String
    /// The node's data directory (disk-free metrics look here).
    public var dataDirectory: String
    public var logger: Logger
    /// The node's message bus (its MQTT connection), when `mqtt.broker` is set; drivers that
    /// ingest pushed messages (`mqtt`) subscribe here.
    public var topics: (any TopicSubscriber)?
    /// The node's time zone (`node.timezone`), for drivers that keep local time (the simulated house).
    public var timeZone: TimeZone

    public init(systemRoot: String = "/", deviceRoot: String = "/", dataDirectory: String, logger: Logger,
                topics: (any TopicSubscriber)? = nil, timeZone: TimeZone = TimeZone(identifier: "UTC") ?? .current) {
        self.timeZone = timeZone
        self.systemRoot = systemRoot
        self.deviceRoot = deviceRoot
        self.dataDirectory = dataDirectory
        self.logger = logger
        self.topics = topics
    }

    /// `path` (absolute, like "/sys/class/thermal") under the system root.
    public func systemPath(_ path: String) -> String { join(systemRoot, path) }
    /// `path` (absolute, like "/dev/i2c-1") under the device root.
    public func devicePath(_ path: String) -> String { join(deviceRoot, path) }

    private func join(_ root: String, _ path: String) -> String {
        root == "/" ? path : (root.hasSuffix("/") ? String(root.dropLast()) : root) + path
    }
}

/// One kind of driver that can be named in the config's `sensors:` list as `driver: <name>`.
/// `make` decodes the entry's own keys (rejecting unknown ones) and builds the driver.
public struct SensorDriverKind: Sendable {
    public var name: String
    /// One line for `smollama sensors kinds` and config errors.
    public var summary: String
    public var make: @Sendable (_ entry: any Decoder, _ context: DriverContext) throws -> any SensorDriver

    public init(
        name: String, summary: String,
        make: @escaping @Sendable (_ entry: any Decoder, _ context: DriverContext) throws -> any SensorDriver
    ) {
        self.name = name
        self.summary = summary
        self.make = make
    }
}

/// The driver kinds this build knows, by config name.
public struct SensorDriverRegistry: Sendable {
    public private(set) var kinds: [String: SensorDriverKind] = [:]

    public init(_ kinds: [SensorDriverKind]) {
        for kind in kinds { self.kinds[kind.name] = kind }
    }

    public func kind(named name: String) -> SensorDriverKind? { kinds[name] }
}
