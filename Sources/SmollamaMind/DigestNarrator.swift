import Foundation
import SmollamaCore

/// The digest's text from its packet (`DailyDigest.packet(day:)`): a few short sentences in local
/// time with rooms in words and units written out, every number a value of a cited fact.
///
///     Tuesday 24 November: 1 unusual moment, motion in the hallway at night. The living room was
///     occupied 07:00–08:15 and 18:00–midnight (7.3 hours in all). The study stayed empty.
///     Comfort: the living room 19.8–22.1 °C and 41–55% humidity; the study 18.9–21.0 °C.
public struct DigestNarrator: Sendable {
    public var names: DisplayNames

    public init(names: DisplayNames = .init()) { self.names = names }

    public func draft(_ packet: EvidencePacket) -> ObservationDraft {
        let day = packet.facts.first { $0.kind == .window }
        let unusual = packet.facts.first { $0.key.hasPrefix("digest/unusual@") }
        let presence = packet.facts.filter { $0.key.hasPrefix("digest/presence/") }
        let comfort = packet.facts.filter { $0.key.hasPrefix("digest/comfort/") }
        var sentences: [String] = []

        let note = (day?.note ?? "").split(separator: " ")
        let date = [note.first.map(String.init), day?.value("date")?.shown, note.dropFirst().first.map(String.init)]
            .compactMap { $0 }.joined(separator: " ")
        if let unusual, let count = unusual.value("unusual") {
            let moments = count.shown == "1" ? "1 unusual moment" : "\(count.shown) unusual moments"
            sentences.append("\(date): \(moments), \(unusual.note ?? "").")
        } else {
            sentences.append("\(date): nothing unusual.")
        }

        for fact in presence {
            guard let sensor = fact.sensor else { continue }
            let room = "The " + (names.room(sensor) ?? sensor.rawValue.replacingOccurrences(of: "_", with: " "))
            var stretches: [String] = []
            var index = 1
            while let from = fact.value("from \(index)"), let to = fact.value("to \(index)") {
                stretches.append("\(from.shown)–\(to.value == 0 ? "midnight" : to.shown)")
                index += 1
            }
            guard let hours = fact.value("occupied"), !stretches.isEmpty else {
                sentences.append("\(room) stayed empty.")
                continue
            }
            if let hidden = fact.value("shorter stretches") {
                stretches.append("\(hidden.shown) shorter \(hidden.shown == "1" ? "visit" : "visits")")
            }
            sentences.append("\(room) was occupied \(RulesNarrator.list(stretches)) "
                             + "(\(RulesNarrator.amount(hours)) in all).")
        }

        // Comfort per room: temperature, then humidity.
        var rooms: [(room: String, parts: [String])] = []
        // Temperature before humidity, whatever the ids' order.
        func humidity(_ fact: EvidenceFact) -> Int { fact.value("lowest")?.unit == "%" ? 1 : 0 }
        for fact in comfort.sorted(by: { humidity($0) < humidity($1) }) {
            guard let sensor = fact.sensor, let low = fact.value("lowest"), let high = fact.value("highest") else {
                continue
            }
            let room = names.room(sensor) ?? names.subject(sensor, packet.sensors[sensor])
            let range = low.shown == high.shown ? low.shown : "\(low.shown)–\(high.shown)"
            let part = low.unit == "%" ? "\(range)% humidity" : "\(range) \(low.unit)"
            if let index = rooms.firstIndex(where: { $0.room == room }) {
                rooms[index].parts.append(part)
            } else {
                rooms.append((room, [part]))
            }
        }
        if !rooms.isEmpty {
            sentences.append("Comfort: " + rooms.map { "the \($0.room) " + RulesNarrator.list($0.parts) }
                .joined(separator: "; ") + ".")
        }

        let cited = packet.facts
        let subjects = Array(Set(cited.compactMap(\.sensor).map(\.rawValue))).sorted()
        return ObservationDraft(kind: "summary", subjects: subjects, text: sentences.joined(separator: " "),
                                evidenceIDs: cited.map(\.id), importance: unusual == nil ? 0.3 : 0.5)
    }
}
