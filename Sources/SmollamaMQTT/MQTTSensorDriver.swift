import Foundation
public import Logging
public import SmollamaCore
public import SmollamaSensors
import Synchronization

/// The `mqtt` driver kind: sensors that other devices publish (Zigbee2MQTT, Tasmota, ESPHome,
/// anything sending numbers). It subscribes to the configured topics on the node's MQTT
/// connection and pushes each extracted value to the scheduler the moment it arrives.
///
/// Payloads are data, never instructions: only the extracted number is kept. Malformed ones
/// (not JSON, wrong types, unknown on/off words, too large) are counted per sensor with the
/// reason (`rejectedCount`/`lastError` in `smollama sensors` and `status`), logged at most once a
/// minute per sensor by the scheduler, and dropped.
public struct MQTTSensorDriver: LiveSensorDriver {
    public struct SensorOptions: Codable, Sendable, Hashable {
        /// The sensor id is `<driver name>.<key>`.
        public var key = ""
        public var topic = ""
        /// Dotted JSON key path; empty for a payload that is the value itself.
        public var path = ""
        public var kind = SensorDescriptor.Kind.numeric
        public var name = ""
        public var unit = ""
        public var deviceClass = ""
        public var range: [Double] = []
        /// Words (or JSON booleans/numbers: `payload_on: false`) meaning on and off.
        public var payloadOn = "ON"
        public var payloadOff = "OFF"
        /// Binary only: swap on and off (a Zigbee2MQTT door sends `"contact": false` when open).
        public var invert = false

        enum CodingKeys: String, CodingKey, CaseIterable {
            case key, topic, path, kind, name, unit, range, invert
            case deviceClass = "device_class"
            case payloadOn = "payload_on"
            case payloadOff = "payload_off"
        }

        public init() {}
        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            key = try c.decode(String.self, forKey: .key)
            topic = try c.decode(String.self, forKey: .topic)
            path = try c.decodeIfPresent(String.self, forKey: .path) ?? path
            kind = try c.decodeIfPresent(SensorDescriptor.Kind.self, forKey: .kind) ?? kind
            name = try c.decodeIfPresent(String.self, forKey: .name) ?? name
            unit = try c.decodeIfPresent(String.self, forKey: .unit) ?? unit
            deviceClass = try c.decodeIfPresent(String.self, forKey: .deviceClass) ?? deviceClass
            range = try c.decodeIfPresent([Double].self, forKey: .range) ?? range
            payloadOn = try c.decodeIfPresent(String.self, forKey: .payloadOn) ?? payloadOn
            payloadOff = try c.decodeIfPresent(String.self, forKey: .payloadOff) ?? payloadOff
            invert = try c.decodeIfPresent(Bool.self, forKey: .invert) ?? invert
            guard !invert || kind == .binary else {
                throw DecodingError.dataCorruptedError(
                    forKey: .invert, in: c, debugDescription: "only binary sensors can be inverted; add kind: binary or remove invert")
            }
            guard PayloadExtractor.word(.string(payloadOn)) != PayloadExtractor.word(.string(payloadOff)) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .payloadOff, in: c, debugDescription: "payload_on and payload_off are the same word; make them differ")
            }
            guard SensorID.validate(key), !key.contains(".") else {
                throw DecodingError.dataCorruptedError(
                    forKey: .key, in: c,
                    debugDescription: "'\(key)' is not a sensor key; use lower-case letters, digits, _ and -")
            }
            guard !topic.isEmpty, !topic.contains("#"), !topic.contains("+") else {
                throw DecodingError.dataCorruptedError(
                    forKey: .topic, in: c,
                    debugDescription: "'\(topic)' is not a topic; give the exact topic, e.g. zigbee2mqtt/living_room")
            }
            guard range.isEmpty || (range.count == 2 && range[0] <= range[1]) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .range, in: c, debugDescription: "write [min, max] with min <= max, e.g. [-40, 85]")
            }
        }
    }

    public struct Options: Codable, Sendable, Hashable {
        public var name = "mqtt"
        /// Payloads larger than this are malformed (a sensor value is a few bytes).
        public var maxPayload = 65536
        public var sensors: [SensorOptions] = []

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, sensors
            case maxPayload = "max_payload"
        }

        public init() {}
        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodeIfPresent(String.self, forKey: .name) ?? name
            maxPayload = try c.decodeIfPresent(Int.self, forKey: .maxPayload) ?? maxPayload
            sensors = try c.decodeIfPresent([SensorOptions].self, forKey: .sensors) ?? sensors
            guard !sensors.isEmpty else {
                throw DecodingError.dataCorruptedError(
                    forKey: .sensors, in: c,
                    debugDescription: "list at least one sensor: key, topic and (for JSON) path")
            }
            guard maxPayload >= 16 else {
                throw DecodingError.dataCorruptedError(forKey: .maxPayload, in: c, debugDescription: "must be at least 16")
            }
        }
    }

    /// Counters for `status` and tests.
    public struct Statistics: Sendable, Hashable, Codable {
        public var received = 0
        public var extracted = 0
        public var malformed = 0
        public var missing = 0
        public var lastProblem: String?
    }

    struct Route: Sendable {
        var sensor: SensorID
        var topic: String
        var extractor: PayloadExtractor
    }

    public let name: String
    public let sensors: [SensorDescriptor]
    /// Pushed values only; the scheduler's poll finds nothing to read.
    public let interval: Duration = .seconds(3600)
    private let routes: [Route]
    private let bus: any TopicSubscriber
    private let logger: Logger
    private let counters = Counters()
    private let registry: MQTTDriverStatistics?

    public static let kind = SensorDriverKind(
        name: "mqtt", summary: "values other devices publish over MQTT (Zigbee2MQTT, Tasmota, plain numbers)"
    ) { entry, context in
        let options = try Options(from: entry)
        guard let bus = context.topics else {
            throw SensorFault(driver: options.name,
                              "the mqtt driver needs the node's MQTT connection: set mqtt.broker (host:port or managed)")
        }
        return MQTTSensorDriver(options: options, bus: bus, logger: context.logger,
                                statistics: bus as? any MQTTDriverStatisticsProvider)
    }

    public init(options: Options, bus: any TopicSubscriber, logger: Logger,
                statistics: (any MQTTDriverStatisticsProvider)? = nil) {
        name = options.name
        self.bus = bus
        self.logger = logger
        sensors = options.sensors.map { sensor in
            SensorDescriptor(
                id: SensorID("\(options.name).\(sensor.key)"), name: sensor.name.isEmpty ? sensor.key : sensor.name,
                kind: sensor.kind, unit: sensor.kind == .binary ? "" : sensor.unit,
                deviceClass: sensor.deviceClass.isEmpty ? nil : sensor.deviceClass,
                range: sensor.range.count == 2 ? sensor.range[0]...sensor.range[1] : nil)
        }
        routes = options.sensors.map { sensor in
            Route(sensor: SensorID("\(options.name).\(sensor.key)"), topic: sensor.topic,
                  extractor: PayloadExtractor(path: sensor.path, kind: sensor.kind, payloadOn: sensor.payloadOn,
                                              payloadOff: sensor.payloadOff, invert: sensor.invert,
                                              maxPayload: options.maxPayload))
        }
        registry = statistics?.driverStatistics
        registry?.register(driver: options.name)
    }

    public var statistics: Statistics { counters.state.withLock { $0 } }

    public func read(now: UTCMillis) async throws -> [SensorSample] { [] }

    public func updates() -> AsyncThrowingStream<SensorUpdate, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: SensorUpdate.self,
                                                                    bufferingPolicy: .bufferingNewest(4096))
        let topics = Array(Set(routes.map(\.topic))).sorted()
        logger.debug("mqtt driver subscribing", metadata: ["smollama.sensor.driver": "\(name)",
                                                          "smollama.mqtt.topics": "\(topics.joined(separator: ","))"])
        let subscription = bus.subscribe(
            to: topics,
            onMessage: { message in
                for update in self.updates(from: message) { continuation.yield(update) }
            },
            onFinish: { continuation.finish() })
        continuation.onTermination = { _ in subscription.cancel() }
        return stream
    }

    /// Every value this message carries for this driver's sensors, and a refusal (with the
    /// reason) for each sensor it was malformed for; the driver's totals are counted here.
    func updates(from message: TopicMessage) -> [SensorUpdate] {
        var updates: [SensorUpdate] = []
        var samples = 0
        var problems: [PayloadProblem] = []
        for route in routes where route.topic == message.topic {
            switch route.extractor.value(from: message.payload) {
            case .success(let value):
                updates.append(.sample(SensorSample(sensor: route.sensor, value: value)))
                samples += 1
            case .failure(let problem):
                problems.append(problem)
                if problem.isMalformed { updates.append(.rejected(route.sensor, reason: "\(message.topic): \(problem)")) }
            }
        }
        // A message is malformed once, however many sensors read it.
        let malformed = problems.first(where: \.isMalformed)
        counters.state.withLock { stats in
            stats.received += 1
            stats.extracted += samples
            if let malformed {
                stats.malformed += 1
                stats.lastProblem = "\(message.topic): \(malformed)"
            } else if !problems.isEmpty {
                stats.missing += 1
            }
        }
        if let malformed {
            registry?.recordMalformed(driver: name, problem: "\(message.topic): \(malformed)")
            // Each sensor's refusal is logged by the scheduler, at most once a minute.
        }
        return updates
    }
}

final class Counters: Sendable {
    let state = Mutex(MQTTSensorDriver.Statistics())
}

/// Malformed-payload counts of every `mqtt` driver, for `smollama status`.
public final class MQTTDriverStatistics: Sendable {
    public struct Entry: Codable, Sendable, Hashable {
        public var malformed = 0
        public var lastProblem: String?
    }

    private let entries = Mutex([String: Entry]())
    public init() {}

    func register(driver: String) { entries.withLock { $0[driver, default: Entry()] = $0[driver] ?? Entry() } }

    func recordMalformed(driver: String, problem: String) {
        entries.withLock {
            $0[driver, default: Entry()].malformed += 1
            $0[driver, default: Entry()].lastProblem = problem
        }
    }

    public var snapshot: [String: Entry] { entries.withLock { $0 } }
}

/// A bus that also collects the ingest drivers' statistics (the node's MQTT client does).
public protocol MQTTDriverStatisticsProvider: Sendable {
    var driverStatistics: MQTTDriverStatistics { get }
}
