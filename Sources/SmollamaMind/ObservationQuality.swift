import Foundation
public import SmollamaCore
public import SmollamaStore

/// Observes every window of a span of days with the real loop (digest included) and measures what
/// was stored: per local day the rows written and merged and the digests; per generator the share
/// of stored observations that re-verify against their window's evidence, rebuilt from the store;
/// texts naming a sensor id; repeats the dedup let through; and which phrasing of each rules
/// situation was used. The simulated days test (CI, 2 days) and `smollama-bench week-report`
/// (a week) both run it.
public struct ObservationQuality: Sendable, Codable, Hashable {
    public struct Day: Sendable, Codable, Hashable {
        /// Local date, `2026-11-24`.
        public var date: String
        public var windows = 0
        /// New rows by generator (`rules`, `llm`), digests excluded.
        public var stored: [String: Int] = [:]
        public var merged = 0
        public var digests = 0
    }

    public struct Generator: Sendable, Codable, Hashable {
        public var stored = 0
        public var verified = 0

        public init() {}
    }

    public var days: [Day] = []
    public var generators: [String: Generator] = [:]
    /// Rows of the table with the same kind, subjects and text as another whose span ends within
    /// the dedup window of its start: repeats the dedup should have folded.
    public var duplicates = 0
    /// Rows whose text equals an earlier row's of the same local day (kind digest excluded).
    public var repeatedTexts = 0
    /// Texts (of stored observations and digests) that name a sensor id.
    public var sensorIDTexts: [String] = []
    /// Stored observations that failed re-verification, with the reason.
    public var failures: [String] = []
    /// Per rules situation: how often it was written and which phrasings were used.
    public var situations: [String: Int] = [:]
    public var variants: [String: [Int]] = [:]
    public var digestsVerified = 0
    public var digestsTotal = 0
    public var seconds = 0.0

    public init() {}

    /// Observes `[from, to)` window by window with `loop` (which should carry `digest`), checking
    /// each window's stored records against `builder`'s packet for it; then reads the table.
    public static func run(
        loop: ObservationLoop, builder: EvidenceBuilder, digest: DailyDigest, database: SmollamaDatabase,
        origin: NodeID, from: UTCMillis, to: UTCMillis, interval: Duration, dedupWindow: Duration,
        progress: (Int, Int) -> Void = { _, _ in }
    ) async throws -> ObservationQuality {
        let started = ContinuousClock.now
        var report = ObservationQuality()
        let clock = digest.clock
        let verifier = ObservationVerifier()
        let rules = RulesNarrator()
        let sensors = try await database.readings.registeredSensors().map(\.descriptor.id.rawValue)
        var used: [String: Set<Int>] = [:]
        let total = Int((to - from) / interval)
        var index = 0
        var window = from
        while window + interval <= to {
            let end = window + interval
            let outcome = try await loop.observe(windowStart: window, windowEnd: end)
            let date = Self.date(clock.dayIndex(window))
            if report.days.last?.date != date { report.days.append(Day(date: date)) }
            report.days[report.days.count - 1].windows += 1
            report.days[report.days.count - 1].merged += outcome.merged
            report.days[report.days.count - 1].stored[outcome.generator.rawValue, default: 0]
                += outcome.stored.count - outcome.merged
            let packet = try await builder.build(windowStart: window, windowEnd: end)
            if outcome.generator == .rules {
                for (_, situation, variant) in rules.narrated(packet) {
                    report.situations[situation.rawValue, default: 0] += 1
                    used[situation.rawValue, default: []].insert(variant)
                }
            }
            for record in outcome.stored {
                let ids = packet.facts.filter { record.evidenceIDs.contains($0.key) }.map(\.id)
                let draft = ObservationDraft(kind: record.kind, subjects: record.subjects, text: record.text,
                                             evidenceIDs: ids, importance: record.importance)
                var generator = report.generators[record.generator.rawValue] ?? Generator()
                generator.stored += 1
                if let failure = verifier.verify(draft, against: packet) {
                    report.failures.append("\(record.text) — \(failure)")
                } else {
                    generator.verified += 1
                }
                report.generators[record.generator.rawValue] = generator
            }
            if let record = outcome.digest {
                // The digest belongs to the day that ended (the window's own day).
                report.days[report.days.count - 1].digests += 1
                report.digestsTotal += 1
                let packet = try await digest.packet(day: clock.dayIndex(record.timeStart))
                if let failure = DailyDigest.verify(record, against: packet) {
                    report.failures.append("\(record.text) — \(failure)")
                } else {
                    report.digestsVerified += 1
                }
            }
            window = end
            index += 1
            progress(index, total)
        }
        report.variants = used.mapValues { $0.sorted() }

        // The table as stored: sensor ids in texts, repeats.
        let rows = try await database.knowledge.observations(origin: origin, startingFrom: from, to: to).map(\.record)
        for record in rows where sensors.contains(where: { record.text.contains($0) }) {
            report.sensorIDTexts.append(record.text)
        }
        var seenToday: [Int64: Set<String>] = [:]
        for record in rows where record.kind != DailyDigest.kind {
            let text = ObservationVerifier.normalised(record.text)
            if !seenToday[clock.dayIndex(record.timeStart), default: []].insert(text).inserted { report.repeatedTexts += 1 }
        }
        for (offset, record) in rows.enumerated() where record.kind != DailyDigest.kind {
            let text = ObservationVerifier.normalised(record.text)
            let missed = rows[..<offset].contains { earlier in
                earlier.kind == record.kind && earlier.subjects == record.subjects
                    && ObservationVerifier.normalised(earlier.text) == text
                    && earlier.timeEnd >= record.timeStart - dedupWindow
            }
            if missed { report.duplicates += 1 }
        }
        report.seconds = ObservationLoop.seconds(ContinuousClock.now - started)
        return report
    }

    /// `2026-11-24` for a local day index.
    static func date(_ day: Int64) -> String {
        let date = CivilDate(day: day)
        return String(format: "%04d-%02d-%02d", Int(date.year), date.month, date.day)
    }
}
