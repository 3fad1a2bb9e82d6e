import ArgumentParser
import Foundation
import Logging
import SmollamaCore
import SmollamaMind
import SmollamaSensors
import SmollamaStore
import Synchronization

/// The observation quality report over a simulated week (issue 15): the rules writer (no model
/// has passed calibration on this machine) over every 15-minute window of the simulated house's
/// week after `history` days, with the daily digest: observations per day, repeats, the share of
/// stored observations that re-verify per generator, digests per day, phrasings used.
struct WeekReportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "week-report",
        abstract: "Observation quality over a simulated week: per day, per generator, digests, repeats.")

    @Option(help: "Days observed.") var days = 7
    @Option(help: "Days of history before them (baselines, presence).") var history = 14
    @Option(help: "Minutes per observation window.") var windowMinutes = 15
    @Flag(help: "Print the report as JSON.") var json = false

    /// Monday 2026-11-23 00:00 UTC: the week holds the house's planted Tuesday 03:10 motion.
    static let monday: Int64 = 1_795_392_000_000

    func run() async throws {
        let path = FileManager.default.temporaryDirectory.path + "/smollama-bench-week-\(UUID().uuidString).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try SmollamaDatabase.open(path: path)
        let node = NodeID(bytes: Array(repeating: 7, count: 16))
        try await database.meta.claim(for: node, incarnation: 1)
        let start = UTCMillis(rawValue: Self.monday)
        let end = start + .seconds(Int64(days) * 86_400)
        let seeded = ContinuousClock.now
        try await Self.seed(database, node: node, from: start - .seconds(Int64(history) * 86_400), to: end)
        FileHandle.standardError.write(Data("seeded \(history + days) days in \(ContinuousClock.now - seeded)\n".utf8))

        let counter = Counter(start: end.rawValue + 86_400_000)
        let builder = EvidenceBuilder(database: database)
        let digest = DailyDigest(database: database, origin: node, windowLength: .seconds(Int64(windowMinutes) * 60))
        let settings = ObservationLoopSettings()
        let loop = ObservationLoop(database: database, origin: node, builder: builder, narrator: nil, digest: digest,
                                   settings: settings, stamp: { counter.stamp() },
                                   logger: Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() })
        let report = try await ObservationQuality.run(
            loop: loop, builder: builder, digest: digest, database: database, origin: node, from: start, to: end,
            interval: .seconds(Int64(windowMinutes) * 60), dedupWindow: settings.dedupWindow
        ) { done, total in
            if done % 96 == 0 { FileHandle.standardError.write(Data("observed \(done)/\(total) windows\n".utf8)) }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return print(String(decoding: try encoder.encode(report), as: UTF8.self))
        }
        print(Self.table(report))
        let digests = try await database.knowledge.recentObservations(limit: 100_000).map(\.record)
            .filter { $0.kind == DailyDigest.kind }.sorted { $0.timeStart < $1.timeStart }
        for record in digests { print("digest (confidence \(record.confidence ?? 0)): \(record.text)") }
    }

    static func table(_ report: ObservationQuality) -> String {
        var lines = ["| day | windows | new observations | merged into earlier | digests |", "|---|---|---|---|---|"]
        for day in report.days {
            let stored = day.stored.values.reduce(0, +)
            lines.append("| \(day.date) | \(day.windows) | \(stored) | \(day.merged) | \(day.digests) |")
        }
        let windows = report.days.map(\.windows).reduce(0, +)
        let stored = report.days.map { $0.stored.values.reduce(0, +) }.reduce(0, +)
        lines.append("| **total** | \(windows) | \(stored) | \(report.days.map(\.merged).reduce(0, +)) | "
                     + "\(report.digestsTotal) |")
        lines.append("")
        lines.append("| generator | stored (new + merged) | re-verified | share |")
        lines.append("|---|---|---|---|")
        for name in ["rules", "llm"] {
            let generator = report.generators[name] ?? .init()
            let share = generator.stored == 0 ? "—" : String(format: "%.1f %%", 100 * Double(generator.verified) / Double(generator.stored))
            lines.append("| \(name) | \(generator.stored) | \(generator.verified) | \(share) |")
        }
        lines.append("| digest (rules) | \(report.digestsTotal) | \(report.digestsVerified) | "
                     + (report.digestsTotal == 0 ? "—" : String(format: "%.1f %%", 100 * Double(report.digestsVerified) / Double(report.digestsTotal))) + " |")
        lines.append("")
        lines.append("duplicates the dedup let through: \(report.duplicates); rows repeating an earlier text of the same day: "
                     + "\(report.repeatedTexts); texts naming a sensor id: \(report.sensorIDTexts.count); "
                     + "re-verification failures: \(report.failures.count)")
        let situations = report.situations.keys.sorted().map { name in
            "\(name) \(report.situations[name] ?? 0)× (phrasings \((report.variants[name] ?? []).map(String.init).joined(separator: ",")))"
        }
        lines.append("rules situations: " + situations.joined(separator: "; "))
        lines.append(String(format: "observing took %.1f s", report.seconds))
        for failure in report.failures.prefix(10) { lines.append("FAILED: \(failure)") }
        return lines.joined(separator: "\n")
    }

    /// The simulated house's readings as the scheduler stores them (binary sensors on change or
    /// every 5 minutes), one a minute, then rolled up.
    static func seed(_ database: SmollamaDatabase, node: NodeID, from start: UTCMillis, to end: UTCMillis,
                     options: SimulatedHouseDriver.Options = .init()) async throws {
        let house = SimulatedHouseDriver(options: options)
        let registered = try await database.readings.registerSensors(house.sensors, driver: house.name, now: start)
        let rows = Dictionary(uniqueKeysWithValues: registered.map { ($0.descriptor.id, $0) })
        var last: [SensorID: (value: Double, time: UTCMillis)] = [:]
        var batch: [PendingReading] = []
        var time = start
        while time < end {
            let stamp = ClockStamp(hlc: HLCTimestamp(milliseconds: time.rawValue, counter: 0), bootID: "week",
                                   monotonicNanoseconds: 1, quality: .synced)
            for sample in house.samples(at: time.rawValue) {
                guard let sensor = rows[sample.sensor] else { continue }
                if sensor.descriptor.kind == .binary, let previous = last[sample.sensor], previous.value == sample.value,
                   time - previous.time < .seconds(300) { continue }
                last[sample.sensor] = (sample.value, time)
                batch.append(PendingReading(sensorRowID: sensor.rowID, value: sample.value, stamp: stamp))
            }
            if batch.count >= 20_000 {
                try await database.readings.commit(readings: batch, notices: [], origin: node)
                batch.removeAll(keepingCapacity: true)
            }
            time = time + .seconds(60)
        }
        try await database.readings.commit(readings: batch, notices: [], origin: node)
        try await database.readings.rollUpAll()
    }

    /// Strictly increasing observation stamps after the simulated span.
    final class Counter: Sendable {
        let next: Mutex<Int64>
        init(start: Int64) { next = Mutex(start) }
        func stamp() -> ClockStamp {
            next.withLock { value in
                value += 1
                return ClockStamp(hlc: HLCTimestamp(milliseconds: value, counter: 0), bootID: "week",
                                  monotonicNanoseconds: 1, quality: .synced)
            }
        }
    }
}
