import Foundation
import SmollamaCore

/// Template sentences from the evidence: what the loop writes when the model is down or its drafts
/// fail verification twice (`generator: rules`). Every number comes straight from a cited fact,
/// so rules drafts pass the same verifier.
public struct RulesNarrator: Sendable {
    /// At most this many sentences per window.
    public var limit: Int

    public init(limit: Int = 3) { self.limit = limit }

    public func drafts(for packet: EvidencePacket) -> [ObservationDraft] {
        let highlights = packet.highlights
        if highlights.isEmpty {
            // A quiet window: one stable sentence, so quiet hours fold into one observation.
            let subjects = packet.facts.compactMap(\.sensor).map(\.rawValue)
            let ids = packet.facts.filter { $0.kind != .window }.map(\.id)
            return [ObservationDraft(
                kind: "summary", subjects: subjects.isEmpty ? [] : subjects,
                text: "Quiet window: no motion or door activity, and readings near their usual values.",
                evidenceIDs: ids.isEmpty ? ["f0"] : ids, importance: 0.1)]
        }
        var drafts: [ObservationDraft] = []
        var covered: Set<SensorID> = []
        for fact in highlights {
            guard drafts.count < limit, let sensor = fact.sensor else { continue }
            // A notable fact speaks for its sensor; the sensor's plain activity line adds nothing.
            if fact.kind == .binary && covered.contains(sensor) { continue }
            guard let draft = sentence(fact, sensor: sensor, packet: packet) else { continue }
            covered.insert(sensor)
            drafts.append(draft)
        }
        return drafts
    }

    func sentence(_ fact: EvidenceFact, sensor: SensorID, packet: EvidencePacket) -> ObservationDraft? {
        let name = packet.sensors[sensor]?.name ?? sensor.rawValue
        let unusual = fact.level >= .unusual
        func draft(_ kind: String, _ text: String) -> ObservationDraft {
            ObservationDraft(kind: kind, subjects: [sensor.rawValue], text: text, evidenceIDs: [fact.id],
                             importance: fact.importance)
        }
        func shown(_ value: EvidenceValue) -> String {
            switch value.unit {
            case "", "time": value.shown
            case "%": value.shown + "%"
            default: value.shown + " " + value.unit
            }
        }
        switch fact.kind {
        case .window:
            return nil
        case .notable:
            if fact.note == "sensor fault", let reads = fact.value("failed reads") {
                return draft("fault", "\(name) sensor is faulty after \(reads.shown) failed reads.")
            }
            if fact.note == "door opened at night", let at = fact.value("at") {
                return draft("anomaly", "\(name) opened at night, at \(at.shown).")
            }
            if let quiet = fact.value("quiet before"), let at = fact.value("at") {
                return draft(unusual ? "anomaly" : "activity",
                             "\(name): first activity at \(at.shown) after \(shown(quiet)) of quiet.")
            }
            return nil
        case .binary:
            guard let activations = fact.value("activations"), let on = fact.value("on") else { return nil }
            if unusual, let share = fact.value("share of days active at this hour") {
                return draft("anomaly", "\(name) active \(activations.shown) times at an hour when it is active on "
                             + "only \(shown(share)) of days.")
            }
            let noun = activations.value == 1 ? "activation" : "activations"
            return draft("activity", "\(name): \(activations.shown) \(noun), on for \(shown(on)).")
        case .numeric:
            guard let mean = fact.value("mean") else { return nil }
            if unusual, let usual = fact.value("usual") {
                let direction = mean.value > usual.value ? "above" : "below"
                return draft("anomaly", "\(name) averaged \(shown(mean)), \(direction) its usual \(shown(usual)) at this hour.")
            }
            return draft("trend", "\(name) averaged \(shown(mean)).")
        }
    }
}
