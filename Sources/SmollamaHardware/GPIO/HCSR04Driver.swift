public import SmollamaCore
public import SmollamaSensors

/// Sends one 10 µs trigger pulse and returns the echo line's edges seen within ~50 ms.
public protocol UltrasonicPinger: Sendable {
    func ping() throws -> (triggerNanoseconds: UInt64, echo: [GPIOEdgeEvent])
}

/// HC-SR04 ultrasonic distance: a trigger output and an echo input with edge timestamps. Takes
/// the median of `samples` pings spaced at least 60 ms apart. Nothing within ~4 m reports no
/// sample; no echo pulse at all is a fault (wiring or power).
public struct HCSR04Driver: SensorDriver {
    public let name: String
    public let sensors: [SensorDescriptor]
    public let interval: Duration
    let pinger: any UltrasonicPinger
    let samples: Int
    let io: BlockingIO
    let now: @Sendable () -> UInt64
    let pause: @Sendable (UInt32) -> Void
    private let lastPing = Locked<UInt64?>(nil)

    public init(
        name: String, pinger: any UltrasonicPinger, samples: Int, interval: Duration,
        now: @escaping @Sendable () -> UInt64 = MonotonicClock.nowNanoseconds,
        pause: @escaping @Sendable (UInt32) -> Void = DevicePause.real
    ) throws {
        self.name = "hc_sr04:" + name
        self.pinger = pinger
        self.samples = samples
        self.interval = interval
        self.now = now
        self.pause = pause
        io = BlockingIO(label: "hc_sr04.\(name)")
        sensors = [
            SensorDescriptor(
                id: try DriverNaming.sensorID(name, "distance", driver: "hc_sr04"), name: "\(name) distance",
                unit: "cm", deviceClass: "distance", range: 2...400)
        ]
    }

    public func read(now: UTCMillis) async throws -> [SensorSample] {
        let outcomes = try await io.run { [self] in try pingSeveral() }
        if let distance = HCSR04Ranging.median(outcomes) {
            return [SensorSample(sensor: sensors[0].id, value: distance)]
        }
        if outcomes.contains(.outOfRange) { return [] }
        throw SensorFault(
            driver: name,
            "no echo pulse after \(outcomes.count) pings; check TRIG/ECHO wiring, 5 V supply and the ECHO divider to 3.3 V")
    }

    func pingSeveral() throws -> [HCSR04Ranging.Outcome] {
        var outcomes: [HCSR04Ranging.Outcome] = []
        for _ in 0..<samples {
            if let last = lastPing.value {
                let elapsed = now() &- last
                if elapsed < HCSR04Ranging.minimumPingIntervalNanoseconds {
                    pause(UInt32((HCSR04Ranging.minimumPingIntervalNanoseconds - elapsed) / 1000))
                }
            }
            let result: (triggerNanoseconds: UInt64, echo: [GPIOEdgeEvent])
            do {
                result = try pinger.ping()
            } catch {
                throw SensorFault(driver: name, "\(error)")
            }
            lastPing.value = result.triggerNanoseconds
            outcomes.append(HCSR04Ranging.measure(echo: result.echo, triggerNanoseconds: result.triggerNanoseconds))
        }
        return outcomes
    }
}

/// `- driver: hc_sr04` entry keys. Naming `trigger:` here is what allows that line to be driven
/// as an output; no other line is ever set.
public struct HCSR04Options: Decodable, Sendable {
    public var name: String?
    public var trigger: GPIOLineSpec
    public var echo: GPIOLineSpec
    public var chip: String?
    /// Pings per reading (median taken).
    public var samples: Int
    public var interval: ConfigDuration?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case driver, name, trigger, echo, chip, samples, interval
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        guard let trigger = try container.decodeIfPresent(GPIOLineSpec.self, forKey: .trigger) else {
            throw HardwareConfigError(driver: "hc_sr04", key: "trigger", "required: the TRIG line (e.g. GPIO23)")
        }
        guard let echo = try container.decodeIfPresent(GPIOLineSpec.self, forKey: .echo) else {
            throw HardwareConfigError(driver: "hc_sr04", key: "echo", "required: the ECHO line (e.g. GPIO24), through a 5 V→3.3 V divider")
        }
        guard trigger != echo else {
            throw HardwareConfigError(driver: "hc_sr04", key: "echo", "trigger and echo must be different lines")
        }
        self.trigger = trigger
        self.echo = echo
        chip = try container.decodeIfPresent(String.self, forKey: .chip)
        samples = try container.decodeIfPresent(Int.self, forKey: .samples) ?? 3
        interval = try container.decodeIfPresent(ConfigDuration.self, forKey: .interval)
        guard (1...9).contains(samples) else {
            throw HardwareConfigError(driver: "hc_sr04", key: "samples", "\(samples) is outside 1…9")
        }
    }
}
