import Foundation
public import Logging
import ServiceLifecycle
import UnixSignals
import SmollamaCore
public import SmollamaSensors
public import SmollamaStore
import SmollamaMQTT

/// `smollama run`: one ServiceGroup holding the batched writer, the sensor scheduler and store
/// maintenance. SIGTERM/SIGINT shut it down gracefully: services stop in reverse order, so the
/// scheduler stops first and the writer flushes everything accepted before the process exits.
public enum Daemon {
    public static func run(runtime: NodeRuntime, environment: [String: String], logger: Logger,
                           clockSource: any ClockSource = SystemClockSource(),
                           registry: SensorDriverRegistry = NodeRuntime.driverRegistry) async throws {
        let config = runtime.config
        let database = runtime.database
        let mqtt = try MQTTWiring(runtime: runtime, logger: logger)
        var context = runtime.driverContext(environment: environment, logger: logger)
        context.topics = mqtt.client
        let drivers = try runtime.makeDrivers(context: context, registry: registry)
        let clock = NodeClock(source: clockSource, persisted: try await database.maxIssuedTimestamp(),
                              policy: config.clock.policy)
        let writer = ReadingWriter(
            database: database, origin: runtime.identity.nodeID,
            configuration: .init(flushInterval: config.store.flushInterval.duration, maxBatch: config.store.batchSize,
                                 maxBuffered: config.store.maxQueued),
            logger: logger)
        let scheduler = SensorScheduler(
            drivers: drivers, writer: writer, clock: clock,
            configuration: .init(faultThreshold: config.sensors.faultThreshold,
                                 maxBackoff: config.sensors.maxBackoff.duration),
            logger: logger, feed: mqtt.feed)
        let maintenance = MaintenanceService(
            database: database, clock: clock,
            configuration: .init(rollupInterval: config.store.rollupInterval.duration,
                                 retentionInterval: config.store.retentionInterval.duration,
                                 rawRetentionMilliseconds: config.store.rawRetention.milliseconds,
                                 acknowledgingPeer: config.sync.enabled ? "hub" : nil),
            logger: logger)

        try writePIDFile(runtime.paths.pidFile)
        defer { try? FileManager.default.removeItem(atPath: runtime.paths.pidFile) }
        logger.info(
            "smollama node started",
            metadata: [
                "smollama.node.id": "\(runtime.identity.nodeID)", "smollama.node.name": "\(config.node.name)",
                "smollama.node.role": "\(config.node.role.rawValue)",
                "smollama.database": "\(runtime.paths.databaseFile)",
                "smollama.sensors": "\(drivers.flatMap(\.driver.sensors).count)",
                "smollama.urls": "none (this build serves no HTTP yet)",
                "smollama.mqtt.broker": "\(config.mqtt.broker.isEmpty ? "off" : config.mqtt.broker)",
            ])
        var configuration = ServiceGroupConfiguration(
            services: mqtt.early() + [
                .init(service: ReadingWriterService(writer: writer), serviceName: "writer"),
                .init(service: maintenance, serviceName: "maintenance"),
            ] + mqtt.late(runtime: runtime, sensors: drivers.flatMap(\.driver.sensors), logger: logger) + [
                .init(service: scheduler, serviceName: "sensors"),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        // Below systemd's default 90 s stop timeout, so we finish before it kills us.
        configuration.maximumGracefulShutdownDuration = .seconds(20)
        try await ServiceGroup(configuration: configuration).run()
        let statistics = await writer.statistics
        let pending = await writer.pendingCount
        logger.info(
            "smollama node stopped",
            metadata: [
                "smollama.writer.accepted": "\(statistics.accepted)", "smollama.writer.committed": "\(statistics.committed)",
                "smollama.writer.pending": "\(pending)",
            ])
    }

    static func writePIDFile(_ path: String) throws {
        let pid = "\(ProcessInfo.processInfo.processIdentifier)\n"
        guard FileManager.default.createFile(atPath: path, contents: Data(pid.utf8)) else {
            throw NodeError.cannotWrite(path: path)
        }
    }

    /// The pid of a running daemon for this node, if any.
    public static func runningPID(paths: SmollamaPaths) -> Int32? {
        guard let text = try? String(contentsOfFile: paths.pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), kill(pid, 0) == 0
        else { return nil }
        return pid
    }
}
