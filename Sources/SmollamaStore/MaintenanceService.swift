import SmollamaCore
import AsyncAlgorithms
public import Logging
public import ServiceLifecycle

/// Keeps rollups current and applies raw-reading retention, on timers. On a hub it also keeps
/// other nodes' rollups current and applies the hub's retention to their readings.
public struct MaintenanceService: Service {
    /// The hub's retention of other nodes' data (`hub.raw_retention`, `hub.rollup_retention`).
    public struct HubRetention: Sendable, Hashable {
        /// Other nodes' raw readings older than this are deleted once rolled up.
        public var rawRetention: Duration
        /// Other nodes' 5-minute rollups older than this are deleted; hourly ones are kept.
        public var rollupRetention: Duration

        public init(rawRetention: Duration = .seconds(30 * 86_400), rollupRetention: Duration = .seconds(90 * 86_400)) {
            self.rawRetention = rawRetention
            self.rollupRetention = rollupRetention
        }
    }

    public struct Configuration: Sendable, Hashable {
        public var rollupInterval: Duration
        public var retentionInterval: Duration
        /// Raw readings older than this may be deleted (once rolled up and, with sync, acknowledged).
        public var rawRetention: Duration
        /// When set, raw readings are deleted only below what this peer acknowledged.
        public var acknowledgingPeer: String?
        /// Set on a hub: other nodes' rollups and retention.
        public var hub: HubRetention?

        public init(rollupInterval: Duration = .seconds(10), retentionInterval: Duration = .seconds(3600),
                    rawRetention: Duration = .seconds(30 * 86_400), acknowledgingPeer: String? = nil,
                    hub: HubRetention? = nil) {
            self.rollupInterval = rollupInterval
            self.retentionInterval = retentionInterval
            self.rawRetention = rawRetention
            self.acknowledgingPeer = acknowledgingPeer
            self.hub = hub
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
        if let hub = configuration.hub { await hubTick(hub, retentionDue: retentionDue) }
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

    /// Other nodes' rollups (normally folded as their batches arrive; this catches up), then the
    /// hub's retention of their raw readings and 5-minute rollups.
    func hubTick(_ hub: HubRetention, retentionDue: Bool) async {
        do {
            try await database.hubReadings.rollUpAll()
        } catch {
            logger.error("rollup of other nodes' readings failed; will retry", metadata: ["smollama.error": "\(error)"])
            return
        }
        guard retentionDue else { return }
        do {
            let now = await clock.now()
            let deleted = try await database.hubReadings.deleteExpired(
                rawOlderThan: now - hub.rawRetention, fiveMinuteRollupsOlderThan: now - hub.rollupRetention)
            if deleted.readings > 0 || deleted.fiveMinuteRollups > 0 {
                logger.info("deleted other nodes' expired data",
                            metadata: ["smollama.retention.deleted": "\(deleted.readings)",
                                       "smollama.retention.rollups_deleted": "\(deleted.fiveMinuteRollups)"])
            }
        } catch {
            logger.error("hub retention failed; will retry", metadata: ["smollama.error": "\(error)"])
        }
    }
}
