import Foundation
import Logging
import SmollamaCore
import SmollamaMQTT
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// `driver: mqtt_discovery` and `sensors discover` in the real binary, against a real mosquitto
/// holding recorded Zigbee2MQTT announcements (Tests/Fixtures/ha-discovery).
@Suite(.serialized) struct DiscoveryProcessTests {
    static func fixture(_ file: String) throws -> [(topic: String, payload: String)] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/ha-discovery/\(file)")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") && !$0.isEmpty }
            .map { line in
                let parts = line.split(separator: "=", maxSplits: 1)
                return (String(parts[0].dropLast()), String(parts[1].dropFirst()))
            }
    }

    func devices(_ broker: TestBroker) throws -> MQTTClient {
        var options = MQTTClient.Options(host: "127.0.0.1", port: broker.port, clientID: "devices")
        options.reconnectMax = .seconds(1)
        return try MQTTClient(options: options, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    func announce(_ client: MQTTClient) async throws {
        for (topic, payload) in try Self.fixture("zigbee2mqtt.mqtt") {
            await client.publish(MQTTOutgoing(topic: topic, text: payload, retain: true))
        }
    }

    @Test func discoverListsTheEntitiesAndTheSnippet() async throws {
        let broker = try await TestBroker()
        let client = try devices(broker)
        let home = try TemporaryDirectory("discover")
        try await MQTTProcessTests().run(client) { () async throws in
            #expect(try await eventually { await client.isConnected })
            try await announce(client)
            #expect(try await eventually { await client.status().acknowledged >= 7 })
            let json = try await SmollamaBinary.run(
                ["sensors", "discover", "--json", "--broker", broker.address, "--seconds", "2"], home: home.path)
            #expect(json.status == 0, "\(json.stderr)")
            let report = try JSONDecoder().decode(DiscoveryScan.Report.self, from: Data(json.stdout.utf8))
            #expect(report.entities.count == 7)
            #expect(report.entities.compactMap(\.sensor).sorted() == [
                "ha.0x00158d0001a2b3c4_humidity", "ha.0x00158d0001a2b3c4_temperature", "ha.0x00158d0002b3c4d5_illuminance_lux",
                "ha.0x00158d0002b3c4d5_occupancy", "ha.0x00158d0003c4d5e6_contact",
            ])
            #expect(report.entities.first { $0.entityID == "0x00158d0004d5e6f7_switch" }?.reason?.contains("switch") == true)
            #expect(report.snippet.contains("- driver: mqtt_discovery") && report.snippet.contains("broker: \(broker.address)"))
            let text = try await SmollamaBinary.run(
                ["sensors", "discover", "--broker", broker.address, "--seconds", "1"], home: home.path,
                environment: ["COLUMNS": "80"])
            #expect(text.stdout.contains("7 entities announced") && text.stdout.contains("(5 become sensors)"), "\(text.stdout)")
            #expect(text.stdout.contains("0x00158d0001a2b3c4_linkquality: disabled by default"), "\(text.stdout)")
            #expect(text.stdout.contains("ha.0x00158d0003c4d5e6_contact"))
            #expect(text.stdout.split(separator: "\n").filter { $0.hasPrefix("ha.") }.allSatisfy { $0.count <= 80 })
        }
        let bad = try await SmollamaBinary.run(["sensors", "discover", "--broker", "hub:99999"], home: home.path)
        #expect(bad.status != 0 && bad.stderr.contains("host:port"))
    }

    /// The daemon adopts announced sensors at runtime (shown by `sensors`), counts refused
    /// payloads (shown by `status`), and never adopts its own announcements.
    @Test func theDaemonAdoptsAnnouncedSensorsButNotItsOwn() async throws {
        let broker = try await TestBroker()
        let home = try await MQTTProcessTests().makeNode(sensors: """
                - driver: mqtt_discovery
                  area: {"0x00158d0003c4d5e6_*": hall}
            """)
        let environment = ["SMOLLAMA_MQTT_BROKER": broker.address]
        let client = try devices(broker)
        let node = RunningNode(arguments: ["run"], home: home.path, environment: environment)
        try await MQTTProcessTests().run(client) { () async throws in
            #expect(try await eventually { await client.isConnected })
            try await announce(client)
            try node.start()
            let database = try SmollamaDatabase.open(path: home.path + "/data/smollama.sqlite")
            #expect(try await eventually {
                await client.publish(MQTTOutgoing(topic: "zigbee2mqtt/Front door", text: #"{"contact":false,"battery":91}"#))
                return try await !database.readings.fetch(sensor: "hall.0x00158d0003c4d5e6_contact").isEmpty
            }, "\(node.stderr)")
            await client.publish(MQTTOutgoing(topic: "zigbee2mqtt/Front door", text: "garbage"))
            let sensors = try await SmollamaBinary.run(["sensors", "--json"], home: home.path, environment: environment)
            let summaries = try JSONDecoder().decode([SensorSummary].self, from: Data(sensors.stdout.utf8))
            let door = try #require(summaries.first { $0.sensor.id == "hall.0x00158d0003c4d5e6_contact" })
            #expect(door.lastValue == 1 && door.sensor.deviceClass == "door" && door.driver == "ha", "open is on")
            #expect(try await eventually {
                let status = try await SmollamaBinary.run(["status"], home: home.path, environment: ["COLUMNS": "200"]
                    .merging(environment) { $1 })
                return status.stdout.contains("hall.0x00158d0003c4d5e6_contact") && status.stdout.contains("not JSON")
            })
            let table = try await SmollamaBinary.run(["sensors"], home: home.path, environment: ["COLUMNS": "160"])
            #expect(table.stdout.contains("PROBLEM") && table.stdout.contains("1 refused"), "\(table.stdout)")
            // Its own announcements (the simulated house's sensors) are on the broker, not adopted.
            #expect(try await eventually { node.stderr.contains("announced by a smollama node") }, "\(node.stderr)")
            #expect(summaries.allSatisfy { !$0.sensor.id.rawValue.hasPrefix("ha.testnode") })
            #expect(summaries.filter { $0.driver == "ha" }.count == 5)
            node.signal(SIGTERM)
            _ = try await node.waitForExit()
        }
    }
}
