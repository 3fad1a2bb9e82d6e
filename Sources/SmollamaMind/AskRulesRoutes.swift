import Foundation
import SmollamaCore
import SmollamaStore

/// The answers by rules that count, judge or read presence: door openings, whether to
/// ventilate, who is in a room now, how long a room was occupied, what was observed in a room.
extension RulesAnswerer {
    /// CO₂ above this (ppm) means the room wants fresh air.
    static let ventilateAbove = 1000.0
    /// The presence window the rules read (the observation loop's length).
    static let presenceWindow: Duration = .seconds(15 * 60)

    func doorCount(in span: (from: UTCMillis, to: UTCMillis, label: String), sensors: [StateOutput.Sensor],
                   rooms: Set<String>) async throws -> Composed {
        let doors = sensors.map(\.sensor).filter {
            Self.quantity(of: $0) == "door" && (rooms.isEmpty || rooms.contains(Self.room(of: $0)))
        }.sorted()
        guard !doors.isEmpty, span.from < span.to else {
            return ("No door sensor is known here.", [], [Self.call("current_state", "{}")])
        }
        var calls: [AskAnswer.Call] = []
        var lines: [String] = []
        for door in doors {
            let history = try await tools.history(sensor: door, from: span.from, to: span.to)
            calls.append(Self.call("history", "{\"from\":\(span.from),\"sensor\":\"\(door)\",\"to\":\(span.to)}"))
            let count = history.onCount ?? 0
            let opened = count == 0 ? "was not opened" : count == 1 ? "was opened once" : "was opened \(count) times"
            let last = history.points.last { ($0.onCount ?? 0) > 0 }.map { ", last at \(time($0.start)) or just after" } ?? ""
            lines.append("The \(Self.roomName(Self.room(of: door))) door \(opened) \(span.label)\(last).")
        }
        return (lines.joined(separator: " "), [], calls)
    }

    func ventilate(sensors: [StateOutput.Sensor], rooms: Set<String>) -> Composed {
        let co2 = sensors.filter {
            Self.quantity(of: $0.sensor) == "co2" && $0.value != nil && (rooms.isEmpty || rooms.contains(Self.room(of: $0.sensor)))
        }.sorted { $0.sensor < $1.sensor }
        let call = Self.call("current_state", "{\"sensors\":[" + co2.map { "\"\($0.sensor)\"" }.joined(separator: ",") + "]}")
        guard !co2.isEmpty else { return ("No CO₂ reading is known for that room, so the rules cannot tell.", [], [call]) }
        let high = co2.filter { ($0.value ?? 0) > Self.ventilateAbove }
        let levels = Self.list(co2.map { "\(Self.value($0)) in the \(Self.roomName(Self.room(of: $0.sensor)))" })
        let answer = high.isEmpty
            ? "No: CO₂ is \(levels), below \(Asker.number(Self.ventilateAbove)) ppm."
            : "Yes: CO₂ is \(levels); above \(Asker.number(Self.ventilateAbove)) ppm means open a window in "
                + Self.list(high.map { "the \(Self.roomName(Self.room(of: $0.sensor)))" }) + "."
        return (answer, [], [call])
    }

    func presence(rooms: Set<String>, from: UTCMillis, to: UTCMillis) async throws -> ([PresenceWindow], AskAnswer.Call) {
        let reader = PresenceReader(database: tools.database, timeZone: clock.timeZone)
        var rows: [PresenceWindow] = []
        for room in rooms.isEmpty ? [nil] : rooms.sorted().map(Optional.some) {
            rows += try await reader.windows(room: room, from: from, to: to, length: Self.presenceWindow)
        }
        let room = rooms.count == 1 ? ",\"room\":\"\(rooms.first ?? "")\"" : ""
        return (rows, Self.call("presence", "{\"from\":\(from)\(room),\"to\":\(to)}"))
    }

    /// Each room's state in the last whole presence window (the one that just ended).
    func presenceNow(rooms: Set<String>) async throws -> Composed {
        let now = tools.now()
        let step = Self.presenceWindow.wholeMilliseconds
        let end = UTCMillis(rawValue: now.rawValue - ((now.rawValue % step) + step) % step)
        let (rows, call) = try await presence(rooms: rooms, from: end - Self.presenceWindow, to: end)
        guard !rows.isEmpty else { return ("No room with motion, door, CO₂ or light sensors is known for that.", [], [call]) }
        let lines = rows.map { row -> String in
            let room = "the \(Self.roomName(row.room))"
            let span = "\(time(row.start))–\(time(row.end))"
            let why = row.facts.isEmpty ? "" : " (" + row.facts.prefix(2).joined(separator: "; ") + ")"
            let confidence = Int((row.confidence * 100).rounded())
            switch row.state {
            case .occupied: return "Yes: \(room) looks occupied (\(span), \(confidence)% sure)\(why)."
            case .empty: return "No: \(room) looks empty (\(span), \(confidence)% sure)\(why)."
            case .unknown: return "Not known for \(room) (\(span))\(why)."
            }
        }
        return (lines.joined(separator: " "), [], [call])
    }

    func occupiedFor(in span: (from: UTCMillis, to: UTCMillis, label: String), rooms: Set<String>) async throws -> Composed {
        let (rows, call) = try await presence(rooms: rooms, from: span.from, to: span.to)
        guard !rows.isEmpty else { return ("No room with motion, door, CO₂ or light sensors is known for that.", [], [call]) }
        let lines = Dictionary(grouping: rows, by: \.room).sorted { $0.key < $1.key }.map { room, windows -> String in
            let occupied = windows.filter { $0.state == .occupied }.count
            let unknown = windows.filter { $0.state == .unknown }.count
            let minutes = Int64(occupied) * Self.presenceWindow.wholeMilliseconds / 60_000
            let length = minutes < 60 ? "\(minutes) min" : "\(minutes / 60) h" + (minutes % 60 == 0 ? "" : " \(minutes % 60) min")
            return "The \(Self.roomName(room)) was occupied for about \(length) \(span.label) "
                + "(\(occupied) of \(windows.count) windows of 15 min" + (unknown > 0 ? ", \(unknown) unknown)." : ").")
        }
        return (lines.joined(separator: " "), [], [call])
    }

    /// The newest observations about the room's sensors (any room when none is named).
    func observed(sensors: [StateOutput.Sensor], rooms: Set<String>) async throws -> Composed {
        let about = sensors.map(\.sensor).filter { rooms.contains(Self.room(of: $0)) }
        let now = tools.now()
        let from = now - Duration.seconds(86_400)
        let query = RecallQuery(text: "", kinds: [.observation], sensors: about.isEmpty ? nil : about, from: from, to: now,
                                topK: 200)
        let hits = try await tools.recall(query).hits
            .filter { hit in rooms.isEmpty || hit.subjects.contains { rooms.contains(Self.room(of: $0)) } }
            .sorted { ($0.timeStart ?? 0, $0.id) > ($1.timeStart ?? 0, $1.id) }
            .prefix(3)
        let call = Self.call("recall", "{\"kind\":\"observation\",\"since\":\(from)}")
        let place = rooms.isEmpty ? "" : " in " + Self.list(rooms.sorted().map { "the \(Self.roomName($0))" })
        guard !hits.isEmpty else { return ("Nothing was observed\(place) in the last 24 hours.", [], [call]) }
        let lines = hits.map { hit in (hit.timeStart.map { time($0) + " " } ?? "") + "\(hit.text) [\(hit.id)]" }
        return ("Recently observed\(place):\n" + lines.joined(separator: "\n"), hits.map(\.id), [call])
    }
}
