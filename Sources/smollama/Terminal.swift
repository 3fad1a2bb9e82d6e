import Foundation
import SmollamaCore
#if canImport(Glibc)
import Glibc
#endif

/// Output helpers: everything fits the terminal (80 columns when unknown).
enum Terminal {
    static var width: Int {
        var size = winsize()
        if isatty(STDOUT_FILENO) != 0, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col >= 40 {
            return Int(size.ws_col)
        }
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns >= 40 {
            return columns
        }
        return 80
    }

    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    /// Text from another node (or a sensor, or a model) made safe for a terminal: control
    /// characters (escape sequences could move the cursor, retitle the window or hide lines) and
    /// bidirectional overrides (which reorder what is shown) become "�"; tabs and line breaks
    /// become spaces.
    static func inert(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar -> Unicode.Scalar in
            if scalar == "\t" || scalar == "\n" || scalar == "\r" { return " " }
            if scalar.properties.generalCategory == .control
                || (0x202A...0x202E).contains(scalar.value) || (0x2066...0x2069).contains(scalar.value) {
                return "\u{FFFD}"
            }
            return scalar
        }))
    }

    /// Lays out rows in columns; the last column takes what is left and is cut with "…". Cells
    /// are made inert: they often hold other nodes' text (names, memories).
    static func table(_ header: [String], _ rows: [[String]], width: Int = Terminal.width) -> String {
        let all = [header] + rows.map { $0.map(inert) }
        var widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        let fixed = widths.dropLast().reduce(0, +) + 2 * (widths.count - 1)
        widths[widths.count - 1] = max(8, min(widths[widths.count - 1], width - fixed))
        return all.map { row in
            row.enumerated().map { index, cell in
                let limit = widths[index]
                let text = cell.count > limit ? String(cell.prefix(limit - 1)) + "…" : cell
                return index == row.count - 1 ? text : text.padding(toLength: limit, withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// "12s", "5m", "3h", "2d".
    static func age(_ duration: Duration) -> String {
        let seconds = max(0, duration.components.seconds)
        switch seconds {
        case ..<60: return "\(seconds)s"
        case ..<3600: return "\(seconds / 60)m"
        case ..<86_400: return "\(seconds / 3600)h"
        default: return "\(seconds / 86_400)d"
        }
    }

    /// A number with as many decimals as it deserves, and big byte counts in MB/GB.
    static func value(_ value: Double, unit: String) -> String {
        if unit == "B" {
            let units = ["B", "kB", "MB", "GB", "TB"]
            var scaled = value
            var index = 0
            while scaled >= 1000 && index < units.count - 1 {
                scaled /= 1000
                index += 1
            }
            return String(format: index == 0 ? "%.0f %@" : "%.1f %@", scaled, units[index])
        }
        let text: String
        if value.rounded() == value, abs(value) < 1e12 {
            text = String(format: "%.0f", value)
        } else if abs(value) >= 100 {
            text = String(format: "%.1f", value)
        } else {
            text = String(format: "%.2f", value)
        }
        return unit.isEmpty ? text : "\(text) \(unit)"
    }

    /// `text` after `head`, wrapped at words to the terminal's width, the continuation lines
    /// indented as far as the head.
    static func wrap(_ text: String, head: String) -> String {
        var lines: [String] = []
        var line = head
        for word in inert(text).split(separator: " ") {
            if line.count + word.count + 1 > width, line.count > head.count {
                lines.append(line)
                line = String(repeating: " ", count: head.count)
            }
            line += (line.count == head.count || line.hasSuffix(" ") ? "" : " ") + word
        }
        return (lines + [line]).joined(separator: "\n")
    }

    static func timestamp(_ time: UTCMillis) -> String { timestamp(time, in: .current) }

    /// `yyyy-MM-dd HH:mm:ss` in `timeZone` (the node's `node.timezone` where a command has it).
    static func timestamp(_ time: UTCMillis, in timeZone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: time.date)
    }

    /// A one-line progress bar on stderr (only when stderr is a terminal; otherwise a line per 10%).
    final class ProgressBar {
        private let label: String
        private var lastPercent = -1

        init(label: String) { self.label = label }

        func update(fraction: Double, detail: String) {
            let percent = Int((min(1, max(0, fraction)) * 100).rounded(.down))
            if Terminal.stderrIsTerminal {
                let barWidth = 24
                let filled = Int(Double(barWidth) * min(1, fraction))
                let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: barWidth - filled)
                FileHandle.standardError.write(Data("\r\(label) \(bar) \(percent)% \(detail)\u{1B}[K".utf8))
            } else if percent / 10 != lastPercent / 10 {
                FileHandle.standardError.write(Data("\(label) \(percent)% \(detail)\n".utf8))
            }
            lastPercent = percent
        }

        func finish() {
            if Terminal.stderrIsTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }
}

/// Prints a value as pretty JSON on stdout (for `--json`).
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
