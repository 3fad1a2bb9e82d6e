import ArgumentParser
import Foundation
import Logging
import SmollamaCore
import SmollamaStore
import SmollamaSync
import Synchronization

/// Catch-up of a raw-readings backlog over loopback HTTP: columnar, deflated, signed batches
/// vs the same readings posted one JSON document per reading (same run, same machine).
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
        /// Peak RSS of each process during the catch-up (the node's seeding excluded).
        var nodePeakRSSMegabytes: Double
        var hubPeakRSSMegabytes: Double
        /// CPU (user + system) of each process during the catch-up: a figure taken under load
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
        let nodeKey = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let enroll = try JSONEncoder().encode(EnrollRequest(token: announced.token, node: node, name: "bench",
                                                            publicKey: nodeKey.publicKeyHex, incarnation: 1))
        let enrolled = try await HTTPSyncTransport(baseURL: url).send(
            SyncHTTPRequest(path: SyncProtocol.Path.enroll, headers: [:], body: [UInt8](enroll)))
        guard enrolled.status == 200 else { throw ValidationError("enrollment answered \(enrolled.status)") }
        let result = try await measure(url: url, node: node, nodeKey: nodeKey, nodeDB: nodeDB, hubNode: announced.hubNode,
                                       hubPublicKey: announced.hubPublicKey, hubPID: hubProcess.processIdentifier)
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

    func measure(url: String, node: NodeID, nodeKey: SyncKey, nodeDB: SmollamaDatabase, hubNode: NodeID,
                 hubPublicKey: String, hubPID: Int32) async throws -> Result {
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let transport = CountingTransport(inner: HTTPSyncTransport(baseURL: url), every: disconnectEvery)
        let clock = SystemClockSource()
        let client = SyncClient(
            database: nodeDB, node: node, incarnation: 1, key: nodeKey,
            hub: HubInfo(url: url, hubNode: hubNode, hubName: "hub", hubPublicKey: hubPublicKey),
            clockSource: clock, transport: transport,
            configuration: .init(rawReadings: true, maxReadingsPerBatch: batch), logger: logger)
        // Each side's peak and CPU from here (the node's seeding is not the catch-up's).
        ProcessUsage.resetPeak()
        ProcessUsage.resetPeak(pid: hubPID)
        let (nodeBefore, hubBefore, loadBefore) = (ProcessUsage.read(), ProcessUsage.read(pid: hubPID), ProcessUsage.loadAverage())
        let began = ContinuousClock.now
        var failedRounds = 0
        var lastAck: Int64 = 0
        while true {
            do {
                try await client.syncOnce()
                break
            } catch {
                failedRounds += 1
                let ack = try await nodeDB.nodeSync.hubAcknowledgement(stream: .readings)
                guard ack >= lastAck else { throw ValidationError("progress went backwards: \(lastAck) → \(ack)") }
                lastAck = ack
                if failedRounds > 100_000 { throw ValidationError("no progress") }
            }
        }
        let elapsed = ContinuousClock.now - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let (nodeAfter, hubAfter, loadAfter) = (ProcessUsage.read(), ProcessUsage.read(pid: hubPID), ProcessUsage.loadAverage())
        let acked = try await nodeDB.nodeSync.hubAcknowledgement(stream: .readings)
        guard acked == Int64(readings) else { throw ValidationError("the hub acknowledged \(acked) of \(readings)") }
        let stats = transport.state.withLock { $0 }

        // Baseline: one POST of one JSON document per reading.
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
            bytesPerReading: Double(stats.bytes) / Double(readings), requests: stats.requests, failedRounds: failedRounds,
            baselineReadings: rows.count, baselineReadingsPerSecond: baselineRate,
            baselineBytesPerReading: Double(baselineBytes) / Double(max(1, rows.count)),
            extrapolated90DaysSeconds: 7_776_000 / rate, baselineExtrapolated90DaysSeconds: 7_776_000 / baselineRate,
            nodePeakRSSMegabytes: nodeAfter.peakRSSMegabytes, hubPeakRSSMegabytes: hubAfter.peakRSSMegabytes,
            nodeCPUSeconds: nodeAfter.cpuSeconds - nodeBefore.cpuSeconds, hubCPUSeconds: hubAfter.cpuSeconds - hubBefore.cpuSeconds,
            loadAverageBefore: loadBefore, loadAverageAfter: loadAfter)
    }
}
