import ArgumentParser
import Foundation
import SmollamaCore
import SmollamaNode
import SmollamaStore

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show the node's log: sensor faults and changes, clock changes and observations, as they come.",
        discussion: """
            An observation line shows its time, kind, who wrote it and its support, then its text: \
            `[llm, support 3]` is model text that passed verification against the evidence, `[rules, …]` \
            the template fallback; support counts the windows that said the same thing (a repeat prints \
            the observation again with the higher support). --json adds the whole record under "observation".
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "How many of the newest entries to show.") var tail = 20
    @Flag(name: [.short, .long], help: "Keep printing new entries as they are written.") var follow = false
    @Flag(help: "One JSON object per line.") var json = false
    @Flag(help: "Only observations.") var observations = false

    func validate() throws {
        guard tail >= 0 else { throw ValidationError("--tail must be 0 or more") }
    }

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let streams = observations ? [EventStream.observations] : LogEntry.streams
            var entries = try await LogEntry.recent(runtime.database, limit: tail, streams: streams)
            if entries.isEmpty && !follow && !json {
                print(observations
                      ? "No observations yet: the daemon (`smollama run`) writes one per observe.interval (15m by default)."
                      : "The log is empty: it fills as the daemon (`smollama run`) sees faults, changes and observations.")
            }
            var last = entries.last?.hlc ?? HLCTimestamp(rawValue: 0)
            while true {
                for entry in entries { try print(line(entry)) }
                guard follow else { return }
                fflush(nil)  // all streams: `logs -f | grep …` must see lines as they come, not when a buffer fills
                if entries.count < 500 { try await Task.sleep(for: .seconds(1)) }
                // Catch up in pages, oldest first, so a burst is neither skipped nor held in memory.
                entries = try await LogEntry.after(last, in: runtime.database, limit: 500, streams: streams)
                last = entries.last?.hlc ?? last
            }
        }
    }

    func line(_ entry: LogEntry) throws -> String {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(entry), as: UTF8.self)
        }
        // "~" marks a time taken while the wall clock was not trusted.
        let mark = entry.clockQuality == .unsynced ? "~" : " "
        let subject = entry.subject.padding(toLength: max(18, entry.subject.count), withPad: " ", startingAt: 0)
        let head = Terminal.timestamp(entry.time) + mark + " " + subject + "  "
        let room = max(10, Terminal.width - head.count)
        let message = entry.message.count > room ? String(entry.message.prefix(room - 1)) + "…" : entry.message
        return head + message
    }
}
