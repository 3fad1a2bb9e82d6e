import Foundation
import Logging
import ServiceLifecycle
import SmollamaCore
import SmollamaMQTT
import SmollamaSensors

/// The MQTT part of the daemon: the managed broker (hub), the client and the publisher, built
/// from `mqtt:`. Nothing here when `mqtt.broker` is empty.
struct MQTTWiring {
    var client: MQTTClient?
    var broker: ManagedBroker?
    var feed: LiveReadingFeed?

    init(runtime: NodeRuntime, logger: Logger) throws {
        let config = runtime.config.mqtt
        let broker = config.resolvedBroker
        guard broker != .off else { return }
        if case .managed = broker {
            let (host, port) = try Self.listen(config, file: runtime.paths.configFile)
            self.broker = ManagedBroker(
                configuration: .init(bindAddress: host, port: port, directory: runtime.paths.brokerDirectory,
                                     username: config.username.isEmpty ? nil : config.username,
                                     password: config.password.isEmpty ? nil : config.password),
                logger: logger)
        }
        guard let options = MQTTPublisher.clientOptions(config: config, node: Self.node(runtime)) else { return }
        do {
            client = try MQTTClient(options: options, logger: logger)
        } catch {
            throw NodeError.invalidConfig(path: runtime.paths.configFile, key: "mqtt", problem: "\(error)")
        }
        feed = LiveReadingFeed()
    }

    static func node(_ runtime: NodeRuntime) -> MQTTNodeInfo {
        MQTTNodeInfo(id: runtime.identity.nodeID, name: runtime.config.node.name,
                     role: runtime.config.node.role.rawValue)
    }

    static func listen(_ config: MQTTConfig, file: String) throws -> (String, Int32) {
        let parts = config.managedListen.split(separator: ":")
        guard parts.count == 2, let port = Int32(parts[1]) else {
            throw NodeError.invalidConfig(path: file, key: "mqtt.managed_listen",
                                          problem: "write address:port, e.g. 127.0.0.1:1883 or 0.0.0.0:1883")
        }
        return (String(parts[0]), port)
    }

    /// Services that must run before the writer and scheduler (broker, client)...
    func early() -> [ServiceGroupConfiguration.ServiceConfiguration] {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let broker { services.append(.init(service: broker, serviceName: "mqtt-broker")) }
        if let client { services.append(.init(service: client, serviceName: "mqtt-client")) }
        return services
    }

    /// The publisher (nil without a broker): the observation loop sends its observations through it too.
    func publisher(runtime: NodeRuntime, sensors: [SensorDescriptor], logger: Logger) -> MQTTPublisher? {
        guard let client, let feed else { return nil }
        return MQTTPublisher(client: client, feed: feed, node: Self.node(runtime), sensors: sensors,
                             config: runtime.config.mqtt, stateFile: runtime.paths.mqttStateFile, logger: logger)
    }

    /// ...and the publisher, which stops right after the scheduler on shutdown.
    func late(publisher: MQTTPublisher?) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        guard let publisher else { return [] }
        return [.init(service: publisher, serviceName: "mqtt-publisher")]
    }
}

/// A bus that delivers nothing: lets commands other than `run` build `mqtt` drivers (to list
/// their sensors) when MQTT is configured, without opening a connection.
struct UnconnectedTopics: TopicSubscriber {
    func subscribe(to filters: [String], onMessage: @escaping @Sendable (TopicMessage) -> Void,
                   onFinish: @escaping @Sendable () -> Void) -> TopicSubscription {
        onFinish()
        return TopicSubscription {}
    }
}

