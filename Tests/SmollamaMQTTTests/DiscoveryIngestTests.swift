import Foundation
import Logging
import SmollamaCore
import SmollamaSensors
import SmollamaStore
import SmollamaTesting
import Testing
import Yams
@testable import SmollamaMQTT

/// The `mqtt_discovery` driver end to end: recorded Zigbee2MQTT, Tasmota and ESPHome messages on
/// a real mosquitto, the scheduler and the store.
@Suite(.serialized) struct DiscoveryIngestTests {
    static let adopted: [String: (unit: String, deviceClass: String?, value: Double)] = [
        "living_room.0x00158d0001a2b3c4_temperature": ("°C", "temperature", 21.37),
        "living_room.0x00158d0001a2b3c4_humidity": ("%", "humidity", 48.52),
        "ha.0x00158d0002b3c4d5_occupancy": ("", "occupancy", 1),
        "ha.0x00158d0002b3c4d5_illuminance_lux": ("lx", "illuminance", 14),
        // "contact": false is an open door: on.
        "ha.0x00158d0003c4d5e6_contact": ("", "door", 1),
        "ha.a4cf12_bme280_temperature": ("°C", "temperature", 19.8),
        "ha.a4cf12_bme280_humidity": ("%", "humidity", 52.3),
        "bedroom.bedroom-node_bedroom_temperature": ("°C", "temperature", 20.6),
        "bedroom.bedroom-node_bedroom_window": ("", "window", 0),
    ]

    @Test func adoptsWhatZigbee2MQTTTasmotaAndESPHomeAnnounce() async throws {
        let broker = try await TestBroker()
        let store = try await TestStore()
        let devices = try makeClient(broker, id: "devices")
        let bus = try makeClient(broker, id: "node-discovery")
        let options = try YAMLDecoder().decode(MQTTDiscoveryDriver.Options.self,
                                               from: #"area: {"0x00158d0001a2b3c4_*": living_room}"#)
        let driver = MQTTDiscoveryDriver(options: options, bus: bus, logger: .quiet)
        let writer = ReadingWriter(database: store.database, origin: store.node,
                                   configuration: .init(flushInterval: .milliseconds(50)), logger: .quiet)
        let scheduler = SensorScheduler(drivers: [ScheduledDriver(driver: driver)], writer: writer,
                                        clock: NodeClock(source: SystemClockSource(), persisted: nil), logger: .quiet)
        let values = { (id: String) in try await store.database.readings.fetch(sensor: SensorID(id)).map(\.value) }
        let summaries = { () async throws -> [String: SensorSummary] in
            Dictionary(uniqueKeysWithValues: try await store.database.sensorSummaries(now: .now()).map { ($0.sensor.id.rawValue, $0) })
        }
        func publish(_ topic: String, _ payload: String, retain: Bool = false) async {
            await devices.publish(MQTTOutgoing(topic: topic, text: payload, retain: retain))
        }
        func publish(_ file: String, retain: Bool = false) async throws {
            for message in try DiscoveryFixtures.messages(file) { await publish(message.topic, message.payload, retain: retain) }
        }
        // This node's own announcements (and another smollama node's) are on the same broker.
        let own = HomeAssistantDiscovery.messages(
            node: MQTTNodeInfo(id: store.node, name: "pi-kitchen", role: "node"),
            sensors: [SensorDescriptor(id: "kitchen.temperature", name: "Kitchen", unit: "°C", deviceClass: "temperature")],
            config: MQTTConfig())

        try await withServices([
            { try await devices.run() }, { try await bus.run() }, { try await scheduler.run() },
            { try await ReadingWriterService(writer: writer).run() },
        ]) { () async throws in
            #expect(try await eventually { await isConnected(devices, bus) })
            for file in ["zigbee2mqtt.mqtt", "tasmota.mqtt", "esphome.mqtt"] { try await publish(file, retain: true) }
            for message in own {
                await devices.publish(MQTTOutgoing(topic: message.topic, payload: HomeAssistantDiscovery.encode(message.config),
                                                   retain: true))
            }
            await publish("homeassistant/sensor/0x00158d0005e6f7a8/energy/config",
                          #"{"state_topic":"zigbee2mqtt/Meter","value_template":"{{ value_json.energy | multiply(1000) }}"}"#,
                          retain: true)
            #expect(try await eventually { driver.statistics.adopted.count == Self.adopted.count })
            #expect(Set(driver.statistics.adopted.map(\.rawValue)) == Set(Self.adopted.keys))

            // Values: published until every adopted sensor has one (its state subscription is live).
            #expect(try await eventually {
                for file in ["zigbee2mqtt-states.mqtt", "tasmota-states.mqtt", "esphome-states.mqtt"] { try await publish(file) }
                for id in Self.adopted.keys where try await values(id).isEmpty { return false }
                return true
            })
            let shown = try await summaries()  // what `smollama sensors` shows
            for (id, expected) in Self.adopted {
                let summary = try #require(shown[id], "\(id) is registered")
                #expect(summary.sensor.unit == expected.unit, "\(id)")
                #expect(summary.sensor.deviceClass == expected.deviceClass, "\(id)")
                #expect(summary.lastValue == expected.value, "\(id)")
                #expect(summary.driver == "ha")
            }
            #expect(shown["living_room.0x00158d0001a2b3c4_temperature"]?.sensor.name == "Living room climate Temperature")
            #expect(shown["ha.0x00158d0003c4d5e6_contact"]?.sensor.kind == .binary)

            // Not adopted, each with its reason: disabled by default, a switch, our own, a template we cannot read.
            let skipped = driver.statistics.skipped
            #expect(skipped["0x00158d0001a2b3c4_linkquality"]?.contains("disabled by default") == true)
            #expect(skipped["0x00158d0004d5e6f7_switch"]?.contains("component 'switch'") == true)
            #expect(skipped["0x00158d0005e6f7a8_energy"] == "unsupported template: the filter 'multiply'")
            #expect(skipped.values.filter { $0.contains("smollama node") }.count == own.count)
            #expect(shown.keys.allSatisfy { !$0.contains("pi-kitchen") && !$0.contains("linkquality") })

            // Availability: offline is a fault, not a value; back online clears it.
            await publish("bedroom-node/status", "offline")
            await publish("bedroom-node/sensor/bedroom_temperature/state", "5.5")
            await publish("zigbee2mqtt/Front door/availability", #"{"state":"offline"}"#)
            #expect(try await eventually {
                let now = try await summaries()
                return now["bedroom.bedroom-node_bedroom_temperature"]?.status == "faulty"
                    && now["bedroom.bedroom-node_bedroom_window"]?.status == "faulty"
                    && now["ha.0x00158d0003c4d5e6_contact"]?.status == "faulty"
            })
            #expect(try await summaries()["ha.0x00158d0003c4d5e6_contact"]?.lastError?.contains("unavailable") == true)
            #expect(try await summaries()["ha.0x00158d0002b3c4d5_occupancy"]?.status == "ok", "other devices stay ok")
            await publish("bedroom-node/status", "online")
            await publish("bedroom-node/sensor/bedroom_temperature/state", "21.5")
            await publish("zigbee2mqtt/Front door/availability", #"{"state":"online"}"#)
            #expect(try await eventually {
                let now = try await summaries()
                return try await values("bedroom.bedroom-node_bedroom_temperature").last == 21.5
                    && now["bedroom.bedroom-node_bedroom_temperature"]?.status == "ok"
                    && now["ha.0x00158d0003c4d5e6_contact"]?.status == "ok"
            })
            #expect(try await !values("bedroom.bedroom-node_bedroom_temperature").contains(5.5), "no value while offline")

            // Malformed payloads: counted per sensor with the reason; partial updates are not.
            await publish("zigbee2mqtt/Living room climate", "not json")
            await publish("tele/tasmota_A4CF12/SENSOR", #"{"BME280":{"Temperature":"n/a","Humidity":50.1}}"#)
            await publish("bedroom-node/binary_sensor/bedroom_window/state", "AJAR")
            await publish("zigbee2mqtt/Hallway motion", #"{"illuminance_lux":20}"#)
            #expect(try await eventually { try await values("ha.0x00158d0002b3c4d5_illuminance_lux").last == 20 })
            #expect(try await eventually {
                let now = try await summaries()
                return now["living_room.0x00158d0001a2b3c4_temperature"]?.rejectedCount == 1
                    && now["living_room.0x00158d0001a2b3c4_humidity"]?.rejectedCount == 1
                    && now["ha.a4cf12_bme280_temperature"]?.rejectedCount == 1
                    && now["bedroom.bedroom-node_bedroom_window"]?.rejectedCount == 1
            })
            let now = try await summaries()
            #expect(now["living_room.0x00158d0001a2b3c4_temperature"]?.lastError
                == "zigbee2mqtt/Living room climate: payload is not JSON, but the sensor reads JSON (a 'path' or value_json)")
            #expect(now["ha.a4cf12_bme280_temperature"]?.lastError?.hasSuffix("is the text \"n/a\"; expected a number") == true)
            #expect(now["bedroom.bedroom-node_bedroom_window"]?.lastError?.contains("payload_on \"on\" or payload_off \"off\"") == true)
            #expect(now["ha.a4cf12_bme280_humidity"]?.rejectedCount == 0 && now["ha.a4cf12_bme280_humidity"]?.lastValue == 50.1)
            #expect(now["ha.0x00158d0002b3c4d5_occupancy"]?.rejectedCount == 0, "a partial update is not malformed")

            // Removal: an empty retained config; the sensor takes no more values, the others go on.
            await publish("homeassistant/sensor/A4CF12_BME280_Humidity/config", "", retain: true)
            #expect(try await eventually { !driver.statistics.adopted.contains("ha.a4cf12_bme280_humidity") })
            await publish("tele/tasmota_A4CF12/SENSOR", #"{"BME280":{"Temperature":18.5,"Humidity":61.0}}"#)
            #expect(try await eventually { try await values("ha.a4cf12_bme280_temperature").last == 18.5 })
            #expect(try await !values("ha.a4cf12_bme280_humidity").contains(61.0))
            #expect(driver.statistics.removed == 1)
        }
    }
}
