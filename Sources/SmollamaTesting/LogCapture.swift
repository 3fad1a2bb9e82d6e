public import Logging
import Synchronization

/// Collects log records in memory so tests can look at what was logged.
public final class LogCapture: Sendable {
    public struct Record: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
    }
    let records = Mutex<[Record]>([])

    public init() {}

    public func logger(_ label: String = "test", level: Logger.Level = .debug) -> Logger {
        var logger = Logger(label: label) { _ in CaptureHandler(capture: self) }
        logger.logLevel = level
        return logger
    }

    public var all: [Record] { records.withLock { $0 } }
}

struct CaptureHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        var flat: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { flat[key] = "\(value)" }
        capture.records.withLock { $0.append(.init(level: event.level, message: "\(event.message)", metadata: flat)) }
    }
}
