import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SmollamaCore
import SmollamaSensors
import SmollamaServer
import SmollamaStore
import Synchronization

/// A node's dashboard pages and `/api/v1` reads over real HTTP (one keep-alive connection, a
/// blocking client on its own thread) with 1, 7, 30 and 90 days of history, optionally
/// alternating with another server (the Python reference) in the same run.
struct PagesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pages",
        abstract: "p50/p95 over HTTP of the node's pages and API reads by history length, optionally beside a reference server.")

    @Option(help: "History lengths in days, comma-separated.") var days = "1,7,30,90"
    @Option(help: "Seconds between simulated readings (smollama simulate uses the house's 10 s).") var step = 10
    @Option(help: "Timed requests per path (after the warm-ups).") var requests = 300
    @Option(help: "Warm-up requests per path.") var warmups = 20
    @Option(help: "Directory to keep the seeded stores in and reuse (default: seed into a temp dir, then delete).")
    var storeDirectory: String?
    @Option(help: "Only these paths of ours (comma-separated); default: every page and API read.") var paths: String?
    @Option(help: "A reference server's URL (http://127.0.0.1:PORT), timed alternately with ours.") var reference: String?
    @Option(help: "The reference's paths, comma-separated.")
    var referencePaths = "/,/readings,/api/stats,/api/readings,/api/observations"
    @Flag(help: "Print the result as JSON.") var json = false

    struct Timing: Codable {
        var server: String
        var days: Int?
        var path: String
        var p50Milliseconds: Double
        var p95Milliseconds: Double
        var bytes: Int
        /// Process CPU time (user + system, server and client together) per timed request: less
        /// swayed by other load on the machine than wall time.
        var cpuMilliseconds: Double?
    }

    static let node = NodeID(bytes: Array(repeating: 1, count: 16))

    func run() async throws {
        let lengths = days.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !lengths.isEmpty, lengths.allSatisfy({ $0 > 0 }) else { throw BenchError("--days takes whole days, e.g. 1,7,30,90") }
        let directory = storeDirectory ?? FileManager.default.temporaryDirectory.path + "/smollama-pages-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { if storeDirectory == nil { try? FileManager.default.removeItem(atPath: directory) } }
        var all: [Timing] = []
        for length in lengths {
            let path = "\(directory)/pages-\(length)d-\(step)s.sqlite"
            let seeded = try await Self.seed(path: path, days: length, step: step)
            if !json {
                print("\(length) d: \(seeded.readings) readings, \(seeded.events) events, \(Self.loadAverage())")
            }
            all += try await measure(database: seeded.database, path: path, now: seeded.now, days: length)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(all), as: UTF8.self))
            return
        }
        print("p50 / p95 ms over HTTP (cpu: this process's CPU ms per request), \(requests) requests per path after \(warmups) warm-ups; finished at \(Self.loadAverage())")
        for timing in all {
            let server = timing.server == "ours" ? "ours \(timing.days ?? 0) d" : timing.server
            print(server.padding(toLength: 12, withPad: " ", startingAt: 0)
                  + timing.path.padding(toLength: 44, withPad: " ", startingAt: 0)
                  + String(format: " p50 %7.2f  p95 %7.2f  ", timing.p50Milliseconds, timing.p95Milliseconds)
                  + (timing.cpuMilliseconds.map { String(format: "cpu %6.2f", $0) } ?? "cpu      –")
                  + String(format: "  %7d B", timing.bytes))
        }
    }

    func ourPaths(sensor: String) -> [String] {
        if let paths { return paths.split(separator: ",").map(String.init) }
        let id = Self.node.hex
        return ["/", "/sensors", "/sensors?range=7d", "/sensors?range=30d",
                "/api/v1/status", "/api/v1/nodes", "/api/v1/nodes/\(id)", "/api/v1/sensors",
                "/api/v1/series?sensor=\(sensor)", "/api/v1/series?sensor=\(sensor)&range=30d",
                "/api/v1/nodes/\(id)/series?sensor=\(sensor)", "/api/v1/log?limit=50", "/api/v1/observations?limit=50",
                "/api/v1/memories", "/api/v1/nodes/\(id)/observations", "/api/v1/nodes/\(id)/memories"]
    }

    /// Serves the store as `smollama run` does and times every path, alternating with the
    /// reference (when given) path batch by path batch.
    func measure(database: SmollamaDatabase, path: String, now: UTCMillis, days: Int) async throws -> [Timing] {
        let environment = DashboardEnvironment(
            node: NodeInfo(id: Self.node, name: "bench", role: "alpaca"), database: database, databasePath: path,
            http: HTTPConfig(host: "127.0.0.1", port: 0), now: { now })
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let url = Mutex<String?>(nil)
        let app = try buildApplication(environment: environment, logger: logger,
                                       onServerRunning: { address in url.withLock { $0 = address } })
        let sensor = try await database.sensorSummaries(now: now).first { $0.sensor.kind != .binary }?.sensor.id.rawValue ?? ""
        let ours = ourPaths(sensor: sensor)
        let theirs = reference == nil ? [] : referencePaths.split(separator: ",").map(String.init)
        let (requests, warmups, reference) = (requests, warmups, reference)
        return try await withThrowingTaskGroup(of: [Timing]?.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []); return nil }
            while url.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(20)) }
            let base = url.withLock { $0 } ?? ""
            let timings = try await onOwnThread {
                let ourProbe = try HTTPProbe(url: base)
                let theirProbe = try reference.map { try HTTPProbe(url: $0) }
                var samples: [String: [Double]] = [:]
                var bytes: [String: Int] = [:]
                var cpu: [String: Double] = [:]
                let rounds = 5
                func batch(_ probe: HTTPProbe, _ key: String, _ target: String, count: Int, timed: Bool) throws {
                    let cpuStart = Self.cpuMilliseconds()
                    defer { if timed { cpu[key, default: 0] += Self.cpuMilliseconds() - cpuStart } }
                    for _ in 0..<count {
                        let start = ContinuousClock.now
                        let response = try probe.get(target)
                        let elapsed = ContinuousClock.now - start
                        guard response.status == 200 else { throw BenchError("\(target) answered \(response.status)") }
                        bytes[key] = response.bodyBytes
                        if timed { samples[key, default: []].append(elapsed.seconds * 1000) }
                    }
                }
                for round in 0...rounds {
                    let count = round == 0 ? warmups : (requests + rounds - 1) / rounds
                    for target in ours { try batch(ourProbe, "ours " + target, target, count: count, timed: round > 0) }
                    if let theirProbe {
                        for target in theirs { try batch(theirProbe, "reference " + target, target, count: count, timed: round > 0) }
                    }
                }
                return ours.map { target in
                    let stats = Percentiles(samples["ours " + target] ?? [])
                    return Timing(server: "ours", days: days, path: target, p50Milliseconds: stats.p50,
                                  p95Milliseconds: stats.p95, bytes: bytes["ours " + target] ?? 0,
                                  cpuMilliseconds: (cpu["ours " + target] ?? 0) / Double(max(1, samples["ours " + target]?.count ?? 0)))
                } + theirs.map { target in
                    let stats = Percentiles(samples["reference " + target] ?? [])
                    return Timing(server: "reference", days: nil, path: target, p50Milliseconds: stats.p50,
                                  p95Milliseconds: stats.p95, bytes: bytes["reference " + target] ?? 0,
                                  cpuMilliseconds: nil)
                }
            }
            group.cancelAll()
            return timings
        }
    }

    /// This process's CPU time so far (the reference's CPU is its own process's, not counted).
    static func cpuMilliseconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000
    }

    static func loadAverage() -> String {
        let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
        return "load average " + text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}
