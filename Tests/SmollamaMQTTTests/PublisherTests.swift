import Foundation
import Logging
import ServiceLifecycle
import SmollamaCore
import SmollamaSensors
import SmollamaTesting
import Testing
@testable import SmollamaMQTT

/// Home Assistant discovery payloads, checked key by key.
@Suite struct DiscoveryTests {
    let node = MQTTNodeInfo(id: NodeID.random(), name: "Pi Kitchen", role: "alpaca")
    let sensors = [
        SensorDescriptor(id: "kitchen.temperature", name: "Kitchen temperature", unit: "°C", deviceClass: "temperature"),
        SensorDescriptor(id: "kitchen.motion", name: "Kitchen motion", kind: .binary, deviceClass: "motion"),
        SensorDescriptor(id: "system.load_1m", name: "Load"),
        // Wrong component for the class: HA would reject the entity, so the class is left out.
        SensorDescriptor(id: "odd.numeric", name: "Odd", unit: "x", deviceClass: "motion"),
        SensorDescriptor(id: "odd.binary", name: "Odd binary", kind: .binary, deviceClass: "temperature"),
    ]

    func payloads() throws -> [String: [String: Any]] {
        var result: [String: [String: Any]] = [:]
        for message in HomeAssistantDiscovery.messages(node: node, sensors: sensors, config: MQTTConfig()) {
            let json = try JSONSerialization.jsonObject(with: Data(HomeAssistantDiscovery.encode(message.config)))
            result[message.topic] = json as? [String: Any]
        }
        return result
    }

    @Test func everySensorHasTheRequiredKeys() throws {
        let all = try payloads()
        #expect(all.count == sensors.count + 1, "one per sensor plus the latest observation")
        let required = ["name", "unique_id", "state_topic", "value_template", "availability_topic", "device"]
        for (topic, payload) in all {
            #expect(topic.hasPrefix("homeassistant/sensor/pi_kitchen_") || topic.hasPrefix("homeassistant/binary_sensor/pi_kitchen_"))
            #expect(topic.hasSuffix("/config"))
            for key in required { #expect(payload[key] != nil, "\(topic) lacks \(key)") }
            #expect(payload["availability_topic"] as? String == "smollama/pi_kitchen/status")
            let device = payload["device"] as? [String: Any]
            #expect((device?["identifiers"] as? [String]) == ["smollama_\(node.id.hex)"])
            #expect(device?["name"] as? String == "Pi Kitchen" && device?["manufacturer"] as? String == "Smollama")
        }
        let uniqueIDs = all.values.compactMap { $0["unique_id"] as? String }
        #expect(Set(uniqueIDs).count == all.count, "unique ids are unique")
    }

    @Test func numericAndBinaryEntities() throws {
        let all = try payloads()
        let temperature = try #require(all["homeassistant/sensor/pi_kitchen_kitchen_temperature/config"])
        #expect(temperature["device_class"] as? String == "temperature")
        #expect(temperature["state_class"] as? String == "measurement")
        #expect(temperature["unit_of_measurement"] as? String == "°C")
        #expect(temperature["state_topic"] as? String == "smollama/pi_kitchen/sensors/kitchen.temperature")
        #expect(temperature["value_template"] as? String == "{{ value_json.value }}")

        let motion = try #require(all["homeassistant/binary_sensor/pi_kitchen_kitchen_motion/config"])
        #expect(motion["device_class"] as? String == "motion")
        #expect(motion["state_class"] == nil && motion["unit_of_measurement"] == nil)
        #expect(motion["payload_on"] as? String == "ON" && motion["payload_off"] as? String == "OFF")
        #expect(motion["value_template"] as? String == "{{ value_json.state }}")

        let load = try #require(all["homeassistant/sensor/pi_kitchen_system_load_1m/config"])
        #expect(load["device_class"] == nil && load["unit_of_measurement"] == nil)

        // Every device class sent is one HA accepts for that component.
        for (topic, payload) in all {
            guard let deviceClass = payload["device_class"] as? String else { continue }
            let allowed = topic.contains("/binary_sensor/")
                ? HomeAssistantDiscovery.binarySensorDeviceClasses : HomeAssistantDiscovery.sensorDeviceClasses
            #expect(allowed.contains(deviceClass), "\(topic): \(deviceClass)")
        }
        #expect(all["homeassistant/sensor/pi_kitchen_odd_numeric/config"]?["device_class"] == nil)
        #expect(all["homeassistant/binary_sensor/pi_kitchen_odd_binary/config"]?["device_class"] == nil)

        let observation = try #require(all["homeassistant/sensor/pi_kitchen_latest_observation/config"])
        #expect(observation["state_topic"] as? String == "smollama/pi_kitchen/observations")
        #expect(observation["json_attributes_topic"] as? String == "smollama/pi_kitchen/observations")
    }
}

/// The hand-written sensor payload is the JSON a `JSONEncoder` would produce.
@Suite struct SensorPayloadTests {
    @Test func handWrittenJSONDecodesToTheSameValue() throws {
        for payload in [
            MQTTPublisher.SensorPayload(value: 21.37, state: nil, unit: "°C", time: "2026-11-26T03:00:00Z", timeMs: 5),
            MQTTPublisher.SensorPayload(value: 1, state: "ON", unit: "", time: "t", timeMs: -1),
            MQTTPublisher.SensorPayload(value: 24_267_972_608, state: nil, unit: "a\"b\\c\n\u{1}", time: "t", timeMs: 0),
            MQTTPublisher.SensorPayload(value: 1e-7, state: nil, unit: "µg/m³", time: "t", timeMs: 0),
        ] {
            let decoded = try JSONDecoder().decode(MQTTPublisher.SensorPayload.self, from: Data(payload.json))
            #expect(decoded == payload)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let reference = try JSONSerialization.jsonObject(with: encoder.encode(payload)) as? NSDictionary
            #expect(try JSONSerialization.jsonObject(with: Data(payload.json)) as? NSDictionary == reference)
        }
    }

    @Test func isoTimeMatchesFoundation() {
        for ms: Int64 in [0, 1_795_662_000_123, 951_782_400_000, -1500] {
            let expected = Date(timeIntervalSince1970: (Double(ms) / 1000).rounded(.down)).formatted(.iso8601)
            #expect(MQTTPublisher.SensorPayload.isoTime(UTCMillis(rawValue: ms)) == expected)
        }
    }
}

/// The publisher against a real broker.
@Suite(.serialized) struct PublisherTests {
    let node = MQTTNodeInfo(id: NodeID.random(), name: "pi1", role: "alpaca")
    let temperature = SensorDescriptor(id: "room.temperature", name: "Temperature", unit: "°C", deviceClass: "temperature")
    let motion = SensorDescriptor(id: "room.motion", name: "Motion", kind: .binary, deviceClass: "motion")

    func setUp(_ broker: TestBroker, interval: ConfigDuration = .seconds(1), clock: ManualClock = ManualClock())
        throws -> (MQTTPublisher, LiveReadingFeed, MQTTClient)
    {
        var config = MQTTConfig()
        config.broker = broker.address
        config.publishInterval = interval
        var options = try #require(MQTTPublisher.clientOptions(config: config, node: node))
        options.reconnectMax = .seconds(2)
        let client = try MQTTClient(options: options, logger: .quiet)
        let feed = LiveReadingFeed()
        let publisher = MQTTPublisher(client: client, feed: feed, node: node, sensors: [temperature, motion],
                                      config: config, stateFile: nil, logger: .quiet, clock: clock)
        return (publisher, feed, client)
    }

    /// Readings reach `smollama/<node>/sensors/<id>` as JSON; a burst within the interval is
    /// thinned to the first and the newest value, sent once the interval has passed on the
    /// publisher's clock (which only the test moves).
    @Test func sensorMessagesAreRateLimited() async throws {
        let broker = try await TestBroker()
        let clock = ManualClock()
        let (publisher, feed, client) = try setUp(broker, interval: .seconds(10), clock: clock)
        let observer = try makeClient(broker, id: "observer-pub")
        let received = Received(observer, ["smollama/pi1/#"])
        try await withServices([{ try await client.run() }, { try await publisher.run() }, { try await observer.run() }]) {
            () async throws in
            #expect(try await eventually {
                guard await isConnected(client, observer) else { return false }
                return await feed.subscriberCount == 1
            })
            let online = try await eventually(timeout: .seconds(10)) { received.texts(on: "smollama/pi1/status") == ["online"] }
            let clientStatus = await client.status()
            #expect(online, "\(received.all.map(\.topic)) \(received.texts) \(clientStatus)")
            for i in 0..<50 { await feed.publish(LiveReading(sensor: temperature, value: 20 + Double(i) / 10, time: 1_700_000_000_000 + Int64(i))) }
            await feed.publish(LiveReading(sensor: motion, value: 1, time: 1_700_000_000_100))
            // The motion reading comes after the 50 temperatures: once it is out, all were offered.
            #expect(try await eventually { await publisher.sensorMessages == 2 })
            #expect(received.texts(on: "smollama/pi1/sensors/room.temperature").count <= 1, "the rest waits for the clock")
            #expect(try await clock.waitForSleepers(1), "the publisher's tick sleeps on the clock")
            clock.advance(by: .seconds(10))
            #expect(try await eventually { received.texts(on: "smollama/pi1/sensors/room.temperature").count == 2 })
            let messages = received.texts(on: "smollama/pi1/sensors/room.temperature")
            let decoded = try messages.map { try JSONDecoder().decode(MQTTPublisher.SensorPayload.self, from: Data($0.utf8)) }
            #expect(decoded.map(\.value) == [20.0, 24.9], "the first at once, then only the newest")
            #expect(decoded[0].unit == "°C" && decoded[0].timeMs == 1_700_000_000_000)
            #expect(decoded[0].time.hasPrefix("2023-11-14T22:13:20"))
            let motionMessage = try #require(received.texts(on: "smollama/pi1/sensors/room.motion").first)
            #expect(motionMessage.contains(#""state":"ON""#))
            // Nothing more arrives: 50 readings became 2 messages.
            #expect(await publisher.sensorMessages == 3)
        }
    }

    /// Discovery goes out at start and again when Home Assistant announces itself.
    @Test func discoveryRepublishedWhenHomeAssistantComesOnline() async throws {
        let broker = try await TestBroker()
        let (publisher, _, client) = try setUp(broker)
        let homeAssistant = try makeClient(broker, id: "home-assistant")
        let received = Received(homeAssistant, ["homeassistant/#"])
        try await withServices([{ try await client.run() }, { try await publisher.run() }, { try await homeAssistant.run() }]) {
            () async throws in
            let config = "homeassistant/sensor/pi1_room_temperature/config"
            #expect(try await eventually { received.texts(on: config).count == 1 })
            #expect(received.all.contains { $0.topic == "homeassistant/binary_sensor/pi1_room_motion/config" })
            let rounds = await publisher.discoveryRounds
            await homeAssistant.publish(MQTTOutgoing(topic: "homeassistant/status", text: "online"))
            #expect(try await eventually { received.texts(on: config).count >= 2 })
            #expect(await publisher.discoveryRounds == rounds + 1)
            await homeAssistant.publish(MQTTOutgoing(topic: "homeassistant/status", text: "offline"))
            await publisher.publish(observation: .init(text: "Kitchen warmer than usual", kind: "anomaly",
                                                       subjects: ["room.temperature"], timeMs: 1))
            let observer = try makeClient(broker, id: "observer-obs")
            let observed = Received(observer, ["smollama/pi1/observations"])
            try await withServices([{ try await observer.run() }]) { () async throws in
                #expect(try await eventually { observed.texts.first?.contains("warmer than usual") == true },
                        "the latest observation is retained")
            }
            #expect(await publisher.discoveryRounds == rounds + 1, "offline does not trigger discovery")
        }
    }
}

/// `mqtt.broker: managed`: mosquitto started, authenticated, restarted, stopped.
@Suite(.serialized) struct ManagedBrokerTests {
    @Test func managedBrokerRequiresPasswordAndRestartsWhenKilled() async throws {
        let directory = try TemporaryDirectory("managed")
        let port = try TestBroker.freePort()
        let clock = ManualClock()
        let broker = ManagedBroker(
            configuration: .init(bindAddress: "127.0.0.1", port: port, directory: directory.path + "/mosquitto",
                                 username: "node", password: "s3cret"),
            logger: .quiet, clock: clock)
        #expect(broker.renderConfig().contains("listener \(port) 127.0.0.1"))
        #expect(broker.renderConfig().contains("allow_anonymous false"))
        // The password is hashed in a file only we read, never passed on a command line.
        try broker.prepare()
        let passwords = try String(contentsOfFile: directory.path + "/mosquitto/passwords", encoding: .utf8)
        #expect(passwords.hasPrefix("node:$") && !passwords.contains("s3cret"), "\(passwords)")
        let mode = try FileManager.default.attributesOfItem(atPath: directory.path + "/mosquitto/passwords")[.posixPermissions]
        #expect((mode as? NSNumber)?.intValue == 0o600)
        func client(_ id: String, password: String?) throws -> MQTTClient {
            var options = MQTTClient.Options(host: "127.0.0.1", port: port, clientID: id)
            options.username = "node"
            options.password = password
            options.reconnectMax = .seconds(1)
            return try MQTTClient(options: options, logger: .quiet)
        }
        let good = try client("good", password: "s3cret")
        let bad = try client("bad", password: "wrong")
        let group = ServiceGroup(configuration: .init(services: [.init(service: broker)], logger: .quiet))
        try await withThrowingTaskGroup { (tasks: inout ThrowingTaskGroup<Void, any Error>) async throws in
            tasks.addTask { try await group.run() }
            try await withServices([{ try await good.run() }, { try await bad.run() }]) { () async throws in
                #expect(try await eventually { await good.isConnected })
                #expect(try await eventually { await bad.status().lastError?.contains("refused") == true })
                #expect(await !bad.isConnected)
                // Kill the broker: the service starts it again after its backoff (1 s of the
                // service's clock) and the client reconnects.
                let pid = try #require(Self.brokerPID(directory.path))
                kill(pid, SIGKILL)
                #expect(try await eventually { await !good.isConnected })
                #expect(try await clock.waitForSleepers(1))
                clock.advance(by: .milliseconds(999))
                #expect(Self.brokerPID(directory.path) == nil, "no restart before the backoff")
                clock.advance(by: .milliseconds(1))
                #expect(try await eventually {
                    guard await good.isConnected else { return false }
                    return await good.status().connects >= 2
                })
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(!TestBroker.canConnect(port: port), "stopped on shutdown")
    }

    /// Debian's `mosquitto` package starts its own broker on 1883: a managed broker finding its
    /// port taken uses that broker, says so with both ways out, and starts no mosquitto of its own.
    @Test func aBrokerAlreadyListeningIsUsedAndNamed() async throws {
        let existing = try await TestBroker()
        let directory = try TemporaryDirectory("managed")
        let capture = LogCapture()
        let broker = ManagedBroker(
            configuration: .init(bindAddress: "0.0.0.0", port: existing.port, directory: directory.path + "/mosquitto"),
            logger: capture.logger())
        var options = MQTTClient.Options(host: "127.0.0.1", port: existing.port, clientID: "uses-existing")
        options.reconnectMax = .seconds(1)
        let client = try MQTTClient(options: options, logger: .quiet)
        let group = ServiceGroup(configuration: .init(services: [.init(service: broker)], logger: .quiet))
        try await withThrowingTaskGroup { (tasks: inout ThrowingTaskGroup<Void, any Error>) async throws in
            tasks.addTask { try await group.run() }
            try await withServices([{ try await client.run() }]) { () async throws in
                #expect(try await eventually { capture.all.contains { $0.level == .warning } })
                let warning = try #require(capture.all.first { $0.level == .warning }?.message)
                #expect(warning.contains("already listens on 127.0.0.1:\(existing.port)"), "\(warning)")
                #expect(warning.contains("mqtt.broker: 127.0.0.1:\(existing.port)") && warning.contains("systemctl"))
                #expect(try await eventually { await client.isConnected })
                #expect(Self.brokerPID(directory.path) == nil, "no mosquitto of our own")
                #expect(!FileManager.default.fileExists(atPath: directory.path + "/mosquitto/mosquitto.conf"))
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(TestBroker.canConnect(port: existing.port), "the existing broker is left alone")
    }

    /// The pid of the mosquitto running with this directory's config.
    static func brokerPID(_ directory: String) -> Int32? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry),
                  let command = try? String(contentsOfFile: "/proc/\(entry)/cmdline", encoding: .utf8)
            else { continue }
            if command.contains("mosquitto"), command.contains(directory) { return pid }
        }
        return nil
    }
}
