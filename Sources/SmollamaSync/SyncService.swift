import AsyncHTTPClient
#if canImport(Glibc)
import Glibc
#endif
public import Logging
public import ServiceLifecycle

/// The node's sync loop: a round every `interval`; after a failure, retries with doubling
/// delays from 1 s up to `maxBackoff`, so a hub that comes back is noticed within seconds.
/// Rounds stop between batches on graceful shutdown; what was acknowledged stays acknowledged.
public struct SyncService: Service {
    public struct Configuration: Sendable, Hashable {
        public var interval: Duration
        public var maxBackoff: Duration
        /// Below this many free bytes in `dataDirectory`, unsynced raw readings are compacted
        /// (0: never).
        public var minFreeBytes: Int64
        public var dataDirectory: String
        public init(interval: Duration = .seconds(60), maxBackoff: Duration = .seconds(30), minFreeBytes: Int64 = 0,
                    dataDirectory: String = ".") {
            self.interval = interval
            self.maxBackoff = maxBackoff
            self.minFreeBytes = minFreeBytes
            self.dataDirectory = dataDirectory
        }
    }

    let client: SyncClient
    let configuration: Configuration
    let logger: Logger

    public init(client: SyncClient, configuration: Configuration, logger: Logger) {
        self.client = client
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let delay: Duration
            if configuration.minFreeBytes > 0 {
                // Checked every round, reachable hub or not: disk pressure happens offline.
                do {
                    try await client.relieveDiskPressure(minFreeBytes: configuration.minFreeBytes,
                                                         freeBytes: Self.freeBytes(path: configuration.dataDirectory))
                } catch {
                    logger.error("disk pressure relief failed", metadata: ["smollama.error": "\(error)"])
                }
            }
            do {
                let report = try await client.syncOnce(shouldStop: { Task.isShuttingDownGracefully })
                if failures > 0 { logger.notice("sync: hub reachable again") }
                failures = 0
                let pushed = report.pushed.values.reduce(0, +)
                if pushed > 0 || report.pulled > 0 {
                    logger.info("sync round done", metadata: [
                        "smollama.sync.pushed": "\(pushed)", "smollama.sync.pulled": "\(report.pulled)",
                        "smollama.sync.bytes": "\(report.bytesSent)",
                    ])
                }
                delay = configuration.interval
            } catch {
                failures += 1
                let backoff = Duration.seconds(1) * (1 << min(failures - 1, 10))
                delay = min(backoff, configuration.maxBackoff)
                logger.warning("sync round failed; will retry", metadata: [
                    "smollama.error": "\(error)", "smollama.sync.retry_in": "\(delay)",
                ])
            }
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            } catch {
                return
            }
        }
    }

    /// Free bytes for unprivileged users on the file system holding `path`.
    public static func freeBytes(path: String) -> Int64? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }
}
