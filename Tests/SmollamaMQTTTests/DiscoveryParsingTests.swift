import Foundation
import SmollamaCore
import Testing
import Yams
@testable import SmollamaMQTT

/// The recorded messages under Tests/Fixtures/ha-discovery (`topic = payload` lines).
enum DiscoveryFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/ha-discovery")

    static func messages(_ file: String) throws -> [(topic: String, payload: String)] {
        let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map { line in
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let payload = parts.count == 2 ? parts[1].dropFirst() : ""
            return (String(parts[0].dropLast()), String(payload))
        }
    }

    static func parsed(_ file: String) throws -> [HAAnnouncement.Parsed] {
        try messages(file).compactMap { HAAnnouncement.parse(topic: $0.topic, payload: Array($0.payload.utf8), prefix: "homeassistant") }
    }
}

/// The Jinja subset, as pure functions.
@Suite struct ValueTemplateTests {
    func render(_ template: String, _ payload: String) throws -> TemplateValue? {
        let json = (try? JSONDecoder().decode(JSONValue.self, from: Data(payload.utf8))).map(TemplateValue.init)
        return try ValueTemplate(template).render(value: payload, json: json)
    }

    @Test func readsWhatTheProjectsWrite() throws {
        let tasmota = #"{"BME280":{"Temperature":19.8,"Humidity":52.3},"TempUnit":"C","list":[{"a":5}]}"#
        #expect(try render("{{ value_json.temperature }}", #"{"temperature":21.37}"#) == .number(21.37))
        #expect(try render("{{value_json['BME280']['Temperature']}}", tasmota) == .number(19.8))
        #expect(try render(#"{{ value_json["BME280"].Humidity }}"#, tasmota) == .number(52.3))
        #expect(try render("{{ value_json.list[0].a }}", tasmota) == .number(5))
        #expect(try render("{{ value_json.BME280.Temperature | float | round(0) }}", tasmota) == .number(20))
        #expect(try render("{{ value | float | round(1) }}", "20.66") == .number(20.7))
        #expect(try render("{{ value | int }}", "21.9") == .number(21))
        #expect(try render("{{ value }}", "ON") == .string("ON"))
        #expect(try render("{{ value_json.occupancy }}", #"{"occupancy":true}"#) == .bool(true))
        #expect(try render("{{ value_json.state == 'ON' }}", #"{"state":"ON"}"#) == .bool(true))
        #expect(try render("{{ value_json.co2 > 1000 }}", #"{"co2":1200}"#) == .bool(true))
        #expect(try render("{{ 'ON' if value_json.POWER == 1 else 'OFF' }}", #"{"POWER":0}"#) == .string("OFF"))
        #expect(try render("{{ value_json.x is defined and value_json.x >= 2 }}", #"{"x":2}"#) == .bool(true))
        #expect(try render("{{ value_json.t | is_defined }}", #"{"t":4}"#) == .number(4))
        #expect(try render("{{ value_json.t }} °C", #"{"t":4}"#) == .string("4 °C"))
        #expect(try render("{{ value_json.t | float(0) }}", #"{"t":"n/a"}"#) == .number(0))
    }

    @Test func aMissingKeyIsUndefinedNotAnError() throws {
        // Zigbee2MQTT and Tasmota send partial updates: nothing to read is no value, not a fault.
        #expect(try render("{{ value_json.temperature }}", #"{"humidity":40}"#) == nil)
        #expect(try render("{{ value_json.temperature | float | round(1) }}", #"{"humidity":40}"#) == nil)
        #expect(try render("{{ value_json.a.b.c }}", #"{"a":{}}"#) == nil)
        #expect(try render("{{ value_json.t | is_defined }}", "{}") == nil)
    }

    @Test func evaluationErrorsNameTheProblem() throws {
        #expect(throws: TemplateProblem.evaluation("float of the text \"warm\"")) {
            try render("{{ value_json.t | float }}", #"{"t":"warm"}"#)
        }
        #expect(throws: TemplateProblem.evaluation("the payload is not JSON")) {
            try ValueTemplate("{{ value_json.t }}").render(value: "x", json: nil)
        }
    }

    @Test func anythingElseIsRefusedWithAReason() {
        func problem(_ template: String) -> String {
            do {
                _ = try ValueTemplate(template)
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(problem("{% if value_json.a %}1{% endif %}") == "unsupported template: {% %} and {# #} blocks")
        #expect(problem("{{ value_json.energy | multiply(1000) }}") == "unsupported template: the filter 'multiply'")
        #expect(problem("{{ now() }}") == "unsupported template: the name 'now' (only value and value_json are known)")
        #expect(problem("{{ value_json.text[:250] }}") == "unsupported template: slices ([a:b])")
        #expect(problem("{{ value_json.a + 1 }}").hasPrefix("unsupported template: arithmetic"))
        #expect(problem("{{ value_json.a.split(',') }}") == "unsupported template: function and method calls")
        #expect(problem("{{ value_json.a ").hasPrefix("unsupported template: cannot parse it"))
        #expect(problem("{{ states('sensor.x') }}").hasPrefix("unsupported template"))
    }
}

/// Discovery configs as the three projects publish them.
@Suite struct HAAnnouncementTests {
    func entities(_ file: String) throws -> [HAAnnouncement] {
        try DiscoveryFixtures.parsed(file).compactMap { if case .entity(let e) = $0 { e } else { nil } }
    }

    @Test func zigbee2mqtt() throws {
        let all = try DiscoveryFixtures.parsed("zigbee2mqtt.mqtt")
        let entities = try entities("zigbee2mqtt.mqtt")
        let temperature = try #require(entities.first { $0.entityID == "0x00158d0001a2b3c4_temperature" })
        #expect(temperature.name == "Living room climate Temperature")
        #expect(temperature.unit == "°C" && temperature.deviceClass == "temperature" && temperature.kind == .numeric)
        #expect(temperature.stateTopic == "zigbee2mqtt/Living room climate")
        #expect(temperature.availability.map(\.topic)
            == ["zigbee2mqtt/bridge/state", "zigbee2mqtt/Living room climate/availability"])
        #expect(temperature.availabilityMode == "all")
        let door = try #require(entities.first { $0.entityID == "0x00158d0003c4d5e6_contact" })
        #expect(door.kind == .binary && door.payloadOn == "false" && door.payloadOff == "true")
        #expect(entities.first { $0.entityID.hasSuffix("linkquality") }?.enabledByDefault == false)
        #expect(all.contains(.skipped(configTopic: "homeassistant/switch/0x00158d0004d5e6f7/switch/config",
                                      entityID: "0x00158d0004d5e6f7_switch",
                                      reason: "component 'switch' is not read (only sensor and binary_sensor)")))
    }

    @Test func tasmotaAbbreviationsAndTheBaseTopic() throws {
        let entities = try entities("tasmota.mqtt")
        #expect(entities.map(\.entityID) == ["a4cf12_bme280_temperature", "a4cf12_bme280_humidity"])
        #expect(entities.map(\.stateTopic) == ["tele/tasmota_A4CF12/SENSOR", "tele/tasmota_A4CF12/SENSOR"])
        #expect(entities.map { $0.availability.map(\.topic) } == [["tele/tasmota_A4CF12/LWT"], ["tele/tasmota_A4CF12/LWT"]])
        #expect(entities[0].availability[0].payloadAvailable == "online")
        #expect(entities.map(\.unit) == ["°C", "%"])
        #expect(entities[1].valueTemplate?.source == "{{value_json['BME280']['Humidity']}}")
    }

    @Test func esphome() throws {
        let entities = try entities("esphome.mqtt")
        #expect(entities.map(\.entityID) == ["bedroom-node_bedroom_temperature", "bedroom-node_bedroom_window"])
        #expect(entities.map(\.suggestedArea) == ["Bedroom", "Bedroom"])
        #expect(entities[1].kind == .binary && entities[1].payloadOn == "on" && entities[1].valueTemplate == nil)
        #expect(entities[0].availability.first?.payloadNotAvailable == "offline")
    }

    @Test func removalOwnMessagesAndOddTopics() throws {
        #expect(HAAnnouncement.parse(topic: "homeassistant/sensor/a/b/config", payload: [], prefix: "homeassistant")
            == .removed(configTopic: "homeassistant/sensor/a/b/config"))
        #expect(HAAnnouncement.parse(topic: "zigbee2mqtt/x", payload: [1], prefix: "homeassistant") == nil)
        #expect(HAAnnouncement.parse(topic: "homeassistant/sensor/a/b/state", payload: [1], prefix: "homeassistant") == nil)
        var config = MQTTConfig()
        config.discoveryPrefix = "homeassistant"
        let own = HomeAssistantDiscovery.messages(
            node: MQTTNodeInfo(id: NodeID.random(), name: "pi-kitchen", role: "node"),
            sensors: [SensorDescriptor(id: "kitchen.temperature", name: "Kitchen", unit: "°C", deviceClass: "temperature")],
            config: config)
        for message in own {
            let parsed = HAAnnouncement.parse(topic: message.topic, payload: HomeAssistantDiscovery.encode(message.config),
                                              prefix: "homeassistant")
            guard case .skipped(_, _, let reason)? = parsed else {
                Issue.record("own message adopted: \(String(describing: parsed))")
                continue
            }
            #expect(reason.hasPrefix("announced by a smollama node"))
        }
        let long = HAAnnouncement.safeID(String(repeating: "sensor_", count: 12))
        #expect(long.count == 48 && long == HAAnnouncement.safeID(String(repeating: "sensor_", count: 12)))
    }

    @Test func includeExcludeAndRooms() throws {
        let entities = try entities("zigbee2mqtt.mqtt") + entities("esphome.mqtt")
        let options = try YAMLDecoder().decode(MQTTDiscoveryDriver.Options.self, from: """
            exclude: ["*_illuminance_lux"]
            area: {"0x00158d0001a2b3c4_*": living_room, "0x00158d0003c4d5e6_*": hall}
            """)
        let decided = entities.map { (entity: $0.entityID, result: options.decide($0)) }
        let ids = decided.compactMap { try? $0.result.get().id.rawValue }
        #expect(ids == ["living_room.0x00158d0001a2b3c4_temperature", "living_room.0x00158d0001a2b3c4_humidity",
                        "ha.0x00158d0002b3c4d5_occupancy", "hall.0x00158d0003c4d5e6_contact",
                        "bedroom.bedroom-node_bedroom_temperature", "bedroom.bedroom-node_bedroom_window"])
        let reasons = decided.compactMap { item -> String? in
            if case .failure(let skip) = item.result { "\(item.entity): \(skip)" } else { nil }
        }
        #expect(reasons == [
            "0x00158d0001a2b3c4_linkquality: disabled by default in its announcement; name it in include to adopt it",
            "0x00158d0002b3c4d5_illuminance_lux: matches exclude '*_illuminance_lux'",
        ])
        let only = try YAMLDecoder().decode(MQTTDiscoveryDriver.Options.self, from: "include: ['*_linkquality']")
        #expect(entities.compactMap { try? only.decide($0).get().id.rawValue } == ["ha.0x00158d0001a2b3c4_linkquality"])
        #expect(throws: (any Error).self) {
            try YAMLDecoder().decode(MQTTDiscoveryDriver.Options.self, from: "area: {'*': 'Living Room'}")
        }
    }
}

/// Binary words: JSON booleans, numbers and text alike; `invert` last.
@Suite struct PayloadWordTests {
    @Test func jsonBooleansNumbersAndInvert() {
        let door = PayloadExtractor(source: .template(try! ValueTemplate("{{ value_json.contact }}")), kind: .binary,
                                    payloadOn: "false", payloadOff: "true", lenient: false)
        #expect(door.value(from: Array(#"{"contact":false}"#.utf8)) == .success(1))
        #expect(door.value(from: Array(#"{"contact":true}"#.utf8)) == .success(0))
        #expect(door.value(from: Array(#"{"contact":"open"}"#.utf8)).isFailure)
        let inverted = PayloadExtractor(path: "contact", kind: .binary, invert: true)
        #expect(inverted.value(from: Array(#"{"contact":false}"#.utf8)) == .success(1))
        #expect(inverted.value(from: Array(#"{"contact":true}"#.utf8)) == .success(0))
        let numeric = PayloadExtractor(path: "state", kind: .binary, payloadOn: "2", payloadOff: "1.0")
        #expect(numeric.value(from: Array(#"{"state":2}"#.utf8)) == .success(1))
        #expect(numeric.value(from: Array(#"{"state":1}"#.utf8)) == .success(0))
        #expect(PayloadExtractor.word(.bool(true)) == PayloadExtractor.word(.string("True")))
    }
}
