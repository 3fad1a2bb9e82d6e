import Foundation
import SmollamaCore

/// Sentences about rooms: comfort, air, lamps and presence changes. Each has at least two
/// phrasings (chosen by `RulesNarrator.variant`), every number is a value of the cited fact, and
/// rooms are named in words (`living_room` → "living room", or the area's name).
extension RulesNarrator {
    func roomSentence(_ fact: EvidenceFact, room key: String, packet: EvidencePacket)
        -> (ObservationDraft, NarrationSituation, Int)?
    {
        let room = DisplayNames.words(key)
        let subjects = fact.sensor.map { [$0.rawValue] }
            ?? packet.sensors.keys.filter { PresenceRoom.key(of: $0, areas: packet.areas) == key }.map(\.rawValue).sorted()
        func pick(_ situation: NarrationSituation, _ kind: String, _ phrasings: [String])
            -> (ObservationDraft, NarrationSituation, Int)
        {
            let variant = Self.variant(phrasings.count, packet: packet, salt: key + situation.rawValue)
            let draft = ObservationDraft(kind: kind, subjects: subjects, text: phrasings[variant], evidenceIDs: [fact.id],
                                         importance: fact.importance)
            return (draft, situation, variant)
        }
        let at = fact.value("at")?.shown
        switch fact.kind {
        case .comfort:
            let dew = fact.value("dew point").map { "dew point " + Self.amount($0) }
            if let limit = fact.value("humidity limit"), let minutes = fact.value("time above limit"), let dew {
                let span = Self.amount(minutes)
                if fact.note == "still humid" {
                    return pick(.humid, "trend", [
                        "The \(room) has been above \(limit.shown)% humidity for \(span); \(dew).",
                        "Still humid in the \(room): above \(limit.shown)% for \(span), \(dew).",
                    ])
                }
                return pick(.humid, "trend", [
                    "The \(room) stayed above \(limit.shown)% humidity for \(span); \(dew).",
                    "Humid in the \(room): above \(limit.shown)% for \(span), \(dew).",
                ])
            }
            guard let value = fact.value("humidity") ?? fact.value("temperature"), let low = fact.value("usual low"),
                  let high = fact.value("usual high"), let note = fact.note else { return nil }
            let adjective = note.replacingOccurrences(of: " than usual", with: "")
            let usual = "\(low.shown) to \(Self.amount(high))"
            let tail = dew.map { "; \($0)" } ?? ""
            return pick(.comfortRange, "trend", [
                "\(Self.capitalised(adjective)) than usual in the \(room) for the hour: \(Self.amount(value)), usually \(usual)\(tail).",
                "The \(room) is \(adjective) than usual at this hour: \(Self.amount(value)) against \(usual)\(tail).",
            ])
        case .air:
            guard let limit = fact.value("limit"), let at, let peak = fact.value("peak") else { return nil }
            let rise = fact.value("rise").map { ", rising \($0.shown) ppm an hour" } ?? ""
            return pick(.ventilate, "trend", [
                "CO₂ in the \(room) passed \(limit.shown) ppm at \(at) (peak \(peak.shown) ppm\(rise)) — time to ventilate.",
                "Time to air the \(room): CO₂ above \(limit.shown) ppm since \(at), up to \(peak.shown) ppm\(rise).",
                "Ventilate the \(room): CO₂ reached \(peak.shown) ppm, over the \(limit.shown) ppm limit since \(at)\(rise).",
            ])
        case .light:
            guard let at else { return nil }
            if fact.note == "lamps off" {
                return pick(.lampsOff, "activity", ["Lamps off in the \(room) at \(at).", "The \(room) went dark at \(at)."])
            }
            guard let level = fact.value("level"), let before = fact.value("before") else { return nil }
            if fact.level >= .unusual, let share = fact.value("share of days lit at this hour") {
                return pick(.lampsUnusual, "anomaly", [
                    "Lamps on in the \(room) at \(at), an hour the room is lit on only \(share.shown)% of days.",
                    "Unusual for the hour: lamps on in the \(room) at \(at), lit at this hour on \(share.shown)% of days.",
                ])
            }
            return pick(.lampsOn, "activity", [
                "Lamps on in the \(room) at \(at), after dark: \(level.shown) lx, up from \(before.shown) lx.",
                "At \(at) the \(room) lit up — lamps, not daylight (\(level.shown) lx from \(before.shown) lx).",
            ])
        case .presence:
            guard let at else { return nil }
            if fact.note?.hasPrefix("became occupied") == true {
                return pick(.arrival, "activity", ["The \(room) became occupied at \(at).", "Someone has been in the \(room) since \(at)."])
            }
            return pick(.departure, "activity", ["The \(room) has been empty since \(at).", "The \(room) emptied at \(at)."])
        case .window, .numeric, .binary, .notable:
            return nil
        }
    }
}

extension DisplayNames {
    /// A room key in words: `living_room` → "living room"; an area's name as written.
    public static func words(_ room: String) -> String { room.replacingOccurrences(of: "_", with: " ") }
}
