import Foundation
public import Logging
public import SmollamaCore
public import SmollamaSensors
import Synchronization

/// The `mqtt_discovery` driver kind: adopts the sensors a home's devices already announce with
/// Home Assistant MQTT discovery (Zigbee2MQTT, Tasmota, ESPHome), in one line of config:
///
///     - driver: mqtt_discovery
///
/// It subscribes to `<prefix>/+/+/config` and `<prefix>/+/+/+/config`; every `sensor` and
/// `binary_sensor` announced there becomes a sensor `<room>.<entity id>` while the node runs
/// (`SensorUpdate.adopted`: stored and shown like a configured one), read from its state topic
/// with its `value_template` and `payload_on`/`payload_off`. Availability `offline` makes it
/// faulty (no value) until `online`; an empty retained config removes it. Entities announced by
/// a smollama node (this one's own discovery messages included) are never adopted.
public struct MQTTDiscoveryDriver: LiveSensorDriver {
    public struct Options: Codable, Sendable, Hashable {
        /// Names the driver; also the room of sensors with no area (`<name>.<entity id>`).
        public var name = "ha"
        public var prefix = "homeassistant"
        /// Globs on entity ids (`<node_id>_<object_id>`, as `sensors discover` lists them);
        /// empty = every entity. An entity its announcement disables by default is adopted only
        /// when `include` names it.
        public var include: [String] = []
        public var exclude: [String] = []
        /// A glob on entity ids, or an area a device suggests (`suggested_area`), to a room.
        public var area: [String: String] = [:]
        public var maxPayload = 65536

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, prefix, include, exclude, area
            case maxPayload = "max_payload"
        }

        public init() {}
        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodeIfPresent(String.self, forKey: .name) ?? name
            prefix = try c.decodeIfPresent(String.self, forKey: .prefix) ?? prefix
            include = try c.decodeIfPresent([String].self, forKey: .include) ?? include
            exclude = try c.decodeIfPresent([String].self, forKey: .exclude) ?? exclude
            area = try c.decodeIfPresent([String: String].self, forKey: .area) ?? area
            maxPayload = try c.decodeIfPresent(Int.self, forKey: .maxPayload) ?? maxPayload
            guard Self.isRoom(name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .name, in: c, debugDescription: "'\(name)' is not a driver name; use lower-case letters, digits and _")
            }
            guard !prefix.isEmpty, !prefix.contains(where: { "+#".contains($0) }), !prefix.hasPrefix("/"),
                  !prefix.hasSuffix("/") else {
                throw DecodingError.dataCorruptedError(
                    forKey: .prefix, in: c, debugDescription: "'\(prefix)' is not a topic prefix; e.g. homeassistant")
            }
            for (key, room) in area.sorted(by: { $0.key < $1.key }) where !Self.isRoom(room) {
                throw DecodingError.dataCorruptedError(
                    forKey: .area, in: c,
                    debugDescription: "'\(room)' (for '\(key)') is not a room name; use lower-case letters, digits and _")
            }
            guard maxPayload >= 16 else {
                throw DecodingError.dataCorruptedError(forKey: .maxPayload, in: c, debugDescription: "must be at least 16")
            }
        }

        static func isRoom(_ text: String) -> Bool { SensorID.validate(text) && !text.contains(".") && text.count <= 15 }

        /// The discovery wildcards.
        public var filters: [String] { Self.filters(prefix: prefix) }
        public static func filters(prefix: String) -> [String] { ["\(prefix)/+/+/config", "\(prefix)/+/+/+/config"] }

        /// Whether (and as which sensor) an announced entity is adopted, or why not.
        public func decide(_ entity: HAAnnouncement) -> Result<SensorDescriptor, Skip> {
            if let glob = exclude.first(where: { Glob.matches($0, entity.entityID) }) {
                return .failure(Skip("matches exclude '\(glob)'"))
            }
            if !include.isEmpty, !include.contains(where: { Glob.matches($0, entity.entityID) }) {
                return .failure(Skip("matches no include glob"))
            }
            if include.isEmpty, !entity.enabledByDefault {
                return .failure(Skip("disabled by default in its announcement; name it in include to adopt it"))
            }
            let room = self.room(for: entity)
            let id = SensorID("\(room).\(entity.entityID)")
            guard SensorID.validate(id.rawValue) else { return .failure(Skip("'\(id)' is not a valid sensor id")) }
            return .success(SensorDescriptor(
                id: id, name: entity.name, kind: entity.kind, unit: entity.kind == .binary ? "" : entity.unit,
                deviceClass: entity.deviceClass))
        }

        func room(for entity: HAAnnouncement) -> String {
            if let room = area.sorted(by: { $0.key < $1.key }).first(where: { Glob.matches($0.key, entity.entityID) })?.value {
                return room
            }
            if let suggested = entity.suggestedArea {
                if let room = area.first(where: { $0.key.lowercased() == suggested.lowercased() })?.value { return room }
                let safe = HAAnnouncement.safeID(suggested.replacingOccurrences(of: " ", with: "_")).replacingOccurrences(of: "-", with: "_")
                if Self.isRoom(safe) { return safe }
            }
            return name
        }
    }

    public struct Skip: Error, Hashable, Sendable, CustomStringConvertible {
        public var reason: String
        public init(_ reason: String) { self.reason = reason }
        public var description: String { reason }
    }

    /// Counters and the entities not adopted, for tests and logs.
    public struct Statistics: Sendable, Hashable {
        public var adopted: Set<SensorID> = []
        /// Entity id → why it was not adopted (an unsupported template, a switch, our own...).
        public var skipped: [String: String] = [:]
        public var removed = 0
        public var rejected = 0
    }

    public let name: String
    /// Nothing at start: sensors are adopted as their announcements arrive.
    public let sensors: [SensorDescriptor] = []
    public let interval: Duration = .seconds(3600)
    public let options: Options
    private let bus: any TopicSubscriber
    private let logger: Logger
    private let box = DiscoveryBox()
    /// The per-driver malformed counts `status` shows for every MQTT driver.
    private let registry: MQTTDriverStatistics?

    public static let kind = SensorDriverKind(
        name: "mqtt_discovery",
        summary: "sensors a home's devices announce with Home Assistant MQTT discovery (Zigbee2MQTT, Tasmota, ESPHome)"
    ) { entry, context in
        let options = try Options(from: entry)
        guard let bus = context.topics else {
            throw SensorFault(driver: options.name,
                              "the mqtt_discovery driver needs the node's MQTT connection: set mqtt.broker (host:port or managed)")
        }
        return MQTTDiscoveryDriver(options: options, bus: bus, logger: context.logger,
                                   statistics: bus as? any MQTTDriverStatisticsProvider)
    }

    public init(options: Options, bus: any TopicSubscriber, logger: Logger,
                statistics: (any MQTTDriverStatisticsProvider)? = nil) {
        name = options.name
        self.options = options
        self.bus = bus
        self.logger = logger
        registry = statistics?.driverStatistics
        registry?.register(driver: options.name)
    }

    public var statistics: Statistics { box.state.withLock { $0.statistics } }

    public func read(now: UTCMillis) async throws -> [SensorSample] { [] }

    public func updates() -> AsyncThrowingStream<SensorUpdate, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: SensorUpdate.self,
                                                                    bufferingPolicy: .bufferingNewest(4096))
        let announcements = bus.subscribe(
            to: options.filters,
            onMessage: { message in
                for update in self.announcement(message) { continuation.yield(update) }
                self.resubscribe(continuation)
            },
            onFinish: { continuation.finish() })
        continuation.onTermination = { _ in
            announcements.cancel()
            let subscriptions = self.box.state.withLock { state in
                defer { state.subscriptions.removeAll() }
                return Array(state.subscriptions.values)
            }
            for subscription in subscriptions { subscription.cancel() }
        }
        return stream
    }

    /// Reads one config message: adopts, updates, removes or skips an entity.
    func announcement(_ message: TopicMessage) -> [SensorUpdate] {
        guard let parsed = HAAnnouncement.parse(topic: message.topic, payload: message.payload, prefix: options.prefix)
        else { return [] }
        switch parsed {
        case .removed(let topic):
            return box.state.withLock { state in
                guard let gone = state.entities.removeValue(forKey: topic) else { return [] }
                state.statistics.adopted.remove(gone.sensor)
                state.statistics.removed += 1
                return [.removed(gone.sensor)]
            }
        case .skipped(let topic, let entity, let reason):
            return skip(topic: topic, entity: entity, reason: reason)
        case .entity(let entity):
            switch options.decide(entity) {
            case .failure(let skip):
                return self.skip(topic: entity.configTopic, entity: entity.entityID, reason: skip.reason)
            case .success(let descriptor):
                let extractor = PayloadExtractor(
                    source: .template(entity.valueTemplate ?? Self.plainValue), kind: entity.kind,
                    payloadOn: entity.payloadOn, payloadOff: entity.payloadOff, lenient: false,
                    maxPayload: options.maxPayload)
                let adopted = AdoptedEntity(announcement: entity, sensor: descriptor.id, descriptor: descriptor,
                                            extractor: extractor)
                return box.state.withLock { state in
                    let previous = state.entities[entity.configTopic]
                    guard previous != adopted else { return [] }  // the same config again (a reconnect)
                    state.entities[entity.configTopic] = adopted
                    state.statistics.skipped[entity.entityID] = nil
                    state.statistics.adopted.insert(descriptor.id)
                    var updates: [SensorUpdate] = []
                    if let previous, previous.sensor != descriptor.id {
                        state.statistics.adopted.remove(previous.sensor)
                        updates.append(.removed(previous.sensor))
                    }
                    updates.append(.adopted(descriptor))
                    return updates
                }
            }
        }
    }

    /// `{{ value }}`: a plain payload (ESPHome) when the announcement has no template.
    static let plainValue = ValueTemplate.plainValue

    /// Records why an entity is not adopted; one that was adopted before stops.
    private func skip(topic: String, entity: String, reason: String) -> [SensorUpdate] {
        let (first, removed) = box.state.withLock { state -> (Bool, SensorID?) in
            let first = state.statistics.skipped[entity] != reason
            state.statistics.skipped[entity] = reason
            // A config that changed into one we cannot read: the sensor stops.
            let gone = state.entities.removeValue(forKey: topic)
            if let gone { state.statistics.adopted.remove(gone.sensor) }
            return (first, gone?.sensor)
        }
        if first {
            logger.notice("announced entity not adopted", metadata: [
                "smollama.sensor.driver": "\(name)", "smollama.mqtt.entity": "\(entity)", "smollama.reason": "\(reason)",
            ])
        }
        return removed.map { [.removed($0)] } ?? []
    }

    /// Subscribes to the state and availability topics the adopted entities need, and drops
    /// the ones no entity needs any more.
    private func resubscribe(_ continuation: AsyncThrowingStream<SensorUpdate, any Error>.Continuation) {
        let (wanted, current) = box.state.withLock { state in
            (Set(state.entities.values.flatMap { [$0.announcement.stateTopic] + $0.announcement.availability.map(\.topic) }),
             Set(state.subscriptions.keys))
        }
        for topic in current.subtracting(wanted) {
            box.state.withLock { $0.subscriptions.removeValue(forKey: topic) }?.cancel()
        }
        for topic in wanted.subtracting(current) {
            let subscription = bus.subscribe(
                to: [topic], onMessage: { message in
                    for update in self.data(message) { continuation.yield(update) }
                }, onFinish: {})
            box.state.withLock { $0.subscriptions[topic] = subscription }
        }
    }

    /// A state or availability message: values, refusals and availability changes.
    func data(_ message: TopicMessage) -> [SensorUpdate] {
        let updates = box.state.withLock { state in
            var updates: [SensorUpdate] = []
            for (topic, entity) in state.entities.sorted(by: { $0.key < $1.key }) {
                let announcement = entity.announcement
                for availability in announcement.availability where availability.topic == message.topic {
                    let change = state.entities[topic]?.observe(availability, payload: message.payload)
                    if let change { updates.append(change) }
                }
                guard announcement.stateTopic == message.topic else { continue }
                switch entity.extractor.value(from: message.payload) {
                case .success(let value):
                    updates.append(.sample(SensorSample(sensor: entity.sensor, value: value)))
                case .failure(let problem) where problem.isMalformed:
                    state.statistics.rejected += 1
                    updates.append(.rejected(entity.sensor, reason: "\(message.topic): \(problem)"))
                case .failure:
                    break  // a partial update without this entity's key
                }
            }
            return updates
        }
        // A message is malformed once for the driver's count, however many sensors refused it.
        if case .rejected(_, let reason)? = updates.first(where: { if case .rejected = $0 { true } else { false } }) {
            registry?.recordMalformed(driver: name, problem: reason)
        }
        return updates
    }
}

/// The driver's shared state (the driver is a value; its copies share this).
final class DiscoveryBox: Sendable {
    let state = Mutex(DiscoveryState())
}

/// What the driver holds under its lock.
struct DiscoveryState {
    var entities: [String: AdoptedEntity] = [:]
    var subscriptions: [String: TopicSubscription] = [:]
    var statistics = MQTTDiscoveryDriver.Statistics()
}

/// One adopted entity and its availability as last heard.
struct AdoptedEntity: Sendable {
    var announcement: HAAnnouncement
    var sensor: SensorID
    var descriptor: SensorDescriptor
    var extractor: PayloadExtractor
    /// Availability topic → available, as last heard (absent: not heard yet).
    var heard: [String: Bool] = [:]
    var latest: Bool?
    var available = true

    /// Records one availability message; returns the change it makes, if any.
    mutating func observe(_ availability: HAAnnouncement.Availability, payload: [UInt8]) -> SensorUpdate? {
        let text = String(decoding: payload, as: UTF8.self)
        var value = TemplateValue.string(text)
        if let template = availability.template {
            let json = (try? JSONDecoder().decode(JSONValue.self, from: Data(payload))).map(TemplateValue.init)
            guard let rendered = try? template.render(value: text, json: json) else { return nil }
            value = rendered
        }
        let word = PayloadExtractor.word(value)
        let now: Bool
        if word == availability.payloadAvailable { now = true }
        else if word == availability.payloadNotAvailable { now = false }
        else { return nil }
        heard[availability.topic] = now
        latest = now
        let states = Array(heard.values)
        let isAvailable = switch announcement.availabilityMode {
        case "all": !states.contains(false)
        case "any": states.contains(true)
        default: latest ?? true
        }
        guard isAvailable != available else { return nil }
        available = isAvailable
        return isAvailable ? .available(sensor)
            : .unavailable(sensor, reason: "\(availability.topic): the device reports it is unavailable")
    }
}

extension AdoptedEntity: Equatable {
    static func == (lhs: AdoptedEntity, rhs: AdoptedEntity) -> Bool {
        lhs.announcement == rhs.announcement && lhs.descriptor == rhs.descriptor
    }
}
