import Foundation
public import Logging
public import ServiceLifecycle
public import SmollamaCore

/// Scheduled backups (`backup.interval`, `backup.keep`, `backup.dir`): every interval the
/// daemon writes `smollama-<node id>-<UTC time>.tar.gz` into the directory (the archive of
/// `smollama backup`) and deletes this node's oldest ones beyond `keep`. The clock is a
/// `ServiceClock`, so tests advance time instead of waiting for it.
public struct BackupService: Service {
    let runtime: NodeRuntime
    let directory: String
    let interval: Duration
    let keep: Int
    let clock: ServiceClock
    /// Wall time (ms since 1970) for the file name and the manifest.
    let wallMilliseconds: @Sendable () -> Int64
    let logger: Logger

    public init(runtime: NodeRuntime, clock: ServiceClock = .continuous,
                wallMilliseconds: (@Sendable () -> Int64)? = nil, logger: Logger) {
        let dir = runtime.config.backup.dir
        self.runtime = runtime
        self.directory = dir.hasPrefix("/") ? dir : runtime.paths.home + "/" + dir
        self.interval = runtime.config.backup.interval.duration
        self.keep = runtime.config.backup.keep
        self.clock = clock
        self.wallMilliseconds = wallMilliseconds ?? { Int64(Date().timeIntervalSince1970 * 1000) }
        self.logger = logger
    }

    public func run() async throws {
        await clock.repeating(first: interval, every: interval) { await backUpOnce() }
    }

    /// One scheduled backup and rotation; errors are logged (the next interval tries again).
    @discardableResult
    public func backUpOnce() async -> String? {
        let started = ContinuousClock.now
        do {
            let file = try await Self.offThread { [self] in try backUp() }
            logger.info("backup written", metadata: ["smollama.backup.file": "\(file)",
                                                     "smollama.backup.seconds": "\((ContinuousClock.now - started).components.seconds)"])
            return file
        } catch {
            logger.error("scheduled backup failed; will try again next interval",
                         metadata: ["smollama.backup.dir": "\(directory)", "smollama.error": "\(error)"])
            return nil
        }
    }

    func backUp() throws -> String {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let now = wallMilliseconds()
        let file = directory + "/" + Self.prefix(runtime.identity.nodeID) + Self.stamp(now) + ".tar.gz"
        _ = try NodeBackup.create(runtime: runtime, to: file, now: now)
        for old in Self.backups(in: directory, node: runtime.identity.nodeID).dropLast(keep) {
            try? FileManager.default.removeItem(atPath: old)
        }
        return file
    }

    static func prefix(_ node: NodeID) -> String { "smollama-\(node.hex)-" }

    /// `20261207T021500Z`: sorts in time order.
    static func stamp(_ milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// This node's scheduled backups in `directory`, oldest first.
    public static func backups(in directory: String, node: NodeID) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasPrefix(prefix(node)) && $0.hasSuffix(".tar.gz") }.sorted().map { directory + "/" + $0 }
    }

    /// Runs blocking file work on a dispatch thread, keeping the cooperative pool free.
    static func offThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .utility).async { continuation.resume(with: Result { try work() }) }
        }
    }
}
