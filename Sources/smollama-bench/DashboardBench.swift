import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SmollamaCore
import SmollamaSensors
import SmollamaServer
import SmollamaStore

/// Server time of the Overview and Sensors pages over a store holding `days` of the simulated
/// house (rolled up), against a static asset served by the same router in the same run.
struct DashboardBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "p50/p95 server time of dashboard pages over 30 days of rollups, against a static asset.")

    @Option(help: "Days of simulated history in the store.") var days = 30
    @Option(help: "Seconds between simulated readings.") var step = 60
    @Option(help: "Requests per page.") var requests = 200
    @Flag(help: "Print the result as JSON.") var json = false

    struct Timing: Codable {
        var path: String
        var p50Milliseconds: Double
        var p95Milliseconds: Double
        var bytes: Int
    }

    func run() async throws {
        let house = SimulatedHouseDriver(options: .init())
        let path = FileManager.default.temporaryDirectory.path + "/smollama-bench-dash-\(UUID().uuidString).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try SmollamaDatabase.open(path: path)
        let registered = try await database.readings.registerSensors(house.sensors, driver: "house", now: 0)
        let rows = Dictionary(uniqueKeysWithValues: registered.map { ($0.descriptor.id, $0.rowID) })
        let now = UTCMillis.now().rawValue
        var time = now - Int64(days) * 86_400_000
        var pending: [PendingReading] = []
        while time < now {
            let stamp = ClockStamp(hlc: HLCTimestamp(milliseconds: time, counter: 0), bootID: "bench",
                                   monotonicNanoseconds: 0, quality: .synced)
            for sample in house.samples(at: time) {
                guard let row = rows[sample.sensor] else { continue }
                pending.append(PendingReading(sensorRowID: row, value: sample.value, stamp: stamp))
            }
            if pending.count >= 50_000 {
                try await database.readings.commit(readings: pending, notices: [], origin: NodeID(bytes: Array(repeating: 1, count: 16)))
                pending.removeAll(keepingCapacity: true)
            }
            time += Int64(step) * 1000
        }
        try await database.readings.commit(readings: pending, notices: [], origin: NodeID(bytes: Array(repeating: 1, count: 16)))
        try await database.readings.rollUpAll()
        let readingCount = try await database.readings.readingCount()

        let environment = DashboardEnvironment(
            node: NodeInfo(id: NodeID(bytes: Array(repeating: 1, count: 16)), name: "bench", role: "alpaca"),
            database: database, databasePath: path, http: HTTPConfig(port: 0), now: { UTCMillis(rawValue: now) })
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let app = try buildApplication(environment: environment, logger: logger)
        let paths = ["/assets/app.css", "/healthz", "/api/v1/sensors", "/api/v1/status", "/", "/sensors",
                     "/sensors?range=7d", "/sensors?range=30d"]
        let requests = requests
        let timings = try await app.test(.router) { client in
            var timings: [Timing] = []
            for path in paths {
                var samples: [Double] = []
                var bytes = 0
                for index in 0..<(requests + 5) {
                    let start = ContinuousClock.now
                    let response = try await client.execute(uri: path, method: .get)
                    let elapsed = ContinuousClock.now - start
                    guard response.status == .ok else { throw BenchError("\(path) answered \(response.status)") }
                    bytes = response.body.readableBytes
                    if index >= 5 { samples.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000) }
                }
                samples.sort()
                timings.append(Timing(path: path, p50Milliseconds: samples[samples.count / 2],
                                      p95Milliseconds: samples[min(samples.count - 1, samples.count * 95 / 100)],
                                      bytes: bytes))
            }
            return timings
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(timings), as: UTF8.self))
            return
        }
        print("dashboard over \(days) days (\(readingCount) readings, \(house.sensors.count) sensors, rolled up), \(requests) requests each:")
        for timing in timings {
            let name = timing.path.padding(toLength: 20, withPad: " ", startingAt: 0)
            print(name + String(format: " p50 %7.2f ms  p95 %7.2f ms  %7d bytes", timing.p50Milliseconds,
                                timing.p95Milliseconds, timing.bytes))
        }
    }
}
