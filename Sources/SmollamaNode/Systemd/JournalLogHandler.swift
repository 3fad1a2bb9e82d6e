import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import Logging

/// Log lines for journald: the daemon's stderr is a journal stream under systemd, which stamps
/// each line itself and reads its priority from a `<N>` prefix (sd-daemon(3)). So a line is
/// `<6>smollama : key=value [Module] message` — the same shape as swift-log's stream handler minus
/// its timestamp and level word. Chosen by `Smollama.main` when `isUnderSystemd`.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = JournalLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    /// True when systemd started this process with its output going to the journal.
    public static func isUnderSystemd(environment: [String: String]) -> Bool {
        environment["JOURNAL_STREAM"].map { !$0.isEmpty } == true || environment["INVOCATION_ID"].map { !$0.isEmpty } == true
    }

    /// syslog priorities, as journald reads them: critical 2 … debug/trace 7.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let extra = event.metadata { all.merge(extra) { $1 } }
        let fields = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let prefix = "<\(Self.priority(event.level))>"
        // journald splits on newlines: every line of a multi-line message keeps the priority.
        let text = "\(label) :\(fields) [\(event.source)] \(event.message)"
        write(text.split(separator: "\n", omittingEmptySubsequences: false).map { prefix + $0 }.joined(separator: "\n") + "\n")
    }

    /// One `write(2)` per line, so lines from concurrent tasks never interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        var bytes = Array(line.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            if written <= 0 { if errno == EINTR { continue } else { return } }
            bytes = bytes.dropFirst(written)
        }
    }
}
