import ArgumentParser
import Foundation
import SmollamaCore
import SmollamaNode
import SmollamaServer
import SmollamaStore

struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Show the node's log: observations first, then faults, changes and clock notices.",
        discussion: """
            `--tail` alone shows the newest \(defaultTail) of each. An observation line shows its time, \
            kind, who wrote it and its support, then its text: `[llm, support 3]` is model text that \
            passed verification against the evidence, `[rules, …]` the rules narrator; support counts \
            the windows that said the same thing (a repeat prints the observation again with the higher \
            support). With -f, new entries of every kind follow in the order they are written. --json \
            adds the whole record under "observation".
            """)

    static let defaultTail = 20

    @OptionGroup var global: GlobalOptions
    @OptionGroup var remote: NodeOption
    @Option(help: "How many of the newest entries of each part to show (--tail alone: \(defaultTail)).")
    var tail = defaultTail
    @Flag(name: [.short, .long], help: "Keep printing new entries as they are written.") var follow = false
    @Flag(help: "One JSON object per line.") var json = false
    @Flag(help: "Only observations.") var observations = false

    func validate() throws {
        guard tail >= 0 else { throw ValidationError("--tail must be 0 or more") }
        if follow && remote.node != nil {
            throw ValidationError("--follow shows this node's log as it is written; with --node, leave --follow out")
        }
    }

    /// `logs --tail` with no number (as the seed's docs write it): the parser needs a value, so
    /// the default goes in before parsing. `--tail abc` is left for the parser to refuse.
    static func fillingTailDefault(_ arguments: [String]) -> [String] {
        guard arguments.first == "logs" else { return arguments }
        var filled: [String] = []
        for (index, argument) in arguments.enumerated() {
            filled.append(argument)
            guard argument == "--tail" else { continue }
            let next = arguments.indices.contains(index + 1) ? arguments[index + 1] : nil
            if next.map({ $0.hasPrefix("-") && Int($0) == nil }) ?? true { filled.append(String(defaultTail)) }
        }
        return filled
    }

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let node = try await remote.resolve(runtime)
            let notices = LogEntry.streams.filter { $0 != .observations }
            let written = try await LogEntry.recent(runtime.database, limit: tail, streams: [.observations], origin: node)
            let other = observations ? [] : try await LogEntry.recent(runtime.database, limit: tail, streams: notices, origin: node)
            if written.isEmpty && other.isEmpty && !follow && !json {
                print(observations
                      ? "No observations yet: the daemon (`smollama run`) writes one per observe.interval (15m by default)."
                      : "The log is empty: it fills as the daemon (`smollama run`) sees faults, changes and observations.")
            }
            // Observations lead; a heading names each part when both have lines.
            let headed = !json && !written.isEmpty && !other.isEmpty
            if headed { print("Observations") }
            let zone = runtime.config.node.timeZone
            for entry in written { try print(line(entry, zone)) }
            if headed { print("\nNotices") }
            for entry in other { try print(line(entry, zone)) }
            guard follow else { return }
            let streams = observations ? [EventStream.observations] : LogEntry.streams
            var last = (written + other).map(\.hlc).max() ?? HLCTimestamp(rawValue: 0)
            // Entries are stamped before they are committed (the writer batches readings and
            // their notices for up to store.flush_interval), so one can land stamped before an
            // entry already shown, say an observation written directly. Each page looks back a
            // minute and skips what was printed.
            let lookBack = Int64(60_000) << 16
            var shown: [String: Int64] = [:]
            for entry in written + other { shown[Self.identity(entry)] = entry.hlc.rawValue }
            while true {
                fflush(nil)  // all streams: `logs -f | grep …` must see lines as they come, not when a buffer fills
                // Catch up in pages, oldest first, so a burst is neither skipped nor held in memory.
                let from = HLCTimestamp(rawValue: max(0, last.rawValue - lookBack))
                var cursor = from
                var page: [LogEntry]
                repeat {
                    page = try await LogEntry.after(cursor, in: runtime.database, limit: 500, streams: streams)
                    for entry in page where shown.updateValue(entry.hlc.rawValue, forKey: Self.identity(entry)) == nil {
                        try print(line(entry, zone))
                    }
                    cursor = page.last?.hlc ?? cursor
                } while page.count == 500
                last = max(last, cursor)
                shown = shown.filter { $0.value >= from.rawValue }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// What tells two log entries apart (one node never issues the same stamp twice).
    static func identity(_ entry: LogEntry) -> String {
        "\(entry.hlc.rawValue) \(entry.stream.rawValue) \(entry.type) \(entry.subject)"
    }

    func line(_ entry: LogEntry, _ zone: TimeZone) throws -> String {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return String(decoding: try encoder.encode(entry), as: UTF8.self)
        }
        // "~" marks a time taken while the wall clock was not trusted.
        let mark = entry.clockQuality == .unsynced ? "~" : " "
        // Other nodes' text reaches this terminal: nothing in it may act on the terminal.
        let subjectText = Terminal.inert(entry.subject), messageText = Terminal.inert(entry.message)
        if entry.observation != nil {
            // An observation is read whole: its sentence wraps under itself instead of being cut.
            let kind = subjectText.padding(toLength: max(9, subjectText.count), withPad: " ", startingAt: 0)
            return Terminal.wrap(messageText, head: Terminal.timestamp(entry.time, in: zone) + mark + " " + kind + " ")
        }
        let subject = subjectText.padding(toLength: max(18, subjectText.count), withPad: " ", startingAt: 0)
        let head = Terminal.timestamp(entry.time, in: zone) + mark + " " + subject + "  "
        let room = max(10, Terminal.width - head.count)
        let message = messageText.count > room ? String(messageText.prefix(room - 1)) + "…" : messageText
        return head + message
    }
}
