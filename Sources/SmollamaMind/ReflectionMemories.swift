import Foundation
import SmollamaCore
import SmollamaLLM
import SmollamaStore

/// One thing a reflection pass found that is kept as one memory per key: a routine, a presence
/// schedule or a typical range. What it says now, and how to compare it with what is remembered.
struct ReflectionFinding {
    /// `metadata.pattern` of its memory: `sensor|weekdays`, `schedule|study|weekdays`,
    /// `range|living_room.temperature|evening`.
    var key: String
    /// The memory's kind: `routine`, `schedule`, `range`.
    var kind: String
    var subjects: [String]
    /// The rules sentence.
    var text: String
    var confidence: Double
    var metadata: [String: String]
    /// Where a first memory's validity starts: the first day of the data it rests on.
    var firstDay: UTCMillis
    /// Whether a remembered version of the same key says the same (within the kind's tolerance).
    var matches: (MemoryRecord) -> Bool
    /// Where a changed finding's validity begins (the old memory's ends), given the old memory.
    var changePoint: (MemoryRecord) -> UTCMillis
    /// The model's verified phrasing, when it may phrase this kind; nil keeps `text`.
    var phrase: (() async -> String?)? = nil
}

extension Reflection {
    /// Brings the current memories of one kind in line with what the pass found (the one
    /// supersession mechanism of every kind):
    /// - a new key → a new memory, valid from the first day of its data;
    /// - the same finding → nothing, or a new version of the same id when the confidence moved by
    ///   ≥ 0.05 (support + 1);
    /// - a changed finding → the old memory is closed at the change point (`valid_to`, `expired_at`
    ///   = now) and a new one written with `supersedes` and `valid_from` = the change point;
    /// - a remembered key not found this time → closed at `now` only when `gone` says its data
    ///   now clearly contradicts it (no data, or a finding in transition, closes nothing).
    func settle(
        _ findings: [ReflectionFinding], remembered: [StoredMemory], now: UTCMillis,
        report: inout ReflectionReport, gone: (StoredMemory) -> Bool
    ) async throws {
        var byKey: [String: StoredMemory] = [:]
        for memory in remembered {
            if let key = memory.record.metadata["pattern"] { byKey[key] = memory }
        }
        for finding in findings {
            guard let old = byKey[finding.key] else {
                _ = try await write(finding, validFrom: finding.firstDay, now: now, supersedes: nil, report: &report)
                continue
            }
            if finding.matches(old.record) {
                if abs(old.record.confidence - finding.confidence) >= 0.05 {
                    var edit = old.record
                    edit.confidence = finding.confidence
                    edit.support += 1
                    edit.metadata["sample_days"] = finding.metadata["sample_days"]
                    edit.parent = old.version
                    try await database.knowledge.record(edit, origin: node, stamp: await stamp())
                    report.refreshed.append(old.record.id)
                }
                continue
            }
            let change = max(finding.changePoint(old.record), old.record.validFrom)
            try await close(old, at: change, now: now)
            report.closed.append(old.record.id)
            let id = try await write(finding, validFrom: change, now: now, supersedes: old.record.id, report: &report)
            report.superseded[id] = old.record.id
        }
        let found = Set(findings.map(\.key))
        for (key, old) in byKey.sorted(by: { $0.key < $1.key }) where !found.contains(key) && gone(old) {
            try await close(old, at: now, now: now)
            report.closed.append(old.record.id)
        }
    }

    /// A closing version: validity ends at `time` (never before it began), believed until `now`.
    func close(_ old: StoredMemory, at time: UTCMillis, now: UTCMillis) async throws {
        var closed = old.record
        closed.validTo = max(closed.validFrom, time)
        closed.expiredAt = now
        closed.parent = old.version
        try await database.knowledge.record(closed, origin: node, stamp: await stamp())
    }

    private func write(
        _ finding: ReflectionFinding, validFrom: UTCMillis, now: UTCMillis, supersedes: String?,
        report: inout ReflectionReport
    ) async throws -> String {
        var text = finding.text
        var generator = TextGenerator.rules
        if settings.phraseWithModel, let phrase = finding.phrase, let phrased = await phrase() {
            text = phrased
            generator = .llm
            report.phrasedByModel += 1
        }
        var metadata = finding.metadata
        metadata["pattern"] = finding.key
        metadata["generator"] = generator.rawValue
        let record = MemoryRecord(
            id: node.newRecordID(), kind: finding.kind, subjects: finding.subjects, text: text,
            confidence: finding.confidence, importance: 0.5, support: 1, validFrom: validFrom, createdAt: now,
            supersedes: supersedes, source: .reflection, metadata: metadata)
        try await database.knowledge.record(record, origin: node, stamp: await stamp())
        if supersedes == nil { report.created.append(record.id) }
        return record.id
    }

    /// Whole local days only: from local midnight `windowDays` ago to today's local midnight.
    func dayWindow(now: UTCMillis) -> (start: UTCMillis, end: UTCMillis) {
        let clock = LocalClock(timeZone: settings.timeZone)
        let today = clock.dayIndex(now)
        return (clock.midnight(ofDay: today - Int64(settings.windowDays)), clock.midnight(ofDay: today))
    }

    /// Confidence from the sample alone (more days, more sure) times how clearly the data says it.
    static func confidence(days: Int, clarity: Double) -> Double {
        let sample = Double(days) / Double(days + 3)
        return (sample * max(0, min(1, clarity)) * 100).rounded() / 100
    }
}
