import ArgumentParser
import Foundation
import GRDB
import Hummingbird
import Logging
import NIOCore
import SmollamaCore
import SmollamaStore
import SmollamaSync
import Synchronization

/// The hub side of `smollama-bench sync`, in its own process (the bench re-executes itself as
/// `smollama-bench sync-hub`), so each side's peak RSS and CPU are its own: a fresh hub store in
/// `--directory`, `SyncRoutes` and the baseline's route on 127.0.0.1, and `hub.json` (port, hub
/// identity, an enrollment token) written there once it listens. Runs until terminated.
struct SyncHubBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-hub", abstract: "The hub side of `sync` (started by it).", shouldDisplay: false)

    @Option(help: "Directory of the hub's store and of hub.json.") var directory: String

    /// What the hub tells the node side (`hub.json`).
    struct Announcement: Codable {
        var port: Int
        var hubNode: NodeID
        var hubPublicKey: String
        var token: String
    }

    func run() async throws {
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let hubNode = NodeID.random()
        let hubKey = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let hubDB = try SmollamaDatabase.open(path: directory + "/hub.sqlite")
        try await hubDB.meta.claim(for: hubNode, incarnation: 1)
        let hub = SyncHub(database: hubDB, hubNode: hubNode, hubName: "hub", key: hubKey, logger: logger)
        let token = try await hub.createToken()
        // The baseline's own table, in its own file: the hub's store is not the bench's to extend.
        let baselineDB = try DatabaseQueue(path: directory + "/baseline.sqlite")
        try await baselineDB.write { db in
            try db.execute(sql: "CREATE TABLE baseline_readings (origin TEXT NOT NULL, id INTEGER NOT NULL, sensor TEXT NOT NULL, time INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY (origin, id)) WITHOUT ROWID")
        }
        let router = Router(context: BasicRequestContext.self)
        SyncRoutes(hub: hub).register(on: router)
        struct Document: Codable {
            var origin: String
            var id: Int64
            var sensor: String
            var time: Int64
            var value: Double
        }
        router.post("/baseline/reading") { request, _ -> HTTPResponse.Status in
            var request = request
            let body = try await request.collectBody(upTo: 4096)
            let document = try JSONDecoder().decode(Document.self, from: Data(body.readableBytesView))
            try await baselineDB.write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO baseline_readings VALUES (?, ?, ?, ?, ?)",
                               arguments: [document.origin, document.id, document.sensor, document.time, document.value])
            }
            return .ok
        }
        let announcement = try JSONEncoder().encode(Announcement(port: 0, hubNode: hubNode, hubPublicKey: hubKey.publicKeyHex, token: token))
        let path = directory + "/hub.json"
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  var told = (try? JSONDecoder().decode(Announcement.self, from: announcement))
                                  told?.port = channel.localAddress?.port ?? 0
                                  if let told, let data = try? JSONEncoder().encode(told) {
                                      try? data.write(to: URL(fileURLWithPath: path), options: .atomic)
                                  }
                              }, logger: logger)
        // SIGTERM from the node side ends the process (its default action).
        try await app.runService(gracefulShutdownSignals: [])
    }
}

/// One process's peak RSS and CPU time, from /proc (Linux).
struct ProcessUsage: Codable {
    var peakRSSMegabytes: Double
    var cpuSeconds: Double

    /// `pid` nil: this process.
    static func read(pid: Int32? = nil) -> ProcessUsage {
        let base = pid.map { "/proc/\($0)" } ?? "/proc/self"
        var peak = 0.0
        if let status = try? String(contentsOfFile: base + "/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) {
            peak = (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
        }
        var cpu = 0.0
        // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
        if let stat = try? String(contentsOfFile: base + "/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 12 {
                let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
                cpu = ((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks
            }
        }
        return ProcessUsage(peakRSSMegabytes: peak, cpuSeconds: cpu)
    }

    /// Resets the process's peak RSS to its current RSS (writes 5 to clear_refs, Linux ≥ 4.0).
    static func resetPeak(pid: Int32? = nil) {
        let path = (pid.map { "/proc/\($0)" } ?? "/proc/self") + "/clear_refs"
        try? "5".write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// The 1-minute load average.
    static func loadAverage() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return 0 }
        return Double(text.split(separator: " ").first ?? "0") ?? 0
    }
}

/// The node side of `smollama-bench sync`, in its own process: runs `SyncClient` on the seeded
/// store until the hub acknowledged every reading (`node.json` says how), checking that the
/// acknowledged mark never goes back, and writes `catch-up.json`.
struct SyncNodeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-node", abstract: "The node side of `sync` (started by it).", shouldDisplay: false)

    @Option(help: "Directory of the node's store, node.json and catch-up.json.") var directory: String

    struct Plan: Codable {
        var url: String
        var node: NodeID
        var nodeKeySeed: String
        var hubNode: NodeID
        var hubPublicKey: String
        var batch: Int
        var disconnectEvery: Int
        var readings: Int
    }

    struct CatchUp: Codable {
        var seconds: Double
        var requests: Int
        var bytes: Int
        var failedRounds: Int
        /// This process's peak RSS and CPU (it does nothing but the catch-up).
        var usage: ProcessUsage
    }

    func run() async throws {
        let plan = try JSONDecoder().decode(Plan.self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/node.json")))
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
        let nodeDB = try SmollamaDatabase.open(path: directory + "/node.sqlite")
        guard let seed = [UInt8](hexString: plan.nodeKeySeed) else { throw ValidationError("node.json: bad key seed") }
        let transport = SyncBench.CountingTransport(inner: HTTPSyncTransport(baseURL: plan.url), every: plan.disconnectEvery)
        let client = SyncClient(
            database: nodeDB, node: plan.node, incarnation: 1, key: try SyncKey(seed: seed),
            hub: HubInfo(url: plan.url, hubNode: plan.hubNode, hubName: "hub", hubPublicKey: plan.hubPublicKey),
            clockSource: SystemClockSource(), transport: transport,
            configuration: .init(rawReadings: true, maxReadingsPerBatch: plan.batch), logger: logger)
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
        let usage = ProcessUsage.read()
        let acked = try await nodeDB.nodeSync.hubAcknowledgement(stream: .readings)
        guard acked == Int64(plan.readings) else { throw ValidationError("the hub acknowledged \(acked) of \(plan.readings)") }
        let stats = transport.state.withLock { $0 }
        let catchUp = CatchUp(seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                              requests: stats.requests, bytes: stats.bytes, failedRounds: failedRounds, usage: usage)
        try JSONEncoder().encode(catchUp).write(to: URL(fileURLWithPath: directory + "/catch-up.json"))
    }
}
