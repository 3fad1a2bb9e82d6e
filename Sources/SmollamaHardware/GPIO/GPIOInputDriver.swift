public import Logging
public import SmollamaCore
public import SmollamaSensors

/// A binary input on a GPIO line (door contact, button, float switch, rain sensor), reported as
/// transitions the moment the kernel sees an edge, and polled at `interval` as a fallback.
public struct GPIOInputDriver: EventSensorDriver {
    public let name: String
    public let sensors: [SensorDescriptor]
    public let interval: Duration
    let input: any GPIOEdgeInput
    let logger: Logger?

    public init(name: String, deviceClass: String?, input: any GPIOEdgeInput, interval: Duration, logger: Logger? = nil) throws {
        self.name = "gpio:" + name
        self.logger = logger
        self.input = input
        self.interval = interval
        sensors = [
            SensorDescriptor(
                id: try DriverNaming.sensorID(name, "state", driver: "gpio"), name: "\(name) state", kind: .binary,
                deviceClass: deviceClass)
        ]
    }

    public func read(now: UTCMillis) async throws -> [SensorSample] {
        do {
            return [SensorSample(sensor: sensors[0].id, value: try input.value() ? 1 : 0)]
        } catch {
            throw SensorFault(driver: name, "\(error)")
        }
    }

    public func events() -> AsyncThrowingStream<SensorSample, any Error> {
        let id = sensors[0].id
        let name = name
        let logger = logger
        let edges = input.edges()
        return AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    var last: Bool?
                    for try await edge in edges {
                        GPIOEdgeLogging.noteDropped(edge, sensor: id, logger: logger)
                        guard edge.level != last else { continue }
                        last = edge.level
                        continuation.yield(SensorSample(sensor: id, value: edge.level ? 1 : 0))
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: SensorFault(driver: name, "\(error)"))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// Dropped edges are facts worth a warning: the kernel's buffer overflowed, so a short pulse
/// (a door opened and closed) may be missing from the log.
enum GPIOEdgeLogging {
    static func noteDropped(_ edge: GPIOEdgeEvent, sensor: SensorID, logger: Logger?) {
        guard edge.missedBefore > 0 else { return }
        logger?.warning(
            "GPIO events dropped by the kernel",
            metadata: [
                "smollama.sensor.id": "\(sensor)", "smollama.gpio.offset": "\(edge.offset)",
                "smollama.gpio.dropped": "\(edge.missedBefore)",
            ])
    }
}

/// The `debounce:` key of GPIO inputs, as the kernel's microseconds.
enum GPIODebounce {
    static func microseconds(_ value: ConfigDuration?, driver: String) throws -> UInt32? {
        guard let value else { return nil }
        guard value.milliseconds <= 1000 else {
            throw HardwareConfigError(driver: driver, key: "debounce", "\(value) is too long; kernel debounce is for contact bounce (1ms…100ms)")
        }
        return UInt32(value.milliseconds * 1000)
    }
}

/// `- driver: gpio` entry keys.
public struct GPIOInputOptions: Decodable, Sendable {
    public var name: String?
    /// `GPIO17` (line name) or `17` (BCM number on the header chip).
    public var line: GPIOLineSpec
    /// Chip label to use instead of the header chip (`pinctrl-rp1`, …); never a chip number.
    public var chip: String?
    public var bias: GPIOBias
    public var activeLow: Bool
    /// Kernel debounce period, e.g. `10ms`.
    public var debounce: ConfigDuration?
    /// Home Assistant device class (`door`, `window`, `moisture`, …).
    public var deviceClass: String?
    public var interval: ConfigDuration?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case driver, name, line, chip, bias, debounce, interval
        case activeLow = "active_low"
        case deviceClass = "device_class"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        guard let line = try container.decodeIfPresent(GPIOLineSpec.self, forKey: .line) else {
            throw HardwareConfigError(driver: "gpio", key: "line", "required: a line name (GPIO17) or BCM number (17)")
        }
        self.line = line
        chip = try container.decodeIfPresent(String.self, forKey: .chip)
        bias = try container.decodeIfPresent(GPIOBias.self, forKey: .bias) ?? .asIs
        activeLow = try container.decodeIfPresent(Bool.self, forKey: .activeLow) ?? false
        debounce = try container.decodeIfPresent(ConfigDuration.self, forKey: .debounce)
        deviceClass = try container.decodeIfPresent(String.self, forKey: .deviceClass)
        interval = try container.decodeIfPresent(ConfigDuration.self, forKey: .interval)
        _ = try GPIODebounce.microseconds(debounce, driver: "gpio")
    }

    var settings: GPIOLineSettings {
        GPIOLineSettings(
            direction: .input, edgeEvents: true, bias: bias, activeLow: activeLow,
            debounceMicroseconds: (try? GPIODebounce.microseconds(debounce, driver: "gpio")) ?? nil)
    }
}
