import Foundation
public import Logging
public import ServiceLifecycle
public import SmollamaCore
public import SmollamaSensors
import SmollamaStore

/// What a node publishes, live (history travels by sync, never over MQTT):
/// - `<prefix>/<node>/status`: retained `online`; the broker publishes the last will `offline`.
/// - `<prefix>/<node>/sensors/<sensor>`: `{"value":…, "unit":…, "time":…}`, at most one per
///   sensor per `publish_interval` (the newest value wins).
/// - `<prefix>/<node>/observations`: each new observation (retained: the latest).
/// - Home Assistant discovery, at start, after every reconnect and when HA says `online`.
public actor MQTTPublisher: Service {
    /// A sensor message's payload.
    public struct SensorPayload: Codable, Sendable, Hashable {
        public var value: Double
        /// `ON`/`OFF` for binary sensors.
        public var state: String?
        public var unit: String
        /// ISO 8601 UTC.
        public var time: String
        public var timeMs: UTCMillis

        public init(value: Double, state: String?, unit: String, time: String, timeMs: UTCMillis) {
            self.value = value
            self.state = state
            self.unit = unit
            self.time = time
            self.timeMs = timeMs
        }

        enum CodingKeys: String, CodingKey {
            case value, state, unit, time
            case timeMs = "time_ms"
        }

        /// The JSON bytes, written directly: this runs for every published reading, and
        /// `JSONEncoder` plus a date formatter cost more than the MQTT publish (BENCHMARKS.md).
        /// Same keys, sorted, as `JSONEncoder` with `.sortedKeys` would write.
        public var json: [UInt8] {
            var text = #"{"#
            if let state { text += #""state":"# + Self.quoted(state) + "," }
            text += #""time":"# + Self.quoted(time) + #","time_ms":\#(timeMs),"unit":"# + Self.quoted(unit)
            text += #","value":"# + (value.isFinite ? "\(value)" : "null") + "}"
            return Array(text.utf8)
        }

        static func quoted(_ text: String) -> String {
            var result = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": result += "\\\""
                case "\\": result += "\\\\"
                case "\n": result += "\\n"
                case "\r": result += "\\r"
                case "\t": result += "\\t"
                case _ where scalar.value < 0x20:
                    result += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                default: result.unicodeScalars.append(scalar)
                }
            }
            return result + "\""
        }

        /// `2026-11-26T03:00:00Z` (UTC, whole seconds).
        public static func isoTime(_ time: UTCMillis) -> String {
            var seconds = time_t(time.rawValue.floorDiv(1000))
            var parts = tm()
            gmtime_r(&seconds, &parts)
            func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
            return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
                + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
        }
    }

    /// An observation as published (the Mind fills it in later).
    public struct ObservationPayload: Codable, Sendable, Hashable {
        public var text: String
        public var kind: String
        public var subjects: [String]
        public var timeMs: UTCMillis

        public init(text: String, kind: String, subjects: [String], timeMs: UTCMillis) {
            self.text = text
            self.kind = kind
            self.subjects = subjects
            self.timeMs = timeMs
        }

        enum CodingKeys: String, CodingKey {
            case text, kind, subjects
            case timeMs = "time_ms"
        }
    }

    public nonisolated let client: MQTTClient
    private let feed: LiveReadingFeed
    private let node: MQTTNodeInfo
    private let sensors: [SensorDescriptor]
    private let config: MQTTConfig
    private let stateFile: String?
    private let logger: Logger
    /// The rate limit's clock: a reading is sent at most once per `publish_interval` of it.
    private let clock: ServiceClock
    private var lastSent: [SensorID: Duration] = [:]
    private var pending: [SensorID: LiveReading] = [:]
    private var seenConnects = 0
    public private(set) var sensorMessages = 0
    public private(set) var discoveryRounds = 0

    public init(client: MQTTClient, feed: LiveReadingFeed, node: MQTTNodeInfo, sensors: [SensorDescriptor],
                config: MQTTConfig, stateFile: String?, logger: Logger, clock: some Clock<Duration> = ContinuousClock()) {
        self.clock = ServiceClock(clock)
        self.client = client
        self.feed = feed
        self.node = node
        self.sensors = sensors
        self.config = config
        self.stateFile = stateFile
        self.logger = logger
    }

    public nonisolated var baseTopic: String { config.nodeTopic(node: node.name) }

    /// The client options that belong to a node: stable id, retained birth, will and goodbye.
    public static func clientOptions(config: MQTTConfig, node: MQTTNodeInfo) -> MQTTClient.Options? {
        guard let endpoint = config.resolvedBroker.endpoint else { return nil }
        let status = "\(config.nodeTopic(node: node.name))/status"
        var options = MQTTClient.Options(host: endpoint.host, port: endpoint.port,
                                         clientID: "\(config.clientIDPrefix)-\(node.id.hex)")
        options.username = config.username.isEmpty ? nil : config.username
        options.password = config.password.isEmpty ? nil : config.password
        if config.tls {
            options.tls = .init(caFile: config.tlsCAFile.isEmpty ? nil : config.tlsCAFile,
                                certFile: config.tlsCertFile.isEmpty ? nil : config.tlsCertFile,
                                keyFile: config.tlsKeyFile.isEmpty ? nil : config.tlsKeyFile, insecure: config.tlsInsecure)
        }
        options.keepalive = config.keepalive.duration
        options.reconnectMax = config.reconnectMax.duration
        options.queueSize = config.queueSize
        options.will = MQTTOutgoing(topic: status, text: "offline", retain: true)
        options.birth = MQTTOutgoing(topic: status, text: "online", retain: true)
        options.goodbye = MQTTOutgoing(topic: status, text: "offline", retain: true)
        return options
    }

    public func run() async throws {
        let readings = await feed.subscribe()
        let haStatus = client.messages(matching: ["\(config.discoveryPrefix)/status"])
        if config.discovery { await publishDiscovery() }
        let period = max(config.publishInterval.duration / 2, .milliseconds(100))
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await reading in readings.cancelOnGracefulShutdown() { await self.offer(reading) }
            }
            group.addTask {
                for await message in haStatus.cancelOnGracefulShutdown()
                where String(decoding: message.payload, as: UTF8.self) == "online" {
                    await self.homeAssistantCameOnline()
                }
            }
            group.addTask {
                try? await cancelWhenGracefulShutdown {
                    while true {
                        try await self.clock.sleep(for: period)
                        await self.tick()
                    }
                }
            }
        }
        await tick()
    }

    /// One sensor reading from the scheduler: sent now, or held until its interval has passed.
    public func offer(_ reading: LiveReading) async {
        let now = clock.now
        if let last = lastSent[reading.sensor.id], now - last < config.publishInterval.duration {
            pending[reading.sensor.id] = reading
            return
        }
        await send(reading, at: now)
    }

    /// Publishes an observation (the hook the Mind's observation loop calls).
    public func publish(observation: ObservationPayload) async {
        guard let payload = try? Self.encoder.encode(observation) else { return }
        await client.publish(MQTTOutgoing(topic: "\(baseTopic)/observations", payload: Array(payload), retain: true))
    }

    /// Flushes held readings whose interval passed, notices reconnects, writes the state file.
    public func tick() async {
        let now = clock.now
        for (sensor, reading) in pending {
            if let last = lastSent[sensor], now - last < config.publishInterval.duration { continue }
            pending[sensor] = nil
            await send(reading, at: now)
        }
        let status = await client.status()
        if config.discovery, status.connects > seenConnects {
            // A new connection may be to a broker that lost its retained messages.
            if seenConnects > 0 { await publishDiscovery() }
        }
        seenConnects = status.connects
        if let stateFile { writeState(status, to: stateFile) }
    }

    private func send(_ reading: LiveReading, at now: Duration) async {
        lastSent[reading.sensor.id] = now
        let binary = reading.sensor.kind == .binary
        let payload = SensorPayload(
            value: reading.value, state: binary ? (reading.value == 1 ? "ON" : "OFF") : nil, unit: reading.sensor.unit,
            time: SensorPayload.isoTime(reading.time), timeMs: reading.time)
        sensorMessages += 1
        await client.publish(MQTTOutgoing(topic: "\(baseTopic)/sensors/\(reading.sensor.id.rawValue)",
                                          payload: payload.json))
    }

    private func homeAssistantCameOnline() async {
        guard config.discovery else { return }
        logger.info("Home Assistant came online; re-publishing discovery")
        await publishDiscovery()
    }

    private func publishDiscovery() async {
        discoveryRounds += 1
        for message in HomeAssistantDiscovery.messages(node: node, sensors: sensors, config: config) {
            await client.publish(MQTTOutgoing(topic: message.topic, payload: HomeAssistantDiscovery.encode(message.config),
                                              retain: true))
        }
    }

    private func writeState(_ status: MQTTClientStatus, to path: String) {
        let state = MQTTNodeState(updatedAt: UTCMillis.now(), client: status,
                                  sensorMessages: sensorMessages, ingest: client.driverStatistics.snapshot)
        guard let data = try? Self.encoder.encode(state) else { return }
        let temporary = path + ".tmp"
        if FileManager.default.createFile(atPath: temporary, contents: data) {
            _ = rename(temporary, path)
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// The daemon's MQTT state, written to `data/mqtt.json` every tick for `smollama status`.
public struct MQTTNodeState: Codable, Sendable, Hashable {
    public var updatedAt: UTCMillis
    public var client: MQTTClientStatus
    public var sensorMessages: Int
    public var ingest: [String: MQTTDriverStatistics.Entry]

    public static func read(path: String) -> MQTTNodeState? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(MQTTNodeState.self, from: data)
    }
}

extension Int64 {
    fileprivate func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
