import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import SmollamaCore
import SmollamaServer
import SmollamaStore
import SmollamaSync
import Synchronization

/// Issue 18's load run: a hub (dashboard + sync routes, as `smollama run` serves them) on
/// loopback under waves of concurrent unauthenticated 7 MB sync requests, with SSE clients
/// attached and slow senders trickling bodies, while an enrolled node keeps writing and syncing.
/// Measures the process's peak RSS (hub and attackers share it; the attack bodies are one shared
/// buffer) and the node's rounds.
struct LoadBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load", abstract: "Hub memory and an enrolled node's sync under unauthenticated 7 MB sync requests and SSE clients.")

    @Option(help: "Concurrent unauthenticated sync requests per wave.") var requests = 200
    @Option(help: "Megabytes each request declares and sends.") var megabytes = 7
    @Option(help: "Waves of requests.") var waves = 3
    @Option(help: "SSE clients on /api/v1/live/log for the whole run.") var sse = 50
    @Option(help: "Connections naming the enrolled node that trickle their body (1 KB/s) for the whole run.") var slow = 0
    @Option(help: "Readings the node writes before each of its sync rounds.") var readings = 2000
    @Option(help: "Keep the run going at least this many seconds (slow senders need minutes).") var seconds = 0

    /// What the run's tasks report, and the flag that ends it.
    final class Tally: Sendable {
        let outcomes = Mutex(Outcomes())
        let peak = Mutex(0.0)
        private let stopped = Atomic(false)
        var done: Bool { stopped.load(ordering: .relaxed) }
        func stop() { stopped.store(true, ordering: .relaxed) }
    }

    struct Outcomes: Sendable {
        var statuses: [Int: Int] = [:]
        var errors = 0
        var sseConnected = 0
        var sseRefused = 0
        var rounds = 0
        var failedRounds = 0
        var longestRoundGap = 0.0
    }

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.path + "/smollama-load-bench-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

        let hubNode = NodeID.random(), node = NodeID.random()
        let hubKey = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let nodeKey = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let hubDB = try SmollamaDatabase.open(path: directory + "/hub.sqlite")
        try await hubDB.meta.claim(for: hubNode, incarnation: 1)
        let hub = SyncHub(database: hubDB, hubNode: hubNode, hubName: "hub", key: hubKey, logger: logger)
        let enroll = try JSONEncoder().encode(EnrollRequest(token: try await hub.createToken(), node: node, name: "node",
                                                             publicKey: nodeKey.publicKeyHex, incarnation: 1))
        _ = await InProcessSyncTransport(hub: hub).send(SyncHTTPRequest(path: SyncProtocol.Path.enroll, headers: [:], body: [UInt8](enroll)))
        let nodeDB = try SmollamaDatabase.open(path: directory + "/node.sqlite")
        try await nodeDB.meta.claim(for: node, incarnation: 1)
        let sensor = try await nodeDB.readings.registerSensors([SensorDescriptor(id: "hall.temperature", name: "t")], driver: "bench",
                                                               now: .now())[0]

        let environment = DashboardEnvironment(
            node: NodeInfo(id: hubNode, name: "hub", role: "llama"), database: hubDB, databasePath: directory + "/hub.sqlite",
            http: HTTPConfig(host: "127.0.0.1", port: 0), now: { UTCMillis.now() })
        let port = Mutex<String?>(nil)
        let app = try buildApplication(
            environment: environment, logger: logger,
            mounts: [RouteMount(path: SyncRoutes.prefix, routes: SyncRoutes(hub: hub).routes, publicRoutes: SyncRoutes.publicRoutes)],
            onServerRunning: { url in port.withLock { $0 = url } })

        var pool = HTTPClient.Configuration()
        pool.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: requests + sse + slow + 8)
        pool.timeout = .init(connect: .seconds(10), read: .seconds(120))
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: pool)
        let body = ByteBuffer(repeating: UInt8(ascii: "{"), count: megabytes << 20)
        let tally = Tally()

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            while port.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(20)) }
            let url = port.withLock { $0 } ?? ""
            let baseline = Self.rss()
            group.addTask {  // RSS every 20 ms
                while !tally.done {
                    let now = Self.rss()
                    tally.peak.withLock { $0 = max($0, now) }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            for _ in 0..<sse {
                group.addTask { await Self.listen(client: client, url: url, tally: tally) }
            }
            for _ in 0..<slow {
                group.addTask { await Self.trickle(client: client, url: url, node: node, bytes: megabytes << 20, tally: tally) }
            }
            let syncer = SyncClient(
                database: nodeDB, node: node, incarnation: 1, key: nodeKey,
                hub: HubInfo(url: url, hubNode: hubNode, hubName: "hub", hubPublicKey: hubKey.publicKeyHex),
                clockSource: SystemClockSource(), transport: HTTPSyncTransport(baseURL: url), logger: logger)
            group.addTask {  // the enrolled node: write, sync, repeat
                var written: Int64 = 0
                var lastSuccess = ContinuousClock.now
                while !tally.done {
                    let stamp = ClockStamp(hlc: HLCTimestamp(milliseconds: UTCMillis.now().rawValue, counter: 0), bootID: "bench",
                                           monotonicNanoseconds: UInt64(written) * 1_000_000, quality: .synced)
                    let pending = (0..<readings).map { _ in PendingReading(sensorRowID: sensor.rowID, value: 20, stamp: stamp) }
                    try await nodeDB.readings.commit(readings: pending, notices: [], origin: node)
                    written += Int64(readings)
                    do {
                        try await syncer.syncOnce()
                        let gap = ContinuousClock.now - lastSuccess
                        lastSuccess = .now
                        tally.outcomes.withLock {
                            $0.rounds += 1
                            $0.longestRoundGap = max($0.longestRoundGap, Double(gap.components.seconds) + Double(gap.components.attoseconds) / 1e18)
                        }
                    } catch {
                        tally.outcomes.withLock { $0.failedRounds += 1 }
                    }
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
            let began = ContinuousClock.now
            for _ in 0..<waves {
                await withTaskGroup(of: Void.self) { wave in
                    for index in 0..<requests {
                        wave.addTask { await Self.attack(client: client, url: url, body: body, node: index % 2 == 0 ? node : NodeID.random(), tally: tally) }
                    }
                }
            }
            try await Task.sleep(for: .seconds(2))  // the node's rounds after the last wave
            while ContinuousClock.now - began < .seconds(seconds) { try await Task.sleep(for: .milliseconds(200)) }
            let elapsed = ContinuousClock.now - began
            tally.stop()
            let result = tally.outcomes.withLock { $0 }
            let acked = try await nodeDB.nodeSync.hubAcknowledgement(stream: .readings)
            let local = try await nodeDB.nodeSync.localMax(origin: node, stream: .readings)
            print(String(format: "load: %d waves of %d concurrent unauthenticated %d MB sync requests (half naming the enrolled node), %d SSE clients, %d slow senders, %.1f s",
                         waves, requests, megabytes, sse, slow, Double(elapsed.components.seconds)))
            print("requests: " + result.statuses.sorted { $0.key < $1.key }.map { "\($0.value)× HTTP \($0.key)" }.joined(separator: ", ")
                  + ", \(result.errors) connection errors")
            print("SSE: \(result.sseConnected) connected, \(result.sseRefused) refused")
            print(String(format: "RSS: %.0f MiB before, peak %.0f MiB (sampled), VmHWM %.0f MiB", baseline, tally.peak.withLock { $0 }, Self.hwm()))
            print(String(format: "enrolled node: %d rounds ok, %d failed, longest gap between successful rounds %.1f s, hub acknowledged %lld of %lld readings",
                         result.rounds, result.failedRounds, result.longestRoundGap, acked, local))
            try await client.shutdown()
            group.cancelAll()
        }
    }

    /// One unauthenticated request: the version header and a node id (the enrolled one, which is
    /// no secret, or a random one), a 7 MB body and no valid signature.
    static func attack(client: HTTPClient, url: String, body: ByteBuffer, node: NodeID, tally: Tally) async {
        var request = HTTPClientRequest(url: url + SyncProtocol.Path.push)
        request.method = .POST
        request.headers.add(name: SyncProtocol.Header.version, value: String(SyncProtocol.version))
        request.headers.add(name: SyncProtocol.Header.node, value: node.hex)
        request.headers.add(name: SyncProtocol.Header.time, value: String(UTCMillis.now().rawValue))
        request.headers.add(name: SyncProtocol.Header.nonce, value: SyncSigning.randomNonce())
        request.headers.add(name: SyncProtocol.Header.signature, value: String(repeating: "0", count: 128))
        request.body = .bytes(body)
        do {
            let response = try await client.execute(request, timeout: .seconds(120))
            _ = try? await response.body.collect(upTo: 1 << 20)
            tally.outcomes.withLock { $0.statuses[Int(response.status.code), default: 0] += 1 }
        } catch {
            tally.outcomes.withLock { $0.errors += 1 }
        }
    }

    /// An SSE client that stays until the run ends.
    static func listen(client: HTTPClient, url: String, tally: Tally) async {
        let request = HTTPClientRequest(url: url + "/api/v1/live/log")
        guard let response = try? await client.execute(request, timeout: .seconds(600)) else {
            tally.outcomes.withLock { $0.sseRefused += 1 }
            return
        }
        guard response.status == .ok else {
            tally.outcomes.withLock { $0.sseRefused += 1 }
            return
        }
        tally.outcomes.withLock { $0.sseConnected += 1 }
        do {
            for try await _ in response.body where tally.done { break }
        } catch {}
    }

    /// A connection naming the enrolled node that sends its body at 1 KB/s.
    static func trickle(client: HTTPClient, url: String, node: NodeID, bytes: Int, tally: Tally) async {
        var request = HTTPClientRequest(url: url + SyncProtocol.Path.push)
        request.method = .POST
        request.headers.add(name: SyncProtocol.Header.version, value: String(SyncProtocol.version))
        request.headers.add(name: SyncProtocol.Header.node, value: node.hex)
        let chunks = AsyncStream<ByteBuffer> { continuation in
            Task {
                for _ in 0..<(bytes / 1024) {
                    try? await Task.sleep(for: .seconds(1))
                    continuation.yield(ByteBuffer(repeating: 0x20, count: 1024))
                }
                continuation.finish()
            }
        }
        request.body = .stream(chunks, length: .known(Int64(bytes)))
        _ = try? await client.execute(request, timeout: .seconds(600))
    }

    static func rss() -> Double { status("VmRSS:") }
    static func hwm() -> Double { status("VmHWM:") }

    static func status(_ key: String) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key) })
        else { return 0 }
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }
}
