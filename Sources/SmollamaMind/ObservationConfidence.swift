import Foundation
import SmollamaCore

/// An observation's confidence (0…1) from the facts it cites, never from the model and never a
/// constant per level: how clearly each fact shows what it says (its effect), how much history
/// its baseline rests on, and how many facts agree. Documented in ARCHITECTURE.md (Observations).
///
///     fact:        c = effect × history            history = n / (n + 3), n = baseline days
///                                                  (1 for a fact that needs no baseline)
///     observation: 1 − Π (1 − c)  over the cited facts (the window line excluded),
///                  clamped to 0.05…0.99 and rounded to 2 decimals
///
/// Effects: a level |d| standard deviations from its usual is 0.5 at the unusual threshold
/// rising to 1 at the strong one, and for "near usual" 1 − ½·|d| / unusual; a binary sensor
/// active in an hour that is active on a share p of days, 1 − ½·p / unusual share; plain
/// activity 1 − ½^activations (one trigger alone is weak); a quiet sensor 0.5 (silence alone
/// could be a dead sensor: several quiet sensors together make it likely); a long quiet ended
/// min(1, quiet / (2 × long quiet)); a door at night 0.95; a fault 1 − ½^(failed reads / 3);
/// a level without a baseline 0.5; a humid stretch or CO₂ above its limit 1 − ½^(minutes / 15);
/// a reading outside the room's usual range 0.75 × history; a lamp 0.8 (at an unusual hour, as a
/// binary sensor's unusual hour); a room's presence, the inference's own confidence.
public struct ObservationConfidence: Sendable, Hashable {
    public var settings: EvidenceSettings

    public init(settings: EvidenceSettings = .init()) { self.settings = settings }

    /// The confidence of an observation citing `facts`.
    public func of(_ facts: [EvidenceFact]) -> Double {
        let cited = facts.filter { $0.kind != .window }
        guard !cited.isEmpty else { return 0.5 }
        let doubt = cited.reduce(1.0) { $0 * (1 - fact($1)) }
        return Self.rounded(min(0.99, max(0.05, 1 - doubt)))
    }

    /// One fact's confidence: effect × history.
    public func fact(_ fact: EvidenceFact) -> Double {
        let history = fact.baselineDays.map { Double($0) / Double($0 + 3) } ?? 1
        switch fact.kind {
        case .window:
            return 0.5
        case .numeric:
            guard let deviation = fact.value("deviation").map({ abs($0.value) }), fact.baselineDays != nil else {
                return 0.5
            }
            let unusual = settings.unusualDeviation
            let span = max(0.1, settings.strongDeviation - unusual)
            let effect = deviation >= unusual
                ? 0.5 + 0.5 * min(1, (deviation - unusual) / span)
                : 1 - 0.5 * deviation / max(0.1, unusual)
            return effect * history
        case .binary:
            let activations = fact.value("activations")?.value ?? 0
            if fact.level >= .unusual, let share = fact.value("share of days active at this hour") {
                let p = share.value / 100
                return (1 - 0.5 * min(1, p / max(0.01, settings.unusualProbability))) * history
            }
            return activations > 0 ? 1 - pow(0.5, activations) : 0.5
        case .notable:
            if fact.note == EvidenceFact.faultNote {
                return 1 - pow(0.5, (fact.value("failed reads")?.value ?? 0) / 3)
            }
            if let quiet = fact.value("quiet before") {
                let long = Double(settings.longQuiet.components.seconds) / 3600
                return min(1, quiet.value / max(0.1, 2 * long)) * history
            }
            return 0.95
        case .comfort, .air:
            // Measured against a fixed limit: the longer above it, the surer (15 min → 0.5).
            if let above = fact.value("time above limit") { return 1 - pow(0.5, above.value / 15) }
            // Outside the room's own range at this hour: as sure as the range's history.
            return 0.75 * history
        case .light:
            if fact.level >= .unusual, let share = fact.value("share of days lit at this hour") {
                let p = share.value / 100
                return (1 - 0.5 * min(1, p / max(0.01, settings.unusualProbability))) * history
            }
            // A step larger than the room's own split between small and large steps.
            return 0.8
        case .presence:
            // The presence inference's own confidence (agreeing signals, from the room's history).
            return fact.value("confidence")?.value ?? 0.5
        }
    }

    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
