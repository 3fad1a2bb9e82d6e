import Foundation
import SmollamaCore
import SmollamaStore

/// Presence per room in every packet, from the same functions as `smollama presence`
/// (`PresenceInference` over the room's own last `presenceDays` of 5-minute rollups): the
/// window's state, confidence and the facts it rests on (`EvidencePacket.presence`), and one
/// fact per room. A change after a steady stretch (the two
/// windows before agree) is an arrival or a departure, at the 5-minute bucket it happened; a room
/// that stays as it was is an ordinary fact the narrator leaves alone.
extension EvidenceBuilder {
    func presenceAndLightFacts(descriptors: [SensorDescriptor], start: UTCMillis, end: UTCMillis,
                               nextID: () -> String) async throws -> (facts: [EvidenceFact], presence: [PresenceWindow]) {
        let clock = LocalClock(timeZone: settings.timeZone)
        let historyStart = start - .seconds(Int64(settings.presenceDays) * 86_400)
        var facts: [EvidenceFact] = []
        var presence: [PresenceWindow] = []
        for room in PresenceRoom.rooms(descriptors, areas: settings.areas) {
            var series: [SensorID: [Rollup]] = [:]
            for sensor in room.sensors {
                // The history, the window and one bucket after it (the last bucket's CO₂ slope).
                series[sensor] = try await rollups(
                    sensor: sensor, resolution: .fiveMinutes, from: historyStart,
                    to: end + .milliseconds(PresenceInference.bucket))
            }
            if let (fact, window) = Self.presenceFact(room: room, rollups: series, start: start, end: end, clock: clock,
                                                      id: nextID) {
                facts.append(fact)
                presence.append(window)
            }
            for sensor in room.light {
                if let fact = lightFact(room: room.room, sensor: sensor, rollups: series[sensor] ?? [], start: start,
                                        end: end, clock: clock, id: nextID) {
                    facts.append(fact)
                }
            }
        }
        return (facts, presence)
    }

    /// The room's presence in `[start, end)`; an arrival or departure when it changed after a steady stretch.
    static func presenceFact(room: PresenceRoom, rollups: [SensorID: [Rollup]], start: UTCMillis, end: UTCMillis,
                             clock: LocalClock, id: () -> String) -> (EvidenceFact, PresenceWindow)? {
        let length = (end - start).wholeMilliseconds
        guard length > 0 else { return nil }
        let (from, to) = (start.rawValue, end.rawValue)
        let bucket = PresenceInference.bucket
        let buckets = stride(from: from - length, to: to, by: Int(bucket)).map { $0..<min(to, $0 + bucket) }
        let windows = ([(from - 2 * length)..<(from - length), (from - length)..<from, from..<to] + buckets)
            .map { UTCMillis(rawValue: $0.lowerBound)..<UTCMillis(rawValue: $0.upperBound) }
        let rows = PresenceInference(timeZone: clock.timeZone).infer(room: room, rollups: rollups, windows: windows)
        guard rows.count == windows.count else { return nil }
        let (before, previous, now) = (rows[0], rows[1], rows[2])
        var values = [EvidenceValue(name: "confidence", value: now.confidence, unit: "", decimals: 2)]
        var level = EvidenceFact.Level.ordinary
        var state = now.state.rawValue
        if now.state != .unknown, previous.state != .unknown, now.state != previous.state, before.state == previous.state {
            // The bucket it happened in: the last one where the state turned to the new one.
            let states = rows.dropFirst(3).map(\.state)
            var at = from
            for index in states.indices.dropFirst() where states[index] == now.state && states[index - 1] != now.state {
                at = buckets[index].lowerBound
            }
            values.append(EvidenceValue(name: "at", value: timeOfDay(UTCMillis(rawValue: at), clock), unit: "time",
                                        decimals: 2))
            level = .activity
            state = now.state == .occupied ? "became occupied" : "became empty"
        }
        // The facts it rests on go into the prompt line only for a change (they cost tokens).
        let basis = level == .ordinary || now.facts.isEmpty ? "" : " (" + now.facts.joined(separator: "; ") + ")"
        let fact = EvidenceFact(id: id(), key: "\(room.room)/presence@\(start)", kind: .presence, sensor: nil,
                                values: values, level: level, note: state + basis, room: room.room)
        return (fact, now)
    }
}
