import SmollamaCore
import AsyncAlgorithms
public import Logging
public import ServiceLifecycle

/// Keeps rollups current and applies raw-reading retention, on timers.
public struct MaintenanceService: Service {
    public struct Configuration: Sendable, Hashable {
        public var rollupInterval: Duration
        public var retentionInterval: Duration
        /// Raw readings older than this may be deleted (once rolled up and, with sync, acknowledged).
        public var rawRetention: Duration
        /// When set, raw readings are deleted only below what this peer acknowledged.
        public var acknowledgingPeer: String?

        public init(rollupInterval: Duration = .seconds(10), retentionInterval: Duration = .seconds(3600),
                    rawRetention: Duration = .seconds(30 * 86_400), acknowledgingPeer: String? = nil) {
            self.rollupInterval = rollupInterval
            self.retentionInterval = retentionInterval
            self.rawRetention = rawRetention
            self.acknowledgingPeer = acknowledgingPeer
        }
    }

    let database: SmollamaDatabase
    let clock: NodeClock
    let configuration: Configuration
    let logger: Logger

    public init(database: SmollamaDatabase, clock: NodeClock, configuration: Configuration, logger: Logger) {
        self.database = database
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        var lastRetention = ContinuousClock.now
        for await _ in AsyncTimerSequence(interval: configuration.rollupInterval, clock: .continuous)
            .cancelOnGracefulShutdown()
        {
            let retentionDue = ContinuousClock.now - lastRetention >= configuration.retentionInterval
            await tick(retentionDue: retentionDue)
            if retentionDue { lastRetention = .now }
        }
        // Leave rollups current for the next start and for `status`.
        await tick(retentionDue: false)
    }

    /// One round of maintenance; exposed so tests can drive it without timers.
    public func tick(retentionDue: Bool) async {
        do {
            try await database.readings.rollUpAll()
        } catch {
            logger.error("rollup failed; will retry", metadata: ["smollama.error": "\(error)"])
            return
        }
        guard retentionDue else { return }
        do {
            let cutoff = await clock.now() - configuration.rawRetention
            let deleted = try await database.deleteExpiredReadings(
                olderThan: cutoff, acknowledgedBy: configuration.acknowledgingPeer)
            if deleted > 0 {
                logger.info("deleted expired raw readings", metadata: ["smollama.retention.deleted": "\(deleted)"])
            }
        } catch {
            logger.error("retention failed; will retry", metadata: ["smollama.error": "\(error)"])
        }
    }
}
