import AsyncHTTPClient
public import Logging
public import ServiceLifecycle

/// The node's sync loop: a round every `interval`; after a failure, retries with doubling
/// delays from 1 s up to `maxBackoff`, so a hub that comes back is noticed within seconds.
/// Rounds stop between batches on graceful shutdown; what was acknowledged stays acknowledged.
public struct SyncService: Service {
    public struct Configuration: Sendable, Hashable {
        public var interval: Duration
        public var maxBackoff: Duration
        public init(interval: Duration = .seconds(60), maxBackoff: Duration = .seconds(30)) {
            self.interval = interval
            self.maxBackoff = maxBackoff
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
}
