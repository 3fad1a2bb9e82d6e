import Foundation
import Logging
import SmollamaCore
import SmollamaMQTT
import SmollamaSensors
import SmollamaStore
import SmollamaTesting
import Synchronization
import Testing
@testable import SmollamaNode

/// The `mqtt:` section: defaults, strict keys, broker addresses, the environment.
@Suite struct MQTTConfigTests {
    func problem(_ yaml: String, environment: [String: String] = [:]) -> String {
        do {
            _ = try ConfigLoader.parse(yaml, file: "c.yaml", environment: environment)
            return "no error"
        } catch { return "\(error)" }
    }

    @Test func offByDefaultAndSetFromTheEnvironment() throws {
        #expect(try ConfigLoader.parse("").mqtt.resolvedBroker == .off)
        let config = try ConfigLoader.parse("", environment: ["SMOLLAMA_MQTT_BROKER": "hub.local:1884",
                                                              "SMOLLAMA_MQTT_PASSWORD": "pw", "SMOLLAMA_MQTT_USERNAME": "n"])
        #expect(config.mqtt.resolvedBroker == .external(host: "hub.local", port: 1884))
        #expect(config.mqtt.password == "pw")
        #expect(try ConfigLoader.parse("mqtt: {broker: hub}").mqtt.resolvedBroker == .external(host: "hub", port: 1883))
        let managed = try ConfigLoader.parse(
            "mqtt: {broker: managed, managed_listen: '0.0.0.0:1999', username: hub, password: pw}").mqtt
        #expect(managed.resolvedBroker == .managed(host: "127.0.0.1", port: 1999), "the node connects over loopback")
    }

    @Test func badValuesNameTheKeyAndTheFix() {
        #expect(problem("mqtt: {broker: 'mqtt://hub:1883'}").contains("mqtt.broker"))
        #expect(problem("mqtt: {broker: 'mqtt://hub:1883'}").contains("has a scheme"))
        #expect(problem("mqtt: {broker: 'hub:99999'}").contains("not a port"))
        #expect(problem("mqtt: {broker: external}").contains("host:port"))
        #expect(problem("mqtt: {brokr: hub}").contains("unknown key"))
        #expect(problem("mqtt: {queue_size: 0}").contains("mqtt.queue_size"))
        #expect(problem("mqtt: {topic_prefix: 'a/#'}").contains("mqtt.topic_prefix"))
        #expect(problem("mqtt: {password: x}").contains("no username"))
        #expect(problem("mqtt: {tls_ca_file: /ca.pem}").contains("set tls: true"))
        #expect(problem("mqtt: {username: 'a:b', password: x}").contains("mqtt.username"))
    }

    /// Issue 18, finding 8: a managed broker listening beyond loopback without credentials let
    /// anyone on the LAN publish readings and read every topic (`allow_anonymous true`).
    @Test func anonymousManagedBrokerOnTheLANIsRefused() throws {
        for listen in ["0.0.0.0:1883", "192.168.1.5:1883", "hub.local"] {
            let text = problem("mqtt: {broker: managed, managed_listen: '\(listen)'}")
            #expect(text.contains("mqtt.managed_listen") && text.contains("mqtt.password"), "\(text)")
            #expect(problem("mqtt: {broker: managed, managed_listen: '\(listen)', username: hub}")
                .contains("mqtt.managed_listen"), "a username without a password is no credential")
        }
        for listen in ["127.0.0.1:1883", "localhost:1884"] {
            #expect(throws: Never.self) { try ConfigLoader.parse("mqtt: {broker: managed, managed_listen: '\(listen)'}") }
        }
        #expect(throws: Never.self) {
            try ConfigLoader.parse("mqtt: {broker: managed, managed_listen: '0.0.0.0:1883', username: hub, password: pw}")
        }
        #expect(problem("", environment: ["SMOLLAMA_MQTT_BROKR": "x"]).contains("SMOLLAMA_MQTT_BROKER"))
    }

    @Test func mqttDriverWithoutBrokerIsAConfigError() async throws {
        let home = try TemporaryDirectory("node")
        let paths = SmollamaPaths(home: home.path)
        _ = try await NodeSetup.initialise(paths: paths, name: "t", role: .alpaca, sensors: .demo, force: false, now: 0)
        try "sensors:\n  drivers:\n    - driver: mqtt\n      sensors: [{key: t, topic: a/b}]\n"
            .write(toFile: paths.configFile, atomically: true, encoding: .utf8)
        let runtime = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: [])
        #expect(throws: NodeError.self) { try runtime.makeDrivers(context: runtime.driverContext(environment: [:], logger: .quiet)) }
        do {
            _ = try runtime.makeDrivers(context: runtime.driverContext(environment: [:], logger: .quiet))
        } catch {
            #expect("\(error)".contains("sensors.drivers[0]") && "\(error)".contains("set mqtt.broker"))
        }
    }
}

/// Messages an observer saw.
final class Seen: Sendable {
    let subscription: TopicSubscription

    init(_ bus: any TopicSubscriber, _ filters: [String]) {
        let box = Box()
        subscription = bus.subscribe(to: filters, onMessage: { message in
            box.messages.withLock { $0.append((message.topic, String(decoding: message.payload, as: UTF8.self))) }
        }, onFinish: {})
        self.box = box
    }

    final class Box: Sendable { let messages = Mutex<[(String, String)]>([]) }
    private let box: Box

    func texts(on topic: String) -> [String] { box.messages.withLock { $0.filter { $0.0 == topic }.map(\.1) } }
    func count(prefix: String) -> Int { box.messages.withLock { $0.filter { $0.0.hasPrefix(prefix) }.count } }
}

/// The real `smollama` binary against a real mosquitto.
@Suite(.serialized) struct MQTTProcessTests {
    func makeNode(sensors: String = "") async throws -> TemporaryDirectory {
        let home = try TemporaryDirectory("node")
        let initialised = try await SmollamaBinary.run(["init", "--demo", "--name", "testnode"], home: home.path)
        #expect(initialised.status == 0, "init failed: \(initialised.stderr)")
        let config = """
            node:
              name: testnode
            store:
              flush_interval: 200ms
            sensors:
              drivers:
                - driver: simulated_house
                  interval: 100ms
            \(sensors)
            mqtt:
              publish_interval: 200ms
              reconnect_max: 2s
            """
        try config.write(toFile: home.path + "/config.yaml", atomically: true, encoding: .utf8)
        return home
    }

    func observer(_ port: Int32, _ id: String) throws -> MQTTClient {
        var options = MQTTClient.Options(host: "127.0.0.1", port: port, clientID: id)
        options.reconnectMax = .seconds(1)
        return try MQTTClient(options: options, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    func run(_ client: MQTTClient, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            do { try await body() } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    /// Online (retained) while running, ingest from a Zigbee2MQTT topic, `status` shows the
    /// connection; `kill -9` makes the broker publish the last will `offline`.
    @Test func publishesIngestsAndLastWillOnKill() async throws {
        let broker = try await TestBroker()
        let home = try await makeNode(sensors: """
                - driver: mqtt
                  name: zigbee
                  sensors:
                    - {key: hall_temperature, topic: zigbee2mqtt/hall, path: temperature, unit: °C, device_class: temperature}
            """)
        let node = RunningNode(arguments: ["run"], home: home.path, environment: ["SMOLLAMA_MQTT_BROKER": broker.address])
        try node.start()
        let watcher = try observer(broker.port, "watcher")
        let seen = Seen(watcher, ["smollama/testnode/#", "homeassistant/#"])
        try await run(watcher) { () async throws in
            #expect(try await eventually { seen.texts(on: "smollama/testnode/status").last == "online" }, "\(node.stderr)")
            #expect(try await eventually { seen.count(prefix: "smollama/testnode/sensors/living_room.temperature") >= 2 })
            #expect(try await eventually { seen.count(prefix: "homeassistant/sensor/testnode_zigbee_hall_temperature") == 1 })
            // A Zigbee2MQTT device reports; the node stores it as a reading.
            let database = try SmollamaDatabase.open(path: home.path + "/data/smollama.sqlite")
            #expect(try await eventually {
                await watcher.publish(MQTTOutgoing(topic: "zigbee2mqtt/hall", text: #"{"temperature":19.5,"battery":80}"#))
                return try await database.readings.fetch(sensor: "zigbee.hall_temperature").contains { $0.value == 19.5 }
            })
            let status = try await SmollamaBinary.run(["status"], home: home.path,
                                                environment: ["SMOLLAMA_MQTT_BROKER": broker.address])
            #expect(status.stdout.contains("mqtt      \(broker.address) connected"), "\(status.stdout)")
            node.signal(SIGKILL)
            _ = try await node.waitForExit()
            #expect(try await eventually { seen.texts(on: "smollama/testnode/status").last == "offline" },
                    "the broker published the last will")
        }
        let late = try observer(broker.port, "late")
        let retained = Seen(late, ["smollama/testnode/status"])
        try await run(late) { () async throws in
            #expect(try await eventually { retained.texts(on: "smollama/testnode/status") == ["offline"] })
        }
    }

    /// `kill -9` of a daemon running a managed mosquitto leaves no mosquitto behind: the kernel
    /// kills it (PR_SET_PDEATHSIG), so the port is free for the next start.
    @Test func managedBrokerDiesWithASIGKILLedDaemon() async throws {
        let port = try TestBroker.freePort()
        let home = try await makeNode()
        try """
            node:
              name: testnode
            mqtt:
              broker: managed
              managed_listen: '127.0.0.1:\(port)'
            """.write(toFile: home.path + "/config.yaml", atomically: true, encoding: .utf8)
        let node = RunningNode(arguments: ["run"], home: home.path)
        try node.start()
        let daemon = node.process.processIdentifier
        #expect(try await eventually { TestBroker.canConnect(port: port) }, "\(node.stderr)")
        let broker = try #require(Self.children(of: daemon, named: "mosquitto").first, "\(node.stderr)")
        node.signal(SIGKILL)
        _ = try await node.waitForExit()
        #expect(try await eventually { !Self.isAlive(broker) }, "mosquitto \(broker) outlived its daemon")
        #expect(!TestBroker.canConnect(port: port))
    }

    /// Processes whose parent is `parent` and whose command name is `name`.
    static func children(of parent: Int32, named name: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.range(of: ")", options: .backwards)
            else { return nil }
            let command = stat[stat.index(after: open)..<close.lowerBound]
            let fields = stat[close.upperBound...].split(separator: " ")
            return command == name && fields.count > 1 && Int32(fields[1]) == parent ? pid : nil
        }
    }

    /// Alive and not a zombie (a zombie still answers `kill(pid, 0)`).
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.range(of: ")", options: .backwards) else { return false }
        return !stat[close.upperBound...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// No broker at start: the node runs anyway. The broker appears, goes away and comes back:
    /// the node keeps running and publishes again; SIGTERM leaves a retained `offline`.
    @Test func survivesBrokerOutages() async throws {
        let port = try TestBroker.freePort()
        let home = try await makeNode()
        let environment = ["SMOLLAMA_MQTT_BROKER": "127.0.0.1:\(port)"]
        let node = RunningNode(arguments: ["run"], home: home.path, environment: environment)
        try node.start()
        #expect(try await eventually { node.stderr.contains("sensor scheduler started") })
        #expect(try await eventually {
            try await SmollamaBinary.run(["status"], home: home.path, environment: environment).stdout.contains("DISCONNECTED")
        })
        let database = try SmollamaDatabase.open(path: home.path + "/data/smollama.sqlite")
        #expect(try await eventually { try await database.readings.readingCount() > 20 }, "sensing goes on without a broker")

        let broker = try await TestBroker(port: port)
        let watcher = try observer(port, "watcher-outage")
        let seen = Seen(watcher, ["smollama/testnode/#"])
        let topic = "smollama/testnode/sensors/living_room.temperature"
        try await run(watcher) { () async throws in
            #expect(try await eventually { seen.texts(on: "smollama/testnode/status").last == "online" }, "\(node.stderr)")
            #expect(try await eventually { seen.count(prefix: topic) >= 2 })
            broker.stop()
            let readings = try await database.readings.readingCount()
            #expect(try await eventually { try await database.readings.readingCount() > readings + 20 })
            #expect(node.process.isRunning, "the node keeps running while the broker is down")
            let before = seen.count(prefix: topic)
            try await broker.start()
            #expect(try await eventually { seen.count(prefix: topic) >= before + 2 }, "publishing resumed")
            node.signal(SIGTERM)
            #expect(try await node.waitForExit() == 0, "\(node.stderr)")
            #expect(try await eventually { seen.texts(on: "smollama/testnode/status").last == "offline" })
        }
    }
}
