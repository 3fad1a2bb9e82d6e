import ArgumentParser
import Foundation
import SmollamaCore
import SmollamaMind
import SmollamaNode
import SmollamaStore

struct PresenceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presence",
        abstract: "Whether each room was occupied, window by window, and the facts it rests on.",
        discussion: """
            Computed on demand from the stored 5-minute rollups, one row per room and \
            observe.interval window: occupied, empty or unknown (no readings) with a confidence \
            (0–1). Motion decides where a room has it; otherwise CO₂ rising beyond the room's own \
            decay and lamps after dark (against the room's own daily light profile), each judged \
            against the room's last 14 days. A room is a sensor id's first part (hallway.motion → \
            hallway) unless `areas:` in config.yaml names one. Times are in node.timezone.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Only this room, e.g. hallway.") var room: String?
    @Option(help: "Start: 24h (back from now), an ISO 8601 time, a date or Unix ms.") var from = "24h"
    @Option(help: "End (default: now).") var to: String?
    @Flag(help: "Print the windows as JSON.") var json = false

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let now = UTCMillis.now()
            let start = try TimeArgument.parse(from, now: now, option: "--from")
            let end = try to.map { try TimeArgument.parse($0, now: now, option: "--to") } ?? now
            guard start < end else { throw ValidationError("--from must be before --to") }
            let zone = runtime.config.node.timeZone
            let reader = PresenceReader(database: runtime.database, timeZone: zone, areas: try await runtime.areas())
            if let room {
                let rooms = try await reader.rooms().map(\.room)
                guard rooms.contains(room) else {
                    throw ValidationError("no room '\(room)' has a motion, door, CO₂ or light sensor; rooms: "
                                          + (rooms.isEmpty ? "none yet" : rooms.joined(separator: ", ")))
                }
            }
            try await runtime.database.readings.rollUpAll()
            let length = runtime.config.observe.interval.milliseconds
            let windows = try await reader.windows(
                room: room, from: start, to: end, length: runtime.config.observe.interval.duration)
            if json {
                return print(try MindTools.json(PresenceOutput(
                    windows: windows, timeZone: zone, length: runtime.config.observe.interval.duration)))
            }
            guard !windows.isEmpty else { return print("No rooms with motion, door, CO₂ or light sensors yet.") }
            print("Presence in \(zone.identifier), \(length / 60_000)-minute windows")
            print(Self.table(windows, zone: zone))
        }
    }

    /// ROOM, WINDOW (local), STATE, CONF, then the facts, wrapped under their own column so
    /// every line fits 80 columns.
    static func table(_ windows: [PresenceWindow], zone: TimeZone, width: Int = 80) -> String {
        let roomWidth = min(12, max(4, windows.map(\.room.count).max() ?? 4))
        let head = [pad("ROOM", roomWidth), pad("WINDOW", 17), pad("STATE", 8), "CONF", "FACTS"].joined(separator: "  ")
        let indent = roomWidth + 2 + 17 + 2 + 8 + 2 + 4 + 2
        var lines = [head]
        for window in windows {
            let room = window.room.count > roomWidth ? String(window.room.prefix(roomWidth - 1)) + "…" : window.room
            let span = local(window.start, zone, "MM-dd HH:mm") + "–" + local(window.end, zone, "HH:mm")
            let lead = [pad(room, roomWidth), pad(span, 17), pad(window.state.rawValue, 8),
                        String(format: "%.2f", window.confidence)].joined(separator: "  ") + "  "
            var line = lead
            for fact in window.facts.isEmpty ? ["—"] : window.facts {
                let piece = line.count > indent ? "; " + fact : fact
                if line.count + piece.count > width, line.count > indent {
                    lines.append(line + ";")
                    line = String(repeating: " ", count: indent) + fact
                } else {
                    line += piece
                }
                if line.count > width { line = String(line.prefix(width - 1)) + "…" }
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: width, withPad: " ", startingAt: 0) }

    static func local(_ time: UTCMillis, _ zone: TimeZone, _ format: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = format
        return formatter.string(from: Date(timeIntervalSince1970: Double(time.rawValue) / 1000))
    }
}
