public import SmollamaCore

/// A source of sensor values: one device or one simulated room may offer several sensors
/// (a BME280 gives temperature, humidity and pressure).
///
/// Drivers are polled by `SensorScheduler` at their own interval. A read that throws counts as a
/// fault for every sensor the driver offers; values that are NaN, infinite or outside a sensor's
/// declared range are refused by the scheduler, so a driver may pass through what it measured.
public protocol SensorDriver: Sendable {
    /// Unique among the node's drivers; names the driver in logs and status (`system`, `house`).
    var name: String { get }
    /// The sensors this driver reports at start. Fixed for the driver's lifetime, except that a
    /// `LiveSensorDriver` may adopt more while it runs (`SensorUpdate.adopted`).
    var sensors: [SensorDescriptor] { get }
    /// How often the scheduler calls `read`.
    var interval: Duration { get }
    /// Reads every sensor once. `now` is the node clock's UTC milliseconds, for drivers whose
    /// values depend on the time of day (the simulated house).
    func read(now: UTCMillis) async throws -> [SensorSample]
    /// Whether the values are made up (the demo house) rather than measured: the store keeps it
    /// with each sensor, and the CLI and the hub mark such sensors and nodes.
    var isSimulated: Bool { get }
}

extension SensorDriver {
    public var isSimulated: Bool { false }
}

/// A driver that also pushes values the moment they happen (GPIO edges, MQTT messages)
/// instead of waiting to be polled. The scheduler consumes `events()` alongside polling.
public protocol EventSensorDriver: SensorDriver {
    func events() -> AsyncThrowingStream<SensorSample, any Error>
}

/// What a `LiveSensorDriver` reports as it happens.
public enum SensorUpdate: Hashable, Sendable {
    /// A value, checked and stored like a polled one.
    case sample(SensorSample)
    /// A message that gave this sensor no value (not JSON, wrong type, unknown state word...),
    /// with the reason: counted per sensor (`rejectedCount`, `lastError`), logged at most once a
    /// minute per sensor.
    case rejected(SensorID, reason: String)
    /// A sensor that appeared (or whose description changed) while the driver runs: registered
    /// in the store like a configured one before any of its values.
    case adopted(SensorDescriptor)
    /// The device says it is gone (availability `offline`): the sensor is faulty, with no value,
    /// until `.available`.
    case unavailable(SensorID, reason: String)
    case available(SensorID)
    /// The announcement was withdrawn: the sensor takes no more values (its history stays).
    case removed(SensorID)
}

/// A driver that pushes values, refusals and sensors that come and go (MQTT, MQTT discovery).
/// The scheduler consumes `updates()` alongside polling.
public protocol LiveSensorDriver: SensorDriver {
    func updates() -> AsyncThrowingStream<SensorUpdate, any Error>
}

/// A fault a driver reports when it knows what went wrong; the message reaches `status` and logs.
public struct SensorFault: Error, Hashable, Sendable, CustomStringConvertible {
    public var driver: String
    public var message: String

    public init(driver: String, _ message: String) {
        self.driver = driver
        self.message = message
    }

    public var description: String { "\(driver): \(message)" }
}
