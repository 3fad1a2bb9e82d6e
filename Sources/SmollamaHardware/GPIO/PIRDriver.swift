public import Logging
public import SmollamaCore
public import SmollamaSensors

/// HC-SR501 passive-infrared motion sensor on a GPIO input (OUT high = motion). Transitions
/// are pushed as they happen; see `PIRMotionLogic` for warm-up and lockout handling.
public struct PIRDriver: EventSensorDriver {
    public let name: String
    public let sensors: [SensorDescriptor]
    public let interval: Duration
    let input: any GPIOEdgeInput
    let startNanoseconds: UInt64
    let warmUpNanoseconds: UInt64
    let lockoutNanoseconds: UInt64
    let now: @Sendable () -> UInt64
    let logger: Logger?

    public init(
        name: String, input: any GPIOEdgeInput, warmUp: Duration, lockout: Duration, interval: Duration,
        logger: Logger? = nil, now: @escaping @Sendable () -> UInt64 = MonotonicClock.nowNanoseconds
    ) throws {
        self.name = "pir:" + name
        self.logger = logger
        self.input = input
        self.interval = interval
        self.now = now
        startNanoseconds = now()
        warmUpNanoseconds = Self.nanoseconds(warmUp)
        lockoutNanoseconds = Self.nanoseconds(lockout)
        sensors = [
            SensorDescriptor(
                id: try DriverNaming.sensorID(name, "motion", driver: "pir"), name: "\(name) motion", kind: .binary,
                deviceClass: "motion")
        ]
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        return UInt64(max(seconds, 0)) * 1_000_000_000 + UInt64(max(attoseconds, 0) / 1_000_000_000)
    }

    var logic: PIRMotionLogic {
        PIRMotionLogic(startNanoseconds: startNanoseconds, warmUpNanoseconds: warmUpNanoseconds, lockoutNanoseconds: lockoutNanoseconds)
    }

    /// The current level once warmed up; nothing while the module is still settling.
    public func read(now: UTCMillis) async throws -> [SensorSample] {
        guard logic.isWarm(at: self.now()) else { return [] }
        do {
            return [SensorSample(sensor: sensors[0].id, value: try input.value() ? 1 : 0)]
        } catch {
            throw SensorFault(driver: name, "\(error)")
        }
    }

    public func events() -> AsyncThrowingStream<SensorSample, any Error> {
        Self.motion(from: input.edges(), logic: logic, sensor: sensors[0].id, driver: name, logger: logger)
    }

    /// Maps an edge stream through the PIR logic. Separate so recorded traces can be replayed.
    public static func motion(
        from edges: AsyncThrowingStream<GPIOEdgeEvent, any Error>, logic initial: PIRMotionLogic, sensor: SensorID, driver: String,
        logger: Logger? = nil
    ) -> AsyncThrowingStream<SensorSample, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                var logic = initial
                do {
                    for try await edge in edges {
                        GPIOEdgeLogging.noteDropped(edge, sensor: sensor, logger: logger)
                        if let motion = logic.process(edge) {
                            continuation.yield(SensorSample(sensor: sensor, value: motion ? 1 : 0))
                        }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: SensorFault(driver: driver, "\(error)"))
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// `- driver: pir` entry keys.
public struct PIROptions: Decodable, Sendable {
    public var name: String?
    public var line: GPIOLineSpec
    public var chip: String?
    /// The HC-SR501 has no internal pull; its output is push-pull, so the default is `pull_down`
    /// (a defined low if the wire comes loose).
    public var bias: GPIOBias
    /// Time after start before edges count (the module needs ~1 min after power-up).
    public var warmUp: ConfigDuration
    /// The module's blind time after its output falls (~3 s; 2.5 s on most boards).
    public var lockout: ConfigDuration
    public var interval: ConfigDuration?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case driver, name, line, chip, bias, lockout, interval
        case warmUp = "warm_up"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        guard let line = try container.decodeIfPresent(GPIOLineSpec.self, forKey: .line) else {
            throw HardwareConfigError(driver: "pir", key: "line", "required: a line name (GPIO17) or BCM number (17)")
        }
        self.line = line
        chip = try container.decodeIfPresent(String.self, forKey: .chip)
        bias = try container.decodeIfPresent(GPIOBias.self, forKey: .bias) ?? .pullDown
        warmUp = try container.decodeIfPresent(ConfigDuration.self, forKey: .warmUp) ?? .seconds(60)
        lockout = try container.decodeIfPresent(ConfigDuration.self, forKey: .lockout) ?? .seconds(3)
        interval = try container.decodeIfPresent(ConfigDuration.self, forKey: .interval)
        guard lockout <= .seconds(10) else {
            throw HardwareConfigError(driver: "pir", key: "lockout", "\(lockout) is longer than any HC-SR501 lockout (~3s)")
        }
    }
}
