import ArgumentParser
import Foundation
import GRDB
import GRDBSQLite
import Logging
import SmollamaCore
import SmollamaSensors
import SmollamaStore

/// Benchmarks with their baselines measured in the same run (see BENCHMARKS.md).
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smollama-bench", abstract: "Measure Smollama against baselines, in one run.",
        subcommands: [IngestBench.self, DashboardBench.self, MQTTBench.self, SyncBench.self, RecallBench.self,
                      WeekReportBench.self, PresenceBench.self, HubBench.self, LoadBench.self, MCPBench.self,
                      PagesBench.self, SyncHubBench.self, SyncNodeBench.self],
        defaultSubcommand: IngestBench.self)
}

struct IngestBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Batched ingest through ReadingWriter vs a raw SQLite C-API loop with the same schema and batch size.")

    @Option(help: "Readings to ingest per run.") var readings = 1_000_000
    @Option(help: "Rows per commit, for both.") var batch = 1000
    @Option(help: "Runs of each; the best is reported.") var runs = 3
    @Flag(help: "Print the result as JSON.") var json = false

    struct Result: Codable {
        var readings: Int
        var batch: Int
        var writerReadingsPerSecond: Double
        var rawReadingsPerSecond: Double
        /// writer / raw: 1.0 means no overhead.
        var ratio: Double
        var writerBytesPerReading: Double
        var rawBytesPerReading: Double
    }

    func run() async throws {
        let house = SimulatedHouseDriver(options: .init())
        let start: Int64 = 1_795_000_000_000
        var samples: [(sensor: Int, time: Int64, value: Double)] = []
        samples.reserveCapacity(readings)
        var time = start
        while samples.count < readings {
            for (index, sample) in house.samples(at: time).enumerated() where samples.count < readings {
                samples.append((index, time, sample.value))
            }
            time += 10_000
        }

        var best = (writer: 0.0, raw: 0.0)
        var bytes = (writer: 0.0, raw: 0.0)
        for _ in 0..<runs {
            let (writerRate, writerBytes) = try await measureWriter(samples, sensors: house.sensors)
            let (rawRate, rawBytes) = try await measureRaw(samples, sensors: house.sensors)
            best = (max(best.writer, writerRate), max(best.raw, rawRate))
            bytes = (writerBytes, rawBytes)
        }
        let result = Result(readings: readings, batch: batch, writerReadingsPerSecond: best.writer,
                            rawReadingsPerSecond: best.raw, ratio: best.writer / best.raw,
                            writerBytesPerReading: bytes.writer, rawBytesPerReading: bytes.raw)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print("ingest of \(readings) readings, \(batch) per commit, best of \(runs):")
        print(String(format: "  ReadingWriter     %9.0f readings/s  %5.1f B/reading", best.writer, bytes.writer))
        print(String(format: "  raw SQLite C API  %9.0f readings/s  %5.1f B/reading", best.raw, bytes.raw))
        print(String(format: "  ratio (writer/raw) %.2f", result.ratio))
    }

    /// A fresh store file with the sensors registered; returns the path.
    func freshStore(_ sensors: [SensorDescriptor]) async throws -> (path: String, database: SmollamaDatabase, rows: [Int64]) {
        let path = FileManager.default.temporaryDirectory.path + "/smollama-bench-\(UUID().uuidString).sqlite"
        let database = try SmollamaDatabase.open(path: path)
        let registered = try await database.readings.registerSensors(sensors, driver: "house", now: 0)
        return (path, database, registered.map(\.rowID))
    }

    func measureWriter(_ samples: [(sensor: Int, time: Int64, value: Double)], sensors: [SensorDescriptor]) async throws
        -> (Double, Double)
    {
        let (path, database, rows) = try await freshStore(sensors)
        defer { remove(path) }
        let node = NodeID.random()
        try await database.meta.claim(for: node, incarnation: 1)
        let pending = samples.map { sample in
            PendingReading(sensorRowID: rows[sample.sensor], value: sample.value,
                           stamp: ClockStamp(hlc: HLCTimestamp(milliseconds: sample.time, counter: 0), bootID: "bench",
                                             monotonicNanoseconds: 0, quality: .synced))
        }
        let writer = ReadingWriter(database: database, origin: node,
                                   configuration: .init(flushInterval: .seconds(3600), maxBatch: batch,
                                                        maxBuffered: samples.count),
                                   logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
        let clock = ContinuousClock()
        let elapsed = await clock.measure {
            for reading in pending { await writer.submit(reading) }
            await writer.flush()
        }
        guard try await database.readings.readingCount() == samples.count else { throw BenchError("writer lost readings") }
        // The bench's own connection folds the WAL back, so both sides are measured as one file.
        try await DatabaseQueue(path: path).writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        return (Double(samples.count) / elapsed.seconds, Double(SmollamaDatabase.fileSize(path: path)) / Double(samples.count))
    }

    /// The baseline: sqlite3_prepare once, bind/step/reset per row, BEGIN/COMMIT every `batch` rows,
    /// WAL and synchronous=NORMAL like the store, into the very same schema.
    func measureRaw(_ samples: [(sensor: Int, time: Int64, value: Double)], sensors: [SensorDescriptor]) async throws
        -> (Double, Double)
    {
        let (path, _, rows) = try await freshStore(sensors)
        defer { remove(path) }
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK, let db = handle else {
            throw BenchError("cannot open \(path)")
        }
        defer { sqlite3_close(db) }
        func exec(_ sql: String) throws {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw BenchError(String(cString: sqlite3_errmsg(db))) }
        }
        try exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON")
        // The baseline writes the store's schema by hand (that is what it measures), epoch included.
        try exec("INSERT INTO clock_epochs (boot_id, quality, started_hlc, started_monotonic_ns) VALUES ('bench', 'synced', 0, 0)")
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, "INSERT INTO readings (sensor, time, value, epoch) VALUES (?, ?, ?, 1)", -1,
                                 &statement, nil) == SQLITE_OK, let insert = statement else {
            throw BenchError(String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(insert) }
        let clock = ContinuousClock()
        var failure: String?
        let elapsed = clock.measure {
            var index = 0
            while index < samples.count, failure == nil {
                sqlite3_exec(db, "BEGIN", nil, nil, nil)
                for sample in samples[index..<min(samples.count, index + batch)] {
                    sqlite3_bind_int64(insert, 1, rows[sample.sensor])
                    sqlite3_bind_int64(insert, 2, sample.time)
                    sqlite3_bind_double(insert, 3, sample.value)
                    if sqlite3_step(insert) != SQLITE_DONE { failure = String(cString: sqlite3_errmsg(db)) }
                    sqlite3_reset(insert)
                }
                sqlite3_exec(db, "COMMIT", nil, nil, nil)
                index += batch
            }
        }
        if let failure { throw BenchError(failure) }
        try exec("PRAGMA wal_checkpoint(TRUNCATE)")
        return (Double(samples.count) / elapsed.seconds, Double(SmollamaDatabase.fileSize(path: path)) / Double(samples.count))
    }

    func remove(_ path: String) {
        for file in [path, path + "-wal", path + "-shm"] { try? FileManager.default.removeItem(atPath: file) }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
