import ArgumentParser
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import SmollamaCore
import SmollamaLLM
import SmollamaMind
import SmollamaSensors
import SmollamaServer
import SmollamaStore

/// A hub holding `nodes` nodes × `days` of 1-minute readings of the simulated house's 13 sensors:
/// the time to store and roll up their pushes (as sync does, 20 000 readings a transaction), the
/// rollup catch-up of everything at once (a hub from before v8), and p50/p95 of the hub's API
/// reads (`/api/v1/nodes`, `/api/v1/nodes/ID/series`) and pages (home, node detail, compare), and
/// the memory explorer's search over `memories` memories (words + meaning: a hashed bag-of-words
/// embedding stands in for the model, so the vector path runs as it does on a hub).
struct HubBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub", abstract: "A hub with N nodes × D days of readings: push + fold time, rollup catch-up, API p50/p95.")

    @Option(help: "Nodes syncing to the hub.") var nodes = 10
    @Option(help: "Days of readings per node.") var days = 30
    @Option(help: "Seconds between readings of a sensor.") var step = 60
    @Option(help: "Requests per API path.") var requests = 100
    @Option(help: "Memories across the nodes, for the explorer's search.") var memories = 10_000
    @Option(help: "Keep the seeded hub in this folder and reuse it on later runs (seeding takes about a minute).")
    var keep: String?
    @Option(help: "Time only this path, as printed (e.g. / or /nodes/ID), for profiling one page.") var only: String?
    @Flag(help: "Print the result as JSON.") var json = false

    /// What a kept hub was seeded with, beside its store, so a later run reads the same nodes.
    struct Seeded: Codable {
        var nodes: [String]
        var now: Int64
        var readings: Int
    }

    struct Result: Codable {
        struct Timing: Codable {
            var path: String
            var p50Milliseconds: Double
            var p95Milliseconds: Double
            /// This process's CPU (server and client together) per timed request: steadier than
            /// wall time when other work shares the cores.
            var cpuMilliseconds: Double
        }
        var readings: Int
        var pushSeconds: Double
        var catchUpSeconds: Double
        var timings: [Timing]
    }

    func run() async throws {
        let kept = keep.map { "\($0)/hub-\(nodes)x\(days)d-\(step)s-\(memories)m" }
        let path = kept.map { $0 + ".sqlite" }
            ?? FileManager.default.temporaryDirectory.path + "/smollama-bench-hub-\(UUID().uuidString).sqlite"
        defer {
            if kept == nil { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        }
        let database: SmollamaDatabase
        let ids: [NodeID]
        let now: UTCMillis
        let readings: Int
        var pushing: Duration = .zero
        var catchUp: Duration = .zero
        if let kept, let data = FileManager.default.contents(atPath: kept + ".json") {
            let seeded = try JSONDecoder().decode(Seeded.self, from: data)
            database = try SmollamaDatabase.open(path: path)
            ids = try seeded.nodes.map { hex in
                guard let id = NodeID(hex: hex) else { throw BenchError("\(kept).json: bad node id \(hex); delete it to reseed") }
                return id
            }
            now = UTCMillis(rawValue: seeded.now)
            readings = seeded.readings
        } else {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            database = try SmollamaDatabase.open(path: path)
            now = UTCMillis.now()
            (ids, readings, pushing, catchUp) = try await seed(database, path: path, now: now)
            if let kept {
                let seeded = Seeded(nodes: ids.map(\.hex), now: now.rawValue, readings: readings)
                try JSONEncoder().encode(seeded).write(to: URL(fileURLWithPath: kept + ".json"))
            }
        }
        let embedder = HashedEmbedder()
        let recall = Recall(
            database: database, embedder: embedder, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() },
            now: { now })
        var environment = DashboardEnvironment(
            node: NodeInfo(id: NodeID.random(), name: "hub", role: "llama"), database: database, databasePath: path,
            http: HTTPConfig(port: 0), now: { now })
        environment.mind = HubMind(
            search: { text, filter, topK in
                var query = RecallQuery(text: text, topK: topK)
                query.filter = filter
                return try await recall.rank(query).hits.map { HubMind.Hit(id: $0.row.ref, kind: $0.row.kind.rawValue, score: $0.score) }
            },
            ask: { _ in throw BenchError("ask is not benchmarked here") })
        let app = try buildApplication(environment: environment, logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
        let node = ids[ids.count / 2].hex
        @Sendable func shown(_ path: String) -> String { path.replacingOccurrences(of: node, with: "ID") }
        let paths = (["/api/v1/nodes"] + ["24h", "7d", "30d"].map {
            "/api/v1/nodes/\(node)/series?sensor=living_room.temperature&range=\($0)"
        } + [
            "/", "/api/v1/home", "/nodes/\(node)", "/compare?quantity=temperature",
            "/api/v1/compare?quantity=temperature", "/memories?q=kitchen+warm+evening",
            "/api/v1/memories/explore?q=kitchen+warm+evening",
        ]).filter { path in only.map { shown(path) == $0 } ?? true }
        let requests = requests
        let timings = try await app.test(.router) { client in
            var timings: [Result.Timing] = []
            for path in paths {
                var samples: [Double] = []
                var cpu = 0.0
                for index in 0..<(requests + 5) {
                    let cpuStart = PagesBench.cpuMilliseconds()
                    let began = ContinuousClock.now
                    let response = try await client.execute(uri: path, method: .get)
                    let elapsed = ContinuousClock.now - began
                    guard response.status == .ok else { throw BenchError("\(path) answered \(response.status)") }
                    if index >= 5 {
                        samples.append(elapsed.milliseconds)
                        cpu += PagesBench.cpuMilliseconds() - cpuStart
                    }
                }
                samples.sort()
                timings.append(Result.Timing(path: shown(path), p50Milliseconds: samples[samples.count / 2],
                                             p95Milliseconds: samples[min(samples.count - 1, samples.count * 95 / 100)],
                                             cpuMilliseconds: cpu / Double(samples.count)))
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
        if result.pushSeconds > 0 {
            print(String(format: "push + fold  %7.1f s  (%.0f k readings/s)", result.pushSeconds,
                         Double(readings) / result.pushSeconds / 1000))
            print(String(format: "catch-up     %7.1f s  (%.0f k readings/s)", result.catchUpSeconds,
                         Double(readings) / result.catchUpSeconds / 1000))
        } else {
            print("(the kept hub in \(keep ?? "") was reused: no push or catch-up times)")
        }
        for timing in timings {
            let path = timing.path.replacingOccurrences(of: "?sensor=living_room.temperature&range=", with: " ")
            print(String(path.prefix(44)).padding(toLength: 44, withPad: " ", startingAt: 0)
                  + String(format: " p50 %6.2f  p95 %6.2f  cpu %6.2f ms", timing.p50Milliseconds,
                           timing.p95Milliseconds, timing.cpuMilliseconds))
        }
        print("finished at \(PagesBench.loadAverage())")
    }

    /// Enrolls `nodes` nodes and pushes their simulated houses; then forgets the rollups and
    /// folds everything again (the catch-up), and seeds the memories.
    func seed(_ database: SmollamaDatabase, path: String, now: UTCMillis) async throws
        -> (ids: [NodeID], readings: Int, pushing: Duration, catchUp: Duration)
    {
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

        try await seedMemories(database, nodes: ids, now: now)
        return (ids, readings, pushing, catchUp)
    }

    static let vocabulary = [
        "kitchen", "hallway", "study", "bedroom", "garden", "warm", "cold", "humid", "dry", "morning", "evening",
        "night", "weekday", "weekend", "usually", "occupied", "empty", "door", "window", "light",
    ]

    /// `memories` memories, written by the nodes in turn, with their embeddings (as the embedding
    /// service would store them).
    func seedMemories(_ database: SmollamaDatabase, nodes: [NodeID], now: UTCMillis) async throws {
        var random = SplitMix64(state: 7)
        for index in 0..<memories {
            let text = (0..<6).map { _ in Self.vocabulary[Int.random(in: 0..<Self.vocabulary.count, using: &random)] }
                .joined(separator: " ")
            let created = now - .seconds(Int64(memories - index) * 60)
            let record = MemoryRecord(
                id: "bench-memory-\(index)", kind: "routine", subjects: ["s\(index % 13)"], text: text, confidence: 0.8,
                importance: Double(index % 10) / 10, validFrom: created, createdAt: created, source: .reflection)
            try await database.knowledge.record(
                record, origin: nodes[index % nodes.count],
                stamp: ClockStamp(hlc: HLCTimestamp(milliseconds: created.rawValue, counter: 0), bootID: "bench",
                                  monotonicNanoseconds: 0, quality: .synced))
        }
        let embedder = HashedEmbedder()
        while true {
            let pending = try await database.recall.pendingEmbeddings(model: embedder.model, limit: 2000)
            guard !pending.isEmpty else { break }
            let vectors = try await embedder.embed(pending.map(\.text)).vectors
            try await database.recall.storeEmbeddings(
                zip(pending, vectors).map { ($0.item, $0.text, $1) }, model: embedder.model)
        }
    }
}

/// A stand-in for the embedding model: each word a fixed pseudo-random direction, a text the
/// normalised sum of its words' (texts sharing words are near, as with a real model).
struct HashedEmbedder: Embedder {
    let model = "bench-hashed-384"
    func dimension() async throws -> Int { 384 }
    func embed(_ texts: [String]) async throws -> EmbeddingResult {
        let vectors = texts.map { text -> [Float] in
            var sum = [Float](repeating: 0, count: 384)
            for word in text.lowercased().split(whereSeparator: { !$0.isLetter }) {
                var random = SplitMix64(state: word.utf8.reduce(1469598103934665603) { ($0 ^ UInt64($1)) &* 1099511628211 })
                for index in 0..<384 { sum[index] += Float(random.gaussian()) }
            }
            let norm = max(1e-6, sum.reduce(0) { $0 + $1 * $1 }.squareRoot())
            return sum.map { $0 / norm }
        }
        return EmbeddingResult(model: model, vectors: vectors, dimension: 384)
    }
}

extension Duration {
    fileprivate var milliseconds: Double { seconds * 1000 }
}
