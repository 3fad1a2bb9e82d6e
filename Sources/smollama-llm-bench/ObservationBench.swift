import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SmollamaCore
import SmollamaLLM
import SmollamaMind
import SmollamaSensors
import SmollamaStore
import Synchronization

/// The observation loop's quality report over a fixed simulated week: the simulated house (seed 42)
/// backfilled with three weeks of baseline history before the week, then one window every
/// `strideHours` through the week, each observed by SmolLM2-135M through the whole pipeline
/// (evidence → prompt → schema-constrained reply → verification → retry → rules → dedup).
struct ObservationBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "observations", abstract: "Observation quality: schema-valid, verified, rules fallback, duplicates, tokens, time.")

    @Option(help: "Days of the observed week.") var days = 7
    @Option(help: "Hours between observed windows (the week is sampled, not observed end to end).") var strideHours = 15
    @Option(help: "Minutes per window.") var windowMinutes = 60
    @Option(help: "Days of history before the week, for the baselines.") var historyDays = 21
    @Option(help: "llama-server threads (0: its default).") var threads = 0
    @Flag(help: "Print every observation.") var verbose = false

    /// Monday 2026-11-23 00:00 UTC; with the default stride the planted Tuesday 03:10 motion falls in a window.
    static let monday: Int64 = 1_795_392_000_000

    func run() async throws {
        var config = Bench.managedRuntime(threads: threads)
        var logger = Logger(label: "smollama-llm-bench")
        logger.logLevel = .warning
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smollama-observe-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        config.cacheDirectory = directory
        let database = try SmollamaDatabase.open(path: directory + "/bench.sqlite")
        let node = NodeID.random()
        try await database.meta.claim(for: node, incarnation: 1)
        // Sunday 21:00: with the default 15 h stride, Tuesday 03:00–04:00 (the planted motion) is a window.
        let weekStart = Self.monday - 3 * 3_600_000
        let seeded = ContinuousClock.now
        let readings = try await seed(database, node: node, from: weekStart - Int64(historyDays) * 86_400_000,
                                      to: weekStart + Int64(days) * 86_400_000)
        print("seeded \(readings) readings in \(String(format: "%.1f", (ContinuousClock.now - seeded).seconds)) s")

        let supervisor = try RuntimeSupervisor(config: config, logger: logger)
        let group = ServiceGroup(services: [supervisor], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            guard await supervisor.waitUntilReady(timeout: .seconds(120)) else {
                throw LLMError.runtimeFailed("llama-server did not become ready: \(supervisor.status())")
            }
            try await measure(database: database, node: node, config: config, weekStart: weekStart, logger: logger)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    func measure(database: SmollamaDatabase, node: NodeID, config: LLMConfig, weekStart: Int64, logger: Logger) async throws {
        let client = OpenAIClient(url: config.url, model: config.chatModel, embeddingURL: config.embeddingURL,
                                  embeddingModel: config.embeddingModel, timeout: .seconds(120), retry: .none, logger: logger)
        let counter = Counter()
        let loop = ObservationLoop(
            database: database, origin: node, builder: EvidenceBuilder(database: database),
            narrator: StreamingNarrator(model: client), embedder: client, settings: ObservationLoopSettings(),
            stamp: { counter.stamp() }, logger: logger)
        var outcomes: [ObservationOutcome] = []
        let window = Int64(windowMinutes) * 60_000
        var start = weekStart
        let end = weekStart + Int64(days) * 86_400_000
        let began = ContinuousClock.now
        while start + window <= end {
            let outcome = try await loop.observe(windowStart: UTCMillis(rawValue: start), windowEnd: UTCMillis(rawValue: start + window))
            outcomes.append(outcome)
            if verbose {
                for attempt in outcome.attempts {
                    print("  attempt: \(String(format: "%.1f", attempt.seconds)) s, prompt \(attempt.promptTokens ?? 0), "
                          + "completion \(attempt.completionTokens ?? 0), schema \(attempt.schemaValid), "
                          + "verified \(attempt.verified)/\(attempt.drafts) \(attempt.failures)")
                }
                for record in outcome.stored {
                    print("  \(record.generator.rawValue) ×\(record.support) [\(record.kind)] \(record.text)")
                }
            }
            start += Int64(strideHours) * 3_600_000
        }
        let total = (ContinuousClock.now - began).seconds
        let attempts = outcomes.flatMap(\.attempts)
        let drafts = attempts.map(\.drafts).reduce(0, +)
        let verified = attempts.map(\.verified).reduce(0, +)
        let stored = outcomes.flatMap(\.stored)
        let merged = outcomes.map(\.merged).reduce(0, +)
        let rows = try await database.knowledge.recentObservations(limit: 100_000).count
        func percent(_ part: Int, _ whole: Int) -> String { String(format: "%.0f %%", 100 * Double(part) / Double(max(whole, 1))) }
        func mean(_ values: [Int]) -> String { String(format: "%.0f", Double(values.reduce(0, +)) / Double(max(values.count, 1))) }
        let failures = Dictionary(grouping: attempts.flatMap(\.failures).map(Self.category), by: { $0 }).mapValues(\.count)
        print("""
            Observation loop, SmolLM2-135M-Instruct Q4_1 via llama-server (+ all-MiniLM-L6-v2 for dedup), \
            \(outcomes.count) windows of \(windowMinutes) min, one every \(strideHours) h over \(days) days of the simulated house:
            | metric | value |
            |---|---|
            | windows observed | \(outcomes.count) |
            | model attempts (first + retries) | \(attempts.count) (\(attempts.count - outcomes.filter { !$0.attempts.isEmpty }.count) retries) |
            | schema-valid replies | \(percent(attempts.filter(\.schemaValid).count, attempts.count)) |
            | drafts verified | \(percent(verified, drafts)) (\(verified) of \(drafts)) |
            | windows written by the model (llm) | \(percent(outcomes.filter { $0.generator == .llm }.count, outcomes.count)) |
            | rules fallback (windows) | \(percent(outcomes.filter { $0.generator == .rules }.count, outcomes.count)) |
            | observations written / rows after dedup | \(stored.count) / \(rows) |
            | duplicate rate (repeats folded into support) | \(percent(merged, stored.count)) |
            | estimated prompt tokens per window (mean / max) | \(mean(outcomes.map(\.estimatedPromptTokens))) / \(outcomes.map(\.estimatedPromptTokens).max() ?? 0) |
            | prompt tokens per attempt (runtime's count, mean / max) | \(mean(attempts.compactMap(\.promptTokens))) / \(attempts.compactMap(\.promptTokens).max() ?? 0) |
            | completion tokens per attempt (mean) | \(mean(attempts.compactMap(\.completionTokens))) |
            | seconds per window (mean) | \(String(format: "%.1f", total / Double(max(outcomes.count, 1)))) |
            | seconds per observation written | \(String(format: "%.1f", total / Double(max(stored.count, 1)))) |
            rejections: \(failures.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            """)
    }

    /// A failure message reduced to its kind, for the rejection tally.
    static func category(_ failure: String) -> String {
        for (needle, name) in [("is not in the cited evidence", "fabricated number"), ("another unit", "wrong unit"),
                               ("is not a sensor", "unknown sensor"), ("not in the evidence packet", "unknown evidence id"),
                               ("says nothing specific", "generic text"), ("text is empty", "empty text"),
                               ("is not one of", "unknown kind"), ("cites no evidence", "no evidence"),
                               ("token cap", "truncated"), ("schema", "schema"), ("JSON", "schema")]
        where failure.contains(needle) {
            return name
        }
        return "other"
    }

    /// The simulated house's readings, as backfill writes them; returns how many.
    func seed(_ database: SmollamaDatabase, node: NodeID, from start: Int64, to end: Int64) async throws -> Int {
        let driver = SimulatedHouseDriver()
        let registered = try await database.readings.registerSensors(driver.sensors, driver: driver.name, now: UTCMillis(rawValue: start))
        let rows = Dictionary(uniqueKeysWithValues: registered.map { ($0.descriptor.id, $0) })
        var last: [SensorID: (value: Double, time: Int64)] = [:]
        var batch: [PendingReading] = []
        var written = 0
        var time = start
        while time < end {
            for sample in driver.samples(at: time) {
                guard let sensor = rows[sample.sensor] else { continue }
                if sensor.descriptor.kind == .binary, let previous = last[sample.sensor], previous.value == sample.value,
                   time - previous.time < 300_000 { continue }
                last[sample.sensor] = (sample.value, time)
                batch.append(PendingReading(sensorRowID: sensor.rowID, value: sample.value, stamp: Counter.stamp(time)))
            }
            if batch.count >= 20_000 {
                try await database.readings.commit(readings: batch, notices: [], origin: node)
                written += batch.count
                batch.removeAll(keepingCapacity: true)
            }
            time += 60_000
        }
        try await database.readings.commit(readings: batch, notices: [], origin: node)
        written += batch.count
        try await database.readings.rollUpAll()
        return written
    }
}

/// Strictly increasing stamps after the simulated week, so re-recorded observations win.
final class Counter: Sendable {
    private let next = Mutex<Int64>(ObservationBench.monday + 30 * 86_400_000)
    func stamp() -> ClockStamp {
        next.withLock { value in
            value += 1
            return Self.stamp(value)
        }
    }
    static func stamp(_ time: Int64) -> ClockStamp {
        ClockStamp(hlc: HLCTimestamp(milliseconds: time, counter: 0), bootID: "bench", monotonicNanoseconds: 1, quality: .synced)
    }
}
