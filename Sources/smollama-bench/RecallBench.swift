import ArgumentParser
import Foundation
import GRDB
import GRDBSQLite
import Logging
import SmollamaCore
import SmollamaLLM
import SmollamaMind
import SmollamaStore

/// Recall latency at 10 k and 100 k memories, all through `Recall.search` (FTS5 and ranking
/// included): the in-memory index (sign-bit prefilter, int8 re-score, exact rerank) against the
/// exact scan, and in the same run the path before it (sqlite-vec's bit-quantized KNN, BM25
/// over every word match), plus sqlite-vec's plain float KNN as a reference. Vectors are clustered 384-d unit vectors (like
/// sentence embeddings: many near neighbours), generated from a fixed seed.
struct RecallBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recall", abstract: "Recall p50/p99 with sqlite-vec vs exact scan at 10 k and 100 k memories.")

    @Option(help: "Memory counts, comma-separated.") var sizes = "10000,100000"
    @Option(help: "Queries per configuration.") var queries = 200
    @Option(help: "Vector dimension.") var dimension = 384
    @Option(help: "sqlite-vec's vec0.so (default: $SMOLLAMA_VEC0 or setup's venv).") var vec0: String?
    @Option(help: "Keep each seeded store in this folder and reuse it on the next run (seeding 100 k takes minutes).")
    var keep: String?
    @Flag(help: "Only the current paths (exact scan, in-memory, words), not the paths before issue 15.")
    var quick = false
    @Flag(help: "Print the result as JSON.") var json = false

    struct Row: Codable {
        var memories: Int
        var path: String
        var p50Ms: Double
        var p99Ms: Double
        /// Mean CPU time of the whole process per query (every thread): unlike wall time, it
        /// does not grow when other work shares the cores. NaN where not measured.
        var cpuMs: Double = .nan
        /// Share of queries whose top-1 equals the exact scan's.
        var top1AgreementWithExact: Double
        /// Mean overlap of the top 10 with the exact scan's top 10.
        var recallAt10: Double
    }

    /// Returns the query vector for "q<index> …" texts.
    struct TableEmbedder: Embedder {
        let model = "bench-384"
        let vectors: [[Float]]
        func dimension() async throws -> Int { vectors.first?.count ?? 0 }
        func embed(_ texts: [String]) async throws -> EmbeddingResult {
            let out = texts.map { text -> [Float] in
                let index = Int(text.split(separator: " ").first?.dropFirst() ?? "") ?? 0
                return vectors[index % vectors.count]
            }
            return EmbeddingResult(model: model, vectors: out, dimension: out.first?.count ?? 0)
        }
    }


    static func normalized(_ v: [Float]) -> [Float] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }

    static let words = [
        "motion", "hallway", "kitchen", "door", "window", "temperature", "humidity", "light", "morning", "evening",
        "night", "weekday", "weekend", "garage", "cellar", "attic", "heating", "fridge", "garden", "pressure",
    ]

    func run() async throws {
        guard let vec0 = vec0 ?? VectorExtensionFile.locate(environment: ProcessInfo.processInfo.environment) else {
            throw ValidationError("sqlite-vec not found: run scripts/setup-llm.sh or pass --vec0 PATH")
        }
        var rows: [Row] = []
        for size in sizes.split(separator: ",").compactMap({ Int($0) }) {
            rows += try await measure(size: size, vec0: vec0)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .snakeCaseWords
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        print("memories  path                           p50 ms   p99 ms cpu ms   top-1 rec@10")
        for row in rows {
            let name = row.path.padding(toLength: 30, withPad: " ", startingAt: 0)
            print(String(format: "%8d  ", row.memories) + name + String(format: "%7.2f  %7.2f %6.2f  %5.1f%% %6.3f",
                         row.p50Ms, row.p99Ms, row.cpuMs, row.top1AgreementWithExact * 100, row.recallAt10))
        }
    }

    func measure(size: Int, vec0: String) async throws -> [Row] {
        var random = SplitMix64(state: 42)
        let clusters = max(10, size / 200)
        let centers = (0..<clusters).map { _ in Self.normalized((0..<dimension).map { _ in random.gaussian() }) }
        func near(_ center: [Float], spread: Float) -> [Float] {
            Self.normalized(center.map { $0 + spread * random.gaussian() })
        }
        let path =
            keep.map { "\($0)/recall-\(size)x\(dimension).sqlite" }
            ?? FileManager.default.temporaryDirectory.path + "/smollama-recall-bench-\(UUID().uuidString).sqlite"
        let reuse = keep != nil && FileManager.default.fileExists(atPath: path)
        defer {
            if keep == nil {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
        }
        let database = try SmollamaDatabase.open(path: path, vectorExtension: vec0)
        let start = Date()
        let t0: UTCMillis = 1_795_000_000_000
        if !reuse {
            let node = NodeID.random()
            try await database.meta.claim(for: node, incarnation: 1)
            var vectors: [(item: Int64, text: String, vector: [Float])] = []
            for index in 0..<size {
                let text = (0..<6).map { _ in Self.words[Int.random(in: 0..<Self.words.count, using: &random)] }
                    .joined(separator: " ")
                let record = MemoryRecord(
                    id: "m\(index)", kind: "routine", subjects: ["s\(index % 50)"], text: text,
                    confidence: 0.8, importance: Double(index % 10) / 10, validFrom: t0, createdAt: t0 + .milliseconds(index),
                    source: .reflection)
                try await database.knowledge.record(
                    record, origin: node,
                    stamp: ClockStamp(hlc: HLCTimestamp(milliseconds: t0.rawValue + Int64(index), counter: 0), bootID: "bench",
                                      monotonicNanoseconds: 0, quality: .synced))
                vectors.append((Int64(index + 1), text, near(centers[index % clusters], spread: 0.08)))
            }
            let pending = try await database.recall.pendingEmbeddings(model: "bench-384", limit: size)
            var byItem: [Int64: [Float]] = [:]
            for (offset, entry) in pending.enumerated() { byItem[entry.item] = vectors[offset].vector }
            for chunk in stride(from: 0, to: pending.count, by: 2000) {
                let slice = pending[chunk..<min(chunk + 2000, pending.count)]
                try await database.recall.storeEmbeddings(slice.map { ($0.item, $0.text, byItem[$0.item] ?? []) }, model: "bench-384")
            }
        } else {
            // A reused store was seeded from the same seed: draw the seeding's numbers again
            // (without writing) so the queries below are the same as on the seeding run.
            for index in 0..<size {
                for _ in 0..<6 { _ = Int.random(in: 0..<Self.words.count, using: &random) }
                _ = near(centers[index % clusters], spread: 0.08)
            }
        }
        FileHandle.standardError.write(Data(String(
            format: "\(reuse ? "reused" : "seeded") %d memories in %.0f s\n", size,
            Date().timeIntervalSince(start)).utf8))

        let queryVectors = (0..<queries).map { _ in near(centers[Int.random(in: 0..<clusters, using: &random)], spread: 0.1) }
        let embedder = TableEmbedder(vectors: queryVectors)
        let texts = (0..<queries).map { "q\($0) " + Self.words[$0 % Self.words.count] }
        let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

        func run(_ mode: Recall.VectorSearch, allWordMatches: Bool = false) async throws
            -> (times: [Double], tops: [[String]], cpu: Double)
        {
            var ranking = Recall.Ranking()
            if allWordMatches { ranking.wordMatchesRanked = .max }
            let recall = Recall(
                database: database, embedder: embedder, vectorSearch: mode, ranking: ranking, logger: logger, now: { t0 })
            var times: [Double] = []
            var tops: [[String]] = []
            _ = try await recall.search(RecallQuery(text: texts[0], topK: 10))  // warm the page cache
            let cpuBefore = Self.processCPUMilliseconds()
            for text in texts {
                let clock = ContinuousClock()
                let began = clock.now
                let hits = try await recall.search(RecallQuery(text: text, topK: 10))
                times.append(Double((clock.now - began).components.attoseconds) / 1e15
                             + Double((clock.now - began).components.seconds) * 1000)
                tops.append(hits.map(\.id))
            }
            return (times, tops, (Self.processCPUMilliseconds() - cpuBefore) / Double(max(1, texts.count)))
        }
        // Before (as shipped until issue 15): BM25 over every word match; sqlite-vec's KNN.
        let none: (times: [Double], tops: [[String]], cpu: Double) = ([], [], .nan)
        let exactAll = quick ? none : try await run(.exact, allWordMatches: true)
        let vec = quick ? none : try await run(.sqliteVec, allWordMatches: true)
        let wordsAll = quick ? none : try await run(.off, allWordMatches: true)
        // Now: BM25 over the newest matches; the in-memory index (loaded by its first search).
        let rssBefore = Self.residentBytes()
        let footprint = try await database.recall.vectorIndexFootprint(model: embedder.model, dimension: dimension)
        let rssAfter = Self.residentBytes()
        let exact = try await run(.exact)
        let memory = try await run(.automatic)
        let words = try await run(.off)
        let stages = try await stageTimes(database: database, texts: texts, vectors: queryVectors, model: embedder.model)
        let floatTimes = quick ? [] : try floatKNN(path: path, vec0: vec0, queries: queryVectors)
        FileHandle.standardError.write(Data(String(
            format: "%d memories: in-memory index %d vectors, %.1f MB by count, RSS +%.1f MB on loading\n", size,
            footprint.vectors, Double(footprint.bytes) / 1e6, Double(rssAfter - rssBefore) / 1e6).utf8))

        func percentile(_ values: [Double], _ p: Double) -> Double {
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
        }
        func agreement(_ tops: [[String]], with reference: [[String]]) -> (Double, Double) {
            var top1 = 0.0
            var overlap = 0.0
            for (a, b) in zip(tops, reference) {
                if a.first == b.first { top1 += 1 }
                overlap += Double(Set(a).intersection(b).count) / Double(max(1, b.count))
            }
            return (top1 / Double(tops.count), overlap / Double(tops.count))
        }
        func row(_ name: String, _ run: (times: [Double], tops: [[String]], cpu: Double), _ reference: [[String]])
            -> Row
        {
            let (top1, at10) = agreement(run.tops, with: reference)
            return Row(
                memories: size, path: name, p50Ms: percentile(run.times, 0.5), p99Ms: percentile(run.times, 0.99),
                cpuMs: run.cpu, top1AgreementWithExact: top1, recallAt10: at10)
        }
        let current = [
            row("exact scan", exact, exact.tops),
            row("in-memory bits+int8+rerank", memory, exact.tops),
            row("words only", words, exact.tops),
        ]
        let before =
            quick
            ? []
            : [
                row("before: exact, all words", exactAll, exactAll.tops),
                row("before: sqlite-vec, all words", vec, exactAll.tops),
                row("before: words only, all", wordsAll, exactAll.tops),
                row("exact scan vs before", exact, exactAll.tops),
                Row(memories: size, path: "sqlite-vec float KNN only", p50Ms: percentile(floatTimes, 0.5),
                    p99Ms: percentile(floatTimes, 0.99), top1AgreementWithExact: .nan, recallAt10: .nan),
            ]
        let stageRows = stages.map { name, times in
            Row(memories: size, path: "stage: " + name, p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99),
                top1AgreementWithExact: .nan, recallAt10: .nan)
        }
        return before + current + stageRows + [
            Row(memories: size, path: "index MB (count) / RSS MB", p50Ms: Double(footprint.bytes) / 1e6,
                p99Ms: Double(rssAfter - rssBefore) / 1e6, top1AgreementWithExact: .nan, recallAt10: .nan),
        ]
    }

    /// Each store call of the in-memory path alone, as `Recall.search` makes them for a top 10
    /// (a pool of 80 per signal, valid items only; each hit comes with its row): where a
    /// query's time goes.
    func stageTimes(database: SmollamaDatabase, texts: [String], vectors: [[Float]], model: String) async throws
        -> [(String, [Double])]
    {
        let ranking = Recall.Ranking()
        let filter = RecallFilter()
        let pool = 80
        var words: [Double] = []
        var nearest: [Double] = []
        var records: [Double] = []
        func timed<T>(_ into: inout [Double], _ body: () async throws -> T) async rethrows -> T {
            let began = ContinuousClock.now
            let result = try await body()
            let elapsed = ContinuousClock.now - began
            into.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            return result
        }
        for (text, vector) in zip(texts, vectors) {
            let terms = text.split(separator: " ").map(String.init)
            let wordHits = try await timed(&words) {
                try await database.recall.textSearch(
                    terms, filter: filter, limit: pool, newestMatches: ranking.wordMatchesRanked)
            }
            let vectorHits = try await timed(&nearest) {
                try await database.recall.memoryVectorSearch(
                    vector, model: model, filter: filter, limit: pool, prefilter: ranking.bitCandidates,
                    rerank: pool * ranking.exactRerankPerHit)
            }
            let refs = Dictionary((wordHits + vectorHits).map { ($0.item, $0.row) }, uniquingKeysWith: { a, _ in a })
                .values.sorted { $0.item < $1.item }.prefix(10).map(\.ref)
            _ = try await timed(&records) { try await database.knowledge.records(observations: [], memories: refs) }
        }
        return [("words", words), ("vectors", nearest), ("records", records)]
    }

    /// CPU time of every thread of this process so far, in milliseconds.
    static func processCPUMilliseconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now)
        return Double(now.tv_sec) * 1000 + Double(now.tv_nsec) / 1e6
    }

    /// The process's resident set size (Linux `/proc/self/statm`), 0 elsewhere.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
            let pages = text.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Reference: sqlite-vec's float KNN (k=10) alone, no FTS, no ranking, no records loaded.
    /// Its own connection to the bench file and its own table (dropped afterwards): the store
    /// has no bench-only API.
    func floatKNN(path: String, vec0: String, queries: [[Float]]) throws -> [Double] {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            guard let handle = db.sqliteConnection else { return }
            _ = sqlite3_enable_load_extension(handle, 1)
            guard sqlite3_load_extension(handle, vec0, nil, nil) == SQLITE_OK else {
                throw DatabaseError(message: "cannot load sqlite-vec from \(vec0)")
            }
        }
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        try connection.write { db in
            try db.execute(sql: "DROP TABLE IF EXISTS bench_vec_float")
            try db.execute(sql: "CREATE VIRTUAL TABLE bench_vec_float USING vec0(embedding float[\(dimension)])")
            try db.execute(sql: "INSERT INTO bench_vec_float (rowid, embedding) SELECT item, vector FROM recall_embeddings")
        }
        defer { try? connection.write { db in try db.execute(sql: "DROP TABLE bench_vec_float") } }
        return try queries.map { query in
            let blob = query.withUnsafeBufferPointer { Data(buffer: $0) }
            let started = DispatchTime.now().uptimeNanoseconds
            _ = try connection.read { db in
                try Int64.fetchAll(
                    db, sql: "SELECT rowid FROM bench_vec_float WHERE embedding MATCH ? AND k = 10", arguments: [blob])
            }
            return Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        }
    }
}
