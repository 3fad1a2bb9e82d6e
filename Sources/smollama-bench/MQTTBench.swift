import ArgumentParser
import CMosquitto
import Foundation
import Logging
import SmollamaCore
import SmollamaMQTT
import SmollamaProcess
import SmollamaSensors
import Synchronization

/// Messages/s the node's publisher sustains to a local mosquitto (QoS 1, every message
/// acknowledged), against a raw libmosquitto loop publishing the same payloads in the same run.
struct MQTTBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqtt",
        abstract: "Node publisher (MQTTPublisher + MQTTClient) vs a raw libmosquitto publish loop, QoS 1, local mosquitto.")

    @Option(help: "Messages per run.") var messages = 50_000
    @Option(help: "Runs of each; the best is reported.") var runs = 3
    @Option(help: "The mosquitto executable.") var mosquitto = "/usr/sbin/mosquitto"
    @Flag(help: "Print the result as JSON.") var json = false

    struct Result: Codable {
        var messages: Int
        var publisherMessagesPerSecond: Double
        var rawMessagesPerSecond: Double
        /// publisher / raw: 1.0 means no overhead.
        var ratio: Double
        var payloadBytes: Int
    }

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.path + "/smollama-bench-mqtt-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let port = Int32.random(in: 20_000...60_000)
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        try "listener \(port) 127.0.0.1\nallow_anonymous true\nuser \(user)\n"
            .write(toFile: directory + "/mosquitto.conf", atomically: true, encoding: .utf8)
        let broker = try ChildProcess(mosquitto, ["-c", directory + "/mosquitto.conf"], output: .file(directory + "/log"))
        defer { broker.stop() }
        try await Task.sleep(for: .milliseconds(500))
        guard broker.isRunning else { throw BenchError("mosquitto did not start; install Debian's mosquitto") }

        let sensors = (0..<9).map { SensorDescriptor(id: SensorID("room.sensor\($0)"), name: "Sensor \($0)", unit: "°C") }
        let sample = MQTTPublisher.SensorPayload(value: 21.37, state: nil, unit: "°C", time: "2026-11-26T03:00:00Z",
                                                 timeMs: 1_795_000_000_000)
        let payloadBytes = try JSONEncoder().encode(sample).count
        var best = (publisher: 0.0, raw: 0.0)
        for run in 0..<runs {
            let publisher = try await measurePublisher(port: port, sensors: sensors, run: run)
            let raw = try await measureRaw(port: port, payload: Array(repeating: UInt8(ascii: "x"), count: payloadBytes),
                                           run: run)
            best = (max(best.publisher, publisher), max(best.raw, raw))
        }
        let result = Result(messages: messages, publisherMessagesPerSecond: best.publisher,
                            rawMessagesPerSecond: best.raw, ratio: best.publisher / best.raw, payloadBytes: payloadBytes)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print("MQTT publish of \(messages) messages (~\(payloadBytes) B JSON), QoS 1, mosquitto on loopback, best of \(runs):")
        print(String(format: "  node publisher        %8.0f messages/s", best.publisher))
        print(String(format: "  raw libmosquitto loop %8.0f messages/s", best.raw))
        print(String(format: "  ratio (node/raw) %.2f", result.ratio))
    }

    /// The node's path: `MQTTPublisher.offer` (JSON encoding, topic, rate-limit bookkeeping) →
    /// `MQTTClient` (bounded queue, in-flight window) → libmosquitto; timed until the broker
    /// acknowledged every message. Rate limiting is off (`publish_interval: 0`).
    func measurePublisher(port: Int32, sensors: [SensorDescriptor], run: Int) async throws -> Double {
        var config = MQTTConfig()
        config.broker = "127.0.0.1:\(port)"
        config.publishInterval = .init(milliseconds: 0)
        config.queueSize = messages + 10
        config.discovery = false
        let node = MQTTNodeInfo(id: NodeID.random(), name: "bench\(run)", role: "alpaca")
        guard var options = MQTTPublisher.clientOptions(config: config, node: node) else { throw BenchError("no broker") }
        options.queueSize = messages + 10
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let client = try MQTTClient(options: options, logger: logger)
        let publisher = MQTTPublisher(client: client, feed: LiveReadingFeed(), node: node, sensors: sensors,
                                      config: config, stateFile: nil, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            defer { group.cancelAll() }
            while await !client.isConnected { try await Task.sleep(for: .milliseconds(10)) }
            let baseline = await client.status().acknowledged  // the birth message
            let start = ContinuousClock.now
            for i in 0..<messages {
                await publisher.offer(LiveReading(sensor: sensors[i % sensors.count], value: 21 + Double(i % 100) / 100,
                                                  time: UTCMillis(rawValue: 1_795_000_000_000 + Int64(i))))
            }
            while await client.status().acknowledged - baseline < messages {
                try await Task.sleep(for: .milliseconds(1))
            }
            return Double(messages) / (ContinuousClock.now - start).seconds
        }
    }

    /// The baseline: what a C program would do with libmosquitto — one handle, its network
    /// thread, `mosquitto_publish` in a loop with the same in-flight window, until every PUBACK.
    func measureRaw(port: Int32, payload: [UInt8], run: Int) async throws -> Double {
        let acknowledged = Acknowledgements()
        guard let handle = mosquitto_new("bench-raw-\(run)-\(UUID().uuidString.prefix(6))", true,
                                         Unmanaged.passUnretained(acknowledged).toOpaque())
        else { throw BenchError("mosquitto_new failed") }
        defer { mosquitto_destroy(handle) }
        mosquitto_publish_callback_set(handle) { _, userdata, _ in
            guard let userdata else { return }
            Unmanaged<Acknowledgements>.fromOpaque(userdata).takeUnretainedValue().count.add(1, ordering: .relaxed)
        }
        mosquitto_max_inflight_messages_set(handle, 100)
        guard mosquitto_connect(handle, "127.0.0.1", port, 30) == 0, mosquitto_loop_start(handle) == 0 else {
            throw BenchError("raw libmosquitto could not connect")
        }
        defer {
            mosquitto_disconnect(handle)
            mosquitto_loop_stop(handle, false)
        }
        let start = ContinuousClock.now
        for i in 0..<messages {
            let topic = "smollama/raw/sensors/room.sensor\(i % 9)"
            let code = payload.withUnsafeBytes {
                mosquitto_publish(handle, nil, topic, Int32($0.count), $0.baseAddress, 1, false)
            }
            guard code == 0 else { throw BenchError("raw publish failed: \(code)") }
        }
        while acknowledged.count.load(ordering: .relaxed) < messages {
            try await Task.sleep(for: .milliseconds(1))
        }
        return Double(messages) / (ContinuousClock.now - start).seconds
    }
}

final class Acknowledgements: Sendable {
    let count = Atomic<Int>(0)
}
