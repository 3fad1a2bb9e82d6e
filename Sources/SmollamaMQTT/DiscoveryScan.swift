import Foundation
public import Logging
import SmollamaCore
public import SmollamaSensors

/// `smollama sensors discover`: what a broker's devices announce with Home Assistant MQTT
/// discovery, which of it `mqtt_discovery` would adopt (as which sensor) and why not the rest,
/// and the config snippet that adopts them.
public enum DiscoveryScan {
    public struct Entity: Codable, Sendable, Hashable {
        /// What `include`/`exclude`/`area` globs match.
        public var entityID: String
        public var component: String
        public var name: String?
        public var unit: String?
        public var deviceClass: String?
        public var stateTopic: String?
        /// The sensor id it gets with the default options; nil when it is not adopted.
        public var sensor: String?
        /// Why it is not adopted.
        public var reason: String?
    }

    public struct Report: Codable, Sendable, Hashable {
        public var broker: String
        public var prefix: String
        public var entities: [Entity]
        public var snippet: String
    }

    /// Problems reaching the broker, with what to check.
    public struct Unreachable: Error, CustomStringConvertible {
        public var broker: String
        public var problem: String
        public var description: String {
            "could not read announcements from \(broker): \(problem); check --broker (host:port) and that the broker runs"
        }
    }

    /// Connects, collects the retained discovery configs for `duration`, and reports them.
    public static func scan(host: String, port: Int32, prefix: String, duration: Duration, logger: Logger) async throws
        -> Report
    {
        var options = MQTTClient.Options(host: host, port: port, clientID: "smollama-discover-\(UInt32.random(in: 0...UInt32.max))")
        options.reconnectMax = .seconds(2)
        let client = try MQTTClient(options: options, logger: logger)
        let broker = options.broker
        let filters = MQTTDiscoveryDriver.Options.filters(prefix: prefix)
        let messages = client.messages(matching: filters, bufferSize: 100_000)
        let collected = try await withThrowingTaskGroup(of: [TopicMessage]?.self) { group in
            group.addTask {
                try await client.run()
                return nil
            }
            group.addTask {
                var all: [TopicMessage] = []
                for await message in messages { all.append(message) }
                return all
            }
            group.addTask {
                let deadline = ContinuousClock.now + duration
                while ContinuousClock.now < deadline, !(await client.isConnected) { try await Task.sleep(for: .milliseconds(50)) }
                guard await client.isConnected else {
                    let status = await client.status()
                    throw Unreachable(broker: broker, problem: status.lastError ?? "no connection")
                }
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            // The timer ends first (or throws); then the client is stopped and the stream ends.
            _ = try await group.next()
            group.cancelAll()
            var all: [TopicMessage] = []
            while let result = try await group.next() { if let result { all = result } }
            return all
        }
        var defaults = MQTTDiscoveryDriver.Options()
        defaults.prefix = prefix
        return report(messages: collected, options: defaults, broker: broker)
    }

    /// The report for the messages seen (the last config per topic counts; empty ones are gone).
    public static func report(messages: [TopicMessage], options: MQTTDiscoveryDriver.Options, broker: String) -> Report {
        var latest: [String: HAAnnouncement.Parsed] = [:]
        for message in messages {
            guard let parsed = HAAnnouncement.parse(topic: message.topic, payload: message.payload, prefix: options.prefix)
            else { continue }
            if case .removed(let topic) = parsed { latest[topic] = nil } else { latest[message.topic] = parsed }
        }
        let entities = latest.sorted { $0.key < $1.key }.compactMap { topic, parsed -> Entity? in
            let component = topic.split(separator: "/").dropFirst(options.prefix.split(separator: "/").count).first.map(String.init) ?? ""
            switch parsed {
            case .removed: return nil
            case .skipped(_, let entityID, let reason):
                return Entity(entityID: entityID, component: component, reason: reason)
            case .entity(let entity):
                var row = Entity(entityID: entity.entityID, component: component, name: entity.name,
                                 unit: entity.unit.isEmpty ? nil : entity.unit, deviceClass: entity.deviceClass,
                                 stateTopic: entity.stateTopic)
                switch options.decide(entity) {
                case .success(let descriptor): row.sensor = descriptor.id.rawValue
                case .failure(let skip): row.reason = skip.reason
                }
                return row
            }
        }
        let prefixLine = options.prefix == "homeassistant" ? "" : "\n      prefix: \(options.prefix)"
        let snippet = """
            mqtt:
              broker: \(broker)
            sensors:
              drivers:
                - driver: mqtt_discovery\(prefixLine)

            """
        return Report(broker: broker, prefix: options.prefix, entities: entities, snippet: snippet)
    }
}
