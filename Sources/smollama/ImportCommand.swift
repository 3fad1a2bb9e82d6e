public import ArgumentParser
import Foundation
import SmollamaCore
import SmollamaNode
import SmollamaStore

extension ImportFormat: ExpressibleByArgument {}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import sensor history from a CSV, a Home Assistant export or JSON lines.",
        discussion: """
            Formats (detected from the first line, or --format): a wide CSV with a time column and one \
            column per quantity; Home Assistant's history export (entity_id,state,last_changed); JSON \
            lines {"time": …, "sensor": …, "value": …, "unit": …}. Times are ISO 8601 or Unix seconds; \
            times without an offset need --timezone. A re-import adds nothing. Bad lines are reported \
            and skipped (--strict: the file is refused and nothing is stored).
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The file to import.") var file: String
    @Option(help: "csv, home-assistant or jsonl (default: detected from the first line).") var format: ImportFormat?
    @Option(name: .customLong("time-column"), help: "Wide CSV: the time column (default: time/timestamp/date, else the first).")
    var timeColumn: String?
    @Option(name: .customLong("map"), help: ArgumentHelp(
        "COLUMN=SENSOR[:UNIT]: a column (or entity id, or JSON sensor) to a sensor id (repeatable).",
        valueName: "mapping"))
    var mappings: [String] = []
    @Option(help: "IANA time zone for times without an offset, e.g. Europe/Berlin.") var timezone: String?
    @Flag(name: .customLong("dry-run"), help: "Print the mapping and counts; store nothing.") var dryRun = false
    @Flag(help: "Refuse the whole file if any line is bad (nothing is stored).") var strict = false
    @Flag(help: "Print the summary as JSON.") var json = false

    func run() async throws {
        try await userFacing {
            let zone: TimeZone?
            if let timezone {
                guard let found = TimeZone(identifier: timezone) else { throw ImportError.unknownTimezone(timezone) }
                zone = found
            } else {
                zone = nil
            }
            let parsedMappings = try mappings.map { text throws(ImportError) in try ImportMapping(parsing: text) }
            let runtime = try await global.openNode()
            let options = HistoryImport.Options(
                path: file, format: format, timeColumn: timeColumn, mappings: parsedMappings, timezone: zone,
                dryRun: dryRun, strict: strict, now: UTCMillis.now())
            let bar = Terminal.ProgressBar(label: dryRun ? "checking" : "importing")
            let summary = try await HistoryImport(database: runtime.database, options: options).run { progress in
                guard !json else { return }
                bar.update(fraction: Double(progress.bytesRead) / Double(max(1, progress.totalBytes)),
                           detail: "\(progress.lines) lines")
            }
            if !json { bar.finish() }
            if json { try printJSON(summary) } else { print(ImportReport.text(summary)) }
            if summary.refused { throw ExitCode.failure }
        }
    }
}

/// The import summary as text for an 80-column terminal.
enum ImportReport {
    static func text(_ summary: ImportSummary) -> String {
        if let earlier = summary.alreadyImported {
            return "Already imported on \(Terminal.timestamp(earlier.importedAt)) (same SHA-256): nothing added."
        }
        var lines: [String] = []
        lines.append("\(summary.file) (\(summary.format.rawValue)): \(summary.lines) lines, \(summary.values) values")
        if !summary.sensors.isEmpty {
            let rows = summary.sensors.map { sensor in
                [sensor.source, sensor.sensor.rawValue, sensor.kind == .binary ? "on/off" : sensor.unit,
                 "\(sensor.values)", Self.days(sensor.firstTime, sensor.lastTime)]
            }
            lines.append(Terminal.table(["COLUMN", "SENSOR", "UNIT", "VALUES", "DAYS"], rows))
            let new = summary.sensors.filter { !$0.existing }.map(\.sensor.rawValue)
            if !new.isEmpty { lines.append("New sensors: \(new.joined(separator: ", "))") }
        }
        if !summary.ignoredColumns.isEmpty {
            lines.append("Ignored columns: \(summary.ignoredColumns.joined(separator: ", ")) (name them with --map)")
        }
        for bad in summary.badLines {
            lines.append(String("line \(bad.line): \(bad.reason)".prefix(Terminal.width)))
        }
        if summary.bad > summary.badLines.count {
            lines.append("… and \(summary.bad - summary.badLines.count) more bad lines")
        }
        var counts = ["\(summary.alreadyStored) already stored"]
        if summary.recordedLive > 0 { counts.append("\(summary.recordedLive) recorded live") }
        if summary.missing > 0 { counts.append("\(summary.missing) empty/unavailable") }
        counts.append("\(summary.bad) bad lines")
        if summary.refused {
            lines.append("Refused (--strict): \(summary.bad) bad lines; nothing was stored.")
            return lines.joined(separator: "\n")
        } else if summary.dryRun {
            lines.append("Dry run: would add \(summary.added) readings; nothing was stored.")
        } else {
            lines.append("Added \(summary.added) readings in \(String(format: "%.1f", summary.seconds)) s; "
                         + "rollups are up to date.")
        }
        lines.append("Skipped: " + counts.joined(separator: ", ") + ".")
        if summary.outOfOrder > 0 {
            lines.append("\(summary.outOfOrder) values were older than an earlier value of their sensor: "
                         + "sort the file by time for exact on-durations.")
        }
        return lines.joined(separator: "\n")
    }

    /// "2026-11-02…11-08", the year written twice only when it changes.
    static func days(_ first: UTCMillis, _ last: UTCMillis) -> String {
        let (from, to) = (Terminal.timestamp(first).prefix(10), Terminal.timestamp(last).prefix(10))
        return from + "…" + (from.prefix(4) == to.prefix(4) ? to.dropFirst(5) : to)
    }
}
