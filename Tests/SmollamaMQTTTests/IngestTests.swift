import Foundation
import Logging
import SmollamaCore
import SmollamaSensors
import SmollamaStore
import SmollamaTesting
import Testing
import Yams
@testable import SmollamaMQTT

/// Value extraction, as pure functions.
@Suite struct PayloadExtractorTests {
    func value(_ payload: String, path: String, kind: SensorDescriptor.Kind = .numeric) -> Result<Double, PayloadProblem> {
        PayloadExtractor(path: path, kind: kind, maxPayload: 1024).value(from: Array(payload.utf8))
    }

    @Test func zigbee2mqttKeys() {
        let payload = #"{"temperature":27.3,"humidity":41,"occupancy":true,"battery":97,"linkquality":120}"#
        #expect(value(payload, path: "temperature") == .success(27.3))
        #expect(value(payload, path: "occupancy", kind: .binary) == .success(1))
        #expect(value(#"{"occupancy":false}"#, path: "occupancy", kind: .binary) == .success(0))
        #expect(value(#"{"contact":"ON"}"#, path: "contact", kind: .binary) == .success(1))
    }

    @Test func tasmotaNestedPath() {
        let payload = #"{"Time":"2024-01-01T10:00:00","BME280":{"Temperature":21.4,"Humidity":48.2,"Pressure":1013.1},"TempUnit":"C"}"#
        #expect(value(payload, path: "BME280.Temperature") == .success(21.4))
        #expect(value(payload, path: "BME280.Pressure") == .success(1013.1))
        #expect(value(#"{"a":[{"b":5}]}"#, path: "a.0.b") == .success(5))
    }

    @Test func plainValues() {
        #expect(value("21.5", path: "") == .success(21.5))
        #expect(value(" 21.5\n", path: "") == .success(21.5))
        #expect(value("ON", path: "", kind: .binary) == .success(1))
        #expect(value("off", path: "", kind: .binary) == .success(0))
        #expect(PayloadExtractor(path: "", kind: .binary, payloadOn: "open", payloadOff: "closed")
            .value(from: Array("open".utf8)) == .success(1))
    }

    @Test func malformedPayloadsAreNamed() {
        #expect(value("not json", path: "temperature") == .failure(.notJSON))
        #expect(value(#"{"temperature":"warm"}"#, path: "temperature")
            == .failure(.wrongType(path: "temperature", found: "the text \"warm\"", expected: "a number")))
        #expect(value(#"{"temperature":true}"#, path: "temperature")
            == .failure(.wrongType(path: "temperature", found: "true", expected: "a number")))
        #expect(value(#"{"occupancy":7}"#, path: "occupancy", kind: .binary).isFailure)
        #expect(value(#"{"BME280":5}"#, path: "BME280.Temperature").isFailure)
        #expect(value("abc", path: "") == .failure(.wrongType(path: "", found: "the text \"abc\"", expected: "a number")))
        #expect(value(String(repeating: "9", count: 2000), path: "") == .failure(.tooLarge(bytes: 2000, limit: 1024)))
        #expect(PayloadExtractor(path: "", kind: .numeric).value(from: [0xff, 0xfe]) == .failure(.notText))
        // A key that is simply absent is a partial update, not malformed.
        #expect(value(#"{"humidity":40}"#, path: "temperature") == .failure(.missingKey("temperature")))
        #expect(!PayloadProblem.missingKey("x").isMalformed)
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}

/// The `mqtt` driver end to end: a real broker, the scheduler and the store.
@Suite(.serialized) struct IngestTests {
    static let config = """
        name: zigbee
        max_payload: 4096
        sensors:
          - key: living_temperature
            topic: zigbee2mqtt/living_room
            path: temperature
            unit: °C
            device_class: temperature
            range: [-40, 85]
          - key: living_occupancy
            topic: zigbee2mqtt/living_room
            path: occupancy
            kind: binary
            device_class: occupancy
          - key: kitchen_temperature
            topic: tele/kitchen/SENSOR
            path: BME280.Temperature
            unit: °C
          - key: door
            topic: home/door
            kind: binary
            payload_on: open
            payload_off: closed
        """

    func makeDriver(bus: any TopicSubscriber) throws -> MQTTSensorDriver {
        let options = try YAMLDecoder().decode(MQTTSensorDriver.Options.self, from: Self.config)
        return MQTTSensorDriver(options: options, bus: bus, logger: .quiet)
    }

    @Test func zigbeeAndTasmotaPayloadsBecomeReadings() async throws {
        let broker = try await TestBroker()
        let store = try await TestStore()
        let bus = try makeClient(broker, id: "node-ingest")
        let device = try makeClient(broker, id: "device")
        let driver = try makeDriver(bus: bus)
        #expect(driver.sensors.map(\.id.rawValue)
            == ["zigbee.living_temperature", "zigbee.living_occupancy", "zigbee.kitchen_temperature", "zigbee.door"])
        let writer = ReadingWriter(database: store.database, origin: store.node,
                                   configuration: .init(flushInterval: .milliseconds(50)), logger: .quiet)
        let scheduler = SensorScheduler(drivers: [ScheduledDriver(driver: driver)], writer: writer,
                                        clock: NodeClock(source: SystemClockSource(), persisted: nil), logger: .quiet)
        let values = { (key: String) in
            try await store.database.readings.fetch(sensor: SensorID("zigbee.\(key)")).map(\.value)
        }
        try await withServices([
            { try await bus.run() }, { try await device.run() }, { try await scheduler.run() },
            { try await ReadingWriterService(writer: writer).run() },
        ]) { () async throws in
            #expect(try await eventually { await isConnected(bus, device) })
            // Publish until the node's subscription is in place (it is made on connect).
            #expect(try await eventually {
                await device.publish(MQTTOutgoing(topic: "zigbee2mqtt/living_room",
                                                  text: #"{"temperature":27.3,"occupancy":true,"linkquality":99}"#))
                return try await !values("living_temperature").isEmpty
            })
            await device.publish(MQTTOutgoing(topic: "tele/kitchen/SENSOR",
                                              text: #"{"Time":"2024-05-01T10:00:00","BME280":{"Temperature":21.4,"Humidity":48}}"#))
            await device.publish(MQTTOutgoing(topic: "home/door", text: "open"))
            await device.publish(MQTTOutgoing(topic: "zigbee2mqtt/living_room", text: #"{"temperature":26.9,"occupancy":false}"#))
            #expect(try await eventually {
                let kitchen = try await values("kitchen_temperature"), door = try await values("door")
                let occupancy = try await values("living_occupancy"), living = try await values("living_temperature")
                return kitchen == [21.4] && door == [1] && occupancy == [1, 0] && living.last == 26.9
            })
            #expect(Set(try await values("living_temperature")).isSubset(of: [27.3, 26.9]))

            // Malformed: not JSON, wrong type, huge; and a value outside the declared range.
            let before = driver.statistics
            await device.publish(MQTTOutgoing(topic: "zigbee2mqtt/living_room", text: "{temperature: 20"))
            await device.publish(MQTTOutgoing(topic: "zigbee2mqtt/living_room", text: #"{"temperature":"hot"}"#))
            await device.publish(MQTTOutgoing(topic: "tele/kitchen/SENSOR",
                                              text: #"{"BME280":{"Temperature":""# + String(repeating: "1", count: 5000) + "}}"))
            await device.publish(MQTTOutgoing(topic: "home/door", text: "ajar"))
            await device.publish(MQTTOutgoing(topic: "zigbee2mqtt/living_room", text: #"{"temperature":500}"#))
            // A good message after them shows the driver is still alive.
            await device.publish(MQTTOutgoing(topic: "tele/kitchen/SENSOR", text: #"{"BME280":{"Temperature":22.0}}"#))
            #expect(try await eventually { try await values("kitchen_temperature") == [21.4, 22.0] })
            let after = driver.statistics
            #expect(after.malformed - before.malformed == 4, "\(after)")
            #expect(after.lastProblem?.hasPrefix("home/door:") == true, "the topic is named: \(after.lastProblem ?? "")")
            #expect(try await values("living_temperature").allSatisfy { $0 < 85 }, "out of range refused by the scheduler")
            #expect(try await values("door") == [1])
        }
    }

    @Test func invertPayloadWordsAndRefusalsPerSensor() async throws {
        let broker = try await TestBroker()
        let store = try await TestStore()
        let bus = try makeClient(broker, id: "node-words")
        let device = try makeClient(broker, id: "device-words")
        let options = try YAMLDecoder().decode(MQTTSensorDriver.Options.self, from: """
            name: home
            sensors:
              - {key: front_door, topic: zigbee2mqtt/Front door, path: contact, kind: binary, invert: true}
              - {key: leak, topic: zigbee2mqtt/Leak, path: water_leak, kind: binary, payload_on: true, payload_off: false}
              - {key: fan, topic: home/fan, path: mode, kind: binary, payload_on: 2, payload_off: 1}
              - {key: temperature, topic: home/temperature}
            """)
        let driver = MQTTSensorDriver(options: options, bus: bus, logger: .quiet)
        let logs = LogCapture()
        let writer = ReadingWriter(database: store.database, origin: store.node,
                                   configuration: .init(flushInterval: .milliseconds(50)), logger: .quiet)
        let scheduler = SensorScheduler(drivers: [ScheduledDriver(driver: driver)], writer: writer,
                                        clock: NodeClock(source: SystemClockSource(), persisted: nil), logger: logs.logger())
        let values = { (key: String) in try await store.database.readings.fetch(sensor: SensorID("home.\(key)")).map(\.value) }
        let summary = { (key: String) in
            try await store.database.sensorSummaries(now: .now()).first { $0.sensor.id.rawValue == "home.\(key)" }
        }
        try await withServices([
            { try await bus.run() }, { try await device.run() }, { try await scheduler.run() },
            { try await ReadingWriterService(writer: writer).run() },
        ]) { () async throws in
            #expect(try await eventually { await isConnected(bus, device) })
            #expect(try await eventually {
                await device.publish(MQTTOutgoing(topic: "zigbee2mqtt/Front door", text: #"{"contact":false,"battery":91}"#))
                return try await !values("front_door").isEmpty
            })
            await device.publish(MQTTOutgoing(topic: "zigbee2mqtt/Front door", text: #"{"contact":true}"#))
            await device.publish(MQTTOutgoing(topic: "zigbee2mqtt/Leak", text: #"{"water_leak":true}"#))
            await device.publish(MQTTOutgoing(topic: "home/fan", text: #"{"mode":2}"#))
            await device.publish(MQTTOutgoing(topic: "home/fan", text: #"{"mode":1.0}"#))
            #expect(try await eventually {
                let door = try await values("front_door"), leak = try await values("leak"), fan = try await values("fan")
                return door == [1, 0] && leak == [1] && fan == [1, 0]
            }, "open (contact false) is on; JSON true and numbers match payload_on/off")

            // Five refusals: all counted, with the reason; logged once (at most once a minute).
            for _ in 0..<5 { await device.publish(MQTTOutgoing(topic: "home/temperature", text: "warm")) }
            await device.publish(MQTTOutgoing(topic: "zigbee2mqtt/Leak", text: #"{"water_leak":"maybe"}"#))
            #expect(try await eventually {
                let temperature = try await summary("temperature"), leak = try await summary("leak")
                return temperature?.rejectedCount == 5 && leak?.rejectedCount == 1
            })
            #expect(try await summary("temperature")?.lastError == "home/temperature: 'payload' is the text \"warm\"; expected a number")
            #expect(try await summary("front_door")?.rejectedCount == 0)
            let refusals = logs.all.filter { $0.message == "payload refused" }
            #expect(refusals.filter { $0.metadata["smollama.sensor.id"] == "home.temperature" }.count == 1)
            #expect(refusals.filter { $0.metadata["smollama.sensor.id"] == "home.leak" }.count == 1)
            #expect(driver.statistics.malformed == 6)
        }
    }

    @Test func driverConfigErrorsNameTheKey() throws {
        func error(_ yaml: String) -> String {
            do {
                _ = try YAMLDecoder().decode(MQTTSensorDriver.Options.self, from: yaml)
                return "no error"
            } catch { return "\(error)" }
        }
        #expect(error("name: x") .contains("list at least one sensor"))
        #expect(error("sensors: [{key: t, topic: 'a/#'}]").contains("exact topic"))
        #expect(error("sensors: [{key: T.x, topic: a}]").contains("not a sensor key"))
        #expect(error("sensors: [{key: t, topic: a, colour: red}]").contains("colour"))
        #expect(error("sensors: [{key: t, topic: a, range: [5, 1]}]").contains("[min, max]"))
        #expect(error("sensors: [{key: t, topic: a, invert: true}]").contains("only binary sensors can be inverted"))
        #expect(error("sensors: [{key: t, topic: a, kind: binary, payload_on: 1, payload_off: 1.0}]").contains("the same word"))
    }

    @Test func driverKindNeedsTheBroker() throws {
        let entry = try YAMLDecoder().decode(KindProbe.self, from: "sensors: [{key: t, topic: a}]",
                                             userInfo: [KindProbe.key: DriverContext(dataDirectory: "/tmp", logger: .quiet)])
        #expect(entry.error?.contains("set mqtt.broker") == true)
    }
}

/// Runs the kind's `make` with a context that has no MQTT connection.
struct KindProbe: Decodable {
    static let key = CodingUserInfoKey(rawValue: "context")!
    var error: String?
    init(from decoder: any Decoder) throws {
        do {
            _ = try MQTTSensorDriver.kind.make(decoder, decoder.userInfo[Self.key] as! DriverContext)
        } catch { self.error = "\(error)" }
    }
}
