import ArgumentParser
import Foundation
import Logging
import SmollamaCore
import SmollamaStore
import SmollamaSync
import Synchronization

/// Catch-up of a raw-readings backlog over loopback HTTP: columnar, deflated, signed batches
/// vs the same readings posted one JSON document per reading (same run, same machine). Node and
/// hub run as processes of their own (`sync-node`, `sync-hub` in `SyncBenchSides.swift`), so each
/// side's peak RSS and CPU are reported apart.
struct SyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync catch-up of a 1 Hz backlog over loopback vs one JSON document per reading.")

    @Option(help: "Raw readings in the backlog (90 days at 1 Hz is 7776000).") var readings = 1_000_000
    @Option(help: "Readings posted one per request for the baseline (its rate is extrapolated).") var baseline = 5_000
    @Option(help: "Drop the connection every N requests during catch-up (0: never).") var disconnectEvery = 0
    @Option(help: "Readings per batch.") var batch = 20_000
    @Flag(help: "Print the result as JSON.") var json = false

    struct Result: Codable {
        var readings: Int
        var batch: Int
        var seconds: Double
        var readingsPerSecond: Double
        var bytesPerReading: Double
        var requests: Int
        var failedRounds: Int
        var baselineReadings: Int
        var baselineReadingsPerSecond: Double
        var baselineBytesPerReading: Double
        var extrapolated90DaysSeconds: Double
        var baselineExtrapolated90DaysSeconds: Double
        /// Peak RSS of each process: the node process's whole life (it only catches up), the hub's
        /// during the catch-up.
        var nodePeakRSSMegabytes: Double
        var hubPeakRSSMegabytes: Double
        /// CPU (user + system) of each process for the catch-up: a figure taken under load
        /// still says what the work costs.
        var nodeCPUSeconds: Double
        var hubCPUSeconds: Double
        var loadAverageBefore: Double
        var loadAverageAfter: Double
    }

    /// Counts bytes and drops every n-th request (a flaky link).
    final class CountingTransport: SyncTransport {
        let inner: HTTPSyncTransport
        let every: Int
        let state = Mutex((requests: 0, bytes: 0))
        init(inner: HTTPSyncTransport, every: Int) {
            self.inner = inner
            self.every = every
        }
        struct Dropped: Error {}
        func send(_ request: SyncHTTPRequest) async throws -> SyncHTTPResponse {
            let count = state.withLock { state -> Int in
                state.requests += 1
                state.bytes += request.body.count + request.headers.reduce(0) { $0 + $1.key.count + $1.value.count + 4 }
                return state.requests
            }
            if every > 0 && count % every == 0 { throw Dropped() }
            return try await inner.send(request)
        }
    }

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.path + "/smollama-sync-bench-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        // The node: one sensor at 1 Hz.
        let node = NodeID.random()
        let nodeDB = try SmollamaDatabase.open(path: directory + "/node.sqlite")
        try await nodeDB.meta.claim(for: node, incarnation: 1)
        let start: Int64 = 1_796_000_000_000
        let sensor = try await nodeDB.readings.registerSensors([SensorDescriptor(id: "garage.temperature", name: "t")], driver: "bench", now: UTCMillis(rawValue: start))[0]
        var written = 0
        while written < readings {
            let count = min(50_000, readings - written)
            let pending = (0..<count).map { offset -> PendingReading in
                let index = written + offset
                let time = start + Int64(index) * 1000
                // A slow daily-ish swing plus sensor noise (deterministic), rounded to 0.1 like a
                // typical temperature sensor: realistic entropy for the compressor.
                var noise = UInt64(index) &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                noise ^= noise >> 33
                let value = 18 + 4 * sin(Double(index) / 13_750) + Double(Int(noise % 5) - 2) / 10
                return PendingReading(sensorRowID: sensor.rowID, value: (value * 10).rounded() / 10,
                                      stamp: ClockStamp(hlc: HLCTimestamp(milliseconds: time, counter: 0), bootID: "bench",
                                                        monotonicNanoseconds: UInt64(index) * 1_000_000_000, quality: .synced))
            }
            try await nodeDB.readings.commit(readings: pending, notices: [], origin: node)
            written += count
        }

        // The hub, served over loopback by this program in another process (`sync-hub`), so
        // each side's memory and CPU are measured apart.
        let hubProcess = Process()
        hubProcess.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        hubProcess.arguments = ["sync-hub", "--directory", directory]
        try hubProcess.run()
        defer {
            hubProcess.terminate()
            hubProcess.waitUntilExit()
        }
        var announced: SyncHubBench.Announcement?
        for _ in 0..<1500 where announced == nil {
            guard hubProcess.isRunning else { throw ValidationError("the hub process exited (\(hubProcess.terminationStatus))") }
            announced = FileManager.default.contents(atPath: directory + "/hub.json")
                .flatMap { try? JSONDecoder().decode(SyncHubBench.Announcement.self, from: $0) }
            if announced == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        guard let announced else { throw ValidationError("the hub process did not start listening within 30 s") }
        let url = "http://127.0.0.1:\(announced.port)"
        let nodeSeed = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let nodeKey = try SyncKey(seed: nodeSeed)
        let enroll = try JSONEncoder().encode(EnrollRequest(token: announced.token, node: node, name: "bench",
                                                            publicKey: nodeKey.publicKeyHex, incarnation: 1))
        let enrolled = try await HTTPSyncTransport(baseURL: url).send(
            SyncHTTPRequest(path: SyncProtocol.Path.enroll, headers: [:], body: [UInt8](enroll)))
        guard enrolled.status == 200 else { throw ValidationError("enrollment answered \(enrolled.status)") }

        // The node side: a fresh process on the seeded store (`sync-node`), so its peak RSS is the
        // catch-up's, not the seeding's.
        let plan = SyncNodeBench.Plan(url: url, node: node, nodeKeySeed: nodeSeed.hexString, hubNode: announced.hubNode,
                                      hubPublicKey: announced.hubPublicKey, batch: batch, disconnectEvery: disconnectEvery,
                                      readings: readings)
        try JSONEncoder().encode(plan).write(to: URL(fileURLWithPath: directory + "/node.json"))
        let hubPID = hubProcess.processIdentifier
        ProcessUsage.resetPeak(pid: hubPID)
        let (hubBefore, loadBefore) = (ProcessUsage.read(pid: hubPID), ProcessUsage.loadAverage())
        let nodeProcess = Process()
        nodeProcess.executableURL = hubProcess.executableURL
        nodeProcess.arguments = ["sync-node", "--directory", directory]
        try nodeProcess.run()
        nodeProcess.waitUntilExit()
        let (hubAfter, loadAfter) = (ProcessUsage.read(pid: hubPID), ProcessUsage.loadAverage())
        guard nodeProcess.terminationStatus == 0,
              let data = FileManager.default.contents(atPath: directory + "/catch-up.json"),
              let catchUp = try? JSONDecoder().decode(SyncNodeBench.CatchUp.self, from: data)
        else { throw ValidationError("the node process failed (exit \(nodeProcess.terminationStatus))") }
        let result = try await measureBaseline(url: url, node: node, nodeDB: nodeDB, catchUp: catchUp,
                                               hub: ProcessUsage(peakRSSMegabytes: hubAfter.peakRSSMegabytes,
                                                                 cpuSeconds: hubAfter.cpuSeconds - hubBefore.cpuSeconds),
                                               load: (loadBefore, loadAfter))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print(String(format: "sync catch-up: %d readings in %.1f s = %.0f readings/s, %.2f bytes/reading on the wire, %d requests, %d failed rounds",
                     result.readings, result.seconds, result.readingsPerSecond, result.bytesPerReading, result.requests, result.failedRounds))
        print(String(format: "baseline (one JSON document per reading): %.0f readings/s, %.1f bytes/reading",
                     result.baselineReadingsPerSecond, result.baselineBytesPerReading))
        print(String(format: "90 days at 1 Hz (7.776 M): %.0f s with sync batches, %.0f s one document per reading (extrapolated)",
                     result.extrapolated90DaysSeconds, result.baselineExtrapolated90DaysSeconds))
        print(String(format: "node: peak RSS %.0f MB, CPU %.1f s; hub: peak RSS %.0f MB, CPU %.1f s; load average %.1f → %.1f",
                     result.nodePeakRSSMegabytes, result.nodeCPUSeconds, result.hubPeakRSSMegabytes, result.hubCPUSeconds,
                     result.loadAverageBefore, result.loadAverageAfter))
    }

    /// The baseline: one POST of one JSON document per reading, after the catch-up.
    func measureBaseline(url: String, node: NodeID, nodeDB: SmollamaDatabase, catchUp: SyncNodeBench.CatchUp,
                         hub: ProcessUsage, load: (Double, Double)) async throws -> Result {
        let seconds = catchUp.seconds
        let rows = (try await nodeDB.nodeSync.readingBatch(after: 0, limit: baseline)?.rows ?? [])
            .map { (id: $0.id, time: $0.time, value: $0.value) }
        var baselineBytes = 0
        let baselineBegan = ContinuousClock.now
        let plain = HTTPSyncTransport(baseURL: url)
        for row in rows {
            let body = Array(#"{"origin":"\#(node.hex)","id":\#(row.id),"sensor":"garage.temperature","time":\#(row.time),"value":\#(row.value)}"#.utf8)
            // Body plus the request line and headers an HTTP/1.1 client sends (measured: ~110 bytes).
            baselineBytes += body.count + 110
            let response = try await plain.send(SyncHTTPRequest(path: "/baseline/reading", headers: [:], body: body))
            guard response.status == 200 else { throw ValidationError("baseline POST answered \(response.status)") }
        }
        let baselineElapsed = ContinuousClock.now - baselineBegan
        let baselineSeconds = Double(baselineElapsed.components.seconds) + Double(baselineElapsed.components.attoseconds) / 1e18
        let rate = Double(readings) / seconds
        let baselineRate = Double(rows.count) / baselineSeconds
        return Result(
            readings: readings, batch: batch, seconds: seconds, readingsPerSecond: rate,
            bytesPerReading: Double(catchUp.bytes) / Double(readings), requests: catchUp.requests, failedRounds: catchUp.failedRounds,
            baselineReadings: rows.count, baselineReadingsPerSecond: baselineRate,
            baselineBytesPerReading: Double(baselineBytes) / Double(max(1, rows.count)),
            extrapolated90DaysSeconds: 7_776_000 / rate, baselineExtrapolated90DaysSeconds: 7_776_000 / baselineRate,
            nodePeakRSSMegabytes: catchUp.usage.peakRSSMegabytes, hubPeakRSSMegabytes: hub.peakRSSMegabytes,
            nodeCPUSeconds: catchUp.usage.cpuSeconds, hubCPUSeconds: hub.cpuSeconds,
            loadAverageBefore: load.0, loadAverageAfter: load.1)
    }
}
