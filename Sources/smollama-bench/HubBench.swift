import ArgumentParser
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import SmollamaCore
import SmollamaSensors
import SmollamaServer
import SmollamaStore

/// A hub holding `nodes` nodes × `days` of 1-minute readings of the simulated house's 13 sensors:
/// the time to store and roll up their pushes (as sync does, 20 000 readings a transaction), the
/// rollup catch-up of everything at once (a hub from before v8), and p50/p95 of the hub's API
/// reads (`/api/v1/nodes`, `/api/v1/nodes/ID/series`).
struct HubBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub", abstract: "A hub with N nodes × D days of readings: push + fold time, rollup catch-up, API p50/p95.")

    @Option(help: "Nodes syncing to the hub.") var nodes = 10
    @Option(help: "Days of readings per node.") var days = 30
    @Option(help: "Seconds between readings of a sensor.") var step = 60
    @Option(help: "Requests per API path.") var requests = 100
    @Flag(help: "Print the result as JSON.") var json = false

    struct Result: Codable {
        struct Timing: Codable {
            var path: String
            var p50Milliseconds: Double
            var p95Milliseconds: Double
        }
        var readings: Int
        var pushSeconds: Double
        var catchUpSeconds: Double
        var timings: [Timing]
    }

    func run() async throws {
        let path = FileManager.default.temporaryDirectory.path + "/smollama-bench-hub-\(UUID().uuidString).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try SmollamaDatabase.open(path: path)
        let now = UTCMillis.now()
        let start = now - .seconds(Int64(days) * 86_400)
        var ids: [NodeID] = []
        var readings = 0
        var pushing: Duration = .zero
        for index in 0..<nodes {
            let node = NodeID.random()
            ids.append(node)
            try await database.hubSync.createToken(hash: "bench-\(index)", createdAt: start, expiresAt: now + .seconds(3600))
            try await database.hubSync.enroll(tokenHash: "bench-\(index)", node: node, name: "node\(index)",
                                              publicKey: [UInt8](repeating: UInt8(index), count: 32), incarnation: 1, now: start)
            var options = SimulatedHouseDriver.Options()
            options.seed = UInt64(100 + index)
            let house = SimulatedHouseDriver(options: options)
            let keys = house.sensors.map(\.id.rawValue)
            let epoch = ReadingBatch.Epoch(id: 1, bootID: "bench-\(index)", quality: "synced",
                                           startedHLC: start.rawValue << 16, startedMonotonicNanoseconds: 0)
            var batch = ReadingBatch(sensors: keys, epochs: [epoch])
            var id: Int64 = 0
            var time = start.rawValue
            func push() async throws {
                guard let first = batch.rows.first?.id, let last = batch.rows.last?.id else { return }
                let began = ContinuousClock.now
                _ = try await database.hubSync.pushReadings(batch, origin: node, stream: .readings, from: first, to: last, now: now)
                pushing += ContinuousClock.now - began
                readings += batch.rows.count
                batch.rows.removeAll(keepingCapacity: true)
            }
            while time < now.rawValue {
                for sample in house.samples(at: time) {
                    guard let sensor = keys.firstIndex(of: sample.sensor.rawValue) else { continue }
                    id += 1
                    batch.rows.append(ReadingBatch.Row(id: id, sensor: sensor, time: time, value: sample.value, epoch: 0))
                }
                if batch.rows.count >= 20_000 { try await push() }
                time += Int64(step) * 1000
            }
            try await push()
        }
        // Catch-up: forget the rollups (as a hub from before v8 had none) and fold everything again.
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "DELETE FROM foreign_rollups; DELETE FROM foreign_rollup_cursors; UPDATE foreign_usage SET rollups = 0")
        }
        try queue.close()
        let began = ContinuousClock.now
        let folded = try await database.hubReadings.rollUpAll()
        let catchUp = ContinuousClock.now - began
        guard folded == readings else { throw BenchError("the catch-up folded \(folded) of \(readings) readings") }

        let environment = DashboardEnvironment(
            node: NodeInfo(id: NodeID.random(), name: "hub", role: "llama"), database: database, databasePath: path,
            http: HTTPConfig(port: 0), now: { now })
        let app = try buildApplication(environment: environment, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
        let node = ids[ids.count / 2].hex
        let paths = ["/api/v1/nodes"] + ["24h", "7d", "30d"].map {
            "/api/v1/nodes/\(node)/series?sensor=living_room.temperature&range=\($0)"
        }
        @Sendable func shown(_ path: String) -> String { path.replacingOccurrences(of: node, with: "ID") }
        let requests = requests
        let timings = try await app.test(.router) { client in
            var timings: [Result.Timing] = []
            for path in paths {
                var samples: [Double] = []
                for index in 0..<(requests + 5) {
                    let began = ContinuousClock.now
                    let response = try await client.execute(uri: path, method: .get)
                    let elapsed = ContinuousClock.now - began
                    guard response.status == .ok else { throw BenchError("\(path) answered \(response.status)") }
                    if index >= 5 { samples.append(elapsed.milliseconds) }
                }
                samples.sort()
                timings.append(Result.Timing(path: shown(path), p50Milliseconds: samples[samples.count / 2],
                                             p95Milliseconds: samples[min(samples.count - 1, samples.count * 95 / 100)]))
            }
            return timings
        }
        let result = Result(readings: readings, pushSeconds: pushing.seconds, catchUpSeconds: catchUp.seconds, timings: timings)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return print(String(decoding: try encoder.encode(result), as: UTF8.self))
        }
        print("hub with \(nodes) nodes × \(days) days (\(readings) readings):")
        print(String(format: "push + fold  %7.1f s  (%.0f k readings/s)", result.pushSeconds,
                     Double(readings) / result.pushSeconds / 1000))
        print(String(format: "catch-up     %7.1f s  (%.0f k readings/s)", result.catchUpSeconds,
                     Double(readings) / result.catchUpSeconds / 1000))
        for timing in timings {
            print(timing.path.padding(toLength: 72, withPad: " ", startingAt: 0)
                  + String(format: " p50 %7.2f ms  p95 %7.2f ms", timing.p50Milliseconds, timing.p95Milliseconds))
        }
    }
}

extension Duration {
    fileprivate var milliseconds: Double { seconds * 1000 }
}
