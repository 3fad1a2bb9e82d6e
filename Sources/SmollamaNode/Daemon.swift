import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import Logging
import ServiceLifecycle
import UnixSignals
import SmollamaCore
import SmollamaLLM
public import SmollamaSensors
public import SmollamaStore
import SmollamaServer
import SmollamaMQTT
import SmollamaMem0
import SmollamaSync
import Synchronization

/// `smollama run`: one ServiceGroup holding the LLM runtime, the broker, the batched writer, store
/// maintenance, sync, the sensor scheduler, observations, memories, shared memory and the
/// dashboard (HTTP). SIGTERM/SIGINT shut it down gracefully: services stop in reverse order (the
/// list in `run` says why), so the dashboard stops first and the writer flushes everything
/// accepted before the process exits.
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
        _ = try await runtime.areas(extra: drivers.flatMap(\.driver.sensors).map(\.id))
        let clock = NodeClock(source: clockSource, persisted: try await database.meta.maxIssuedTimestamp(),
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
                                 rawRetention: config.store.rawRetention.duration,
                                 acknowledgingPeer: config.sync.enabled && config.sync.rawReadings ? "hub" : nil,
                                 hub: config.node.role == .llama
                                    ? .init(rawRetention: config.hub.rawRetention.duration,
                                            rollupRetention: config.hub.rollupRetention.duration) : nil),
            logger: logger)

        let shared = SharedMemoryWiring(runtime: runtime, clock: clock, logger: logger)
        let sync = try SyncWiring(runtime: runtime, clock: clock, clockSource: clockSource, logger: logger)
        let mcpMounts = try await MCPWiring.mounts(runtime: runtime, clock: clock, logger: logger)
        let live = LivePublisher()
        let notifier = SystemdNotifier(environment: environment)
        let notifyService = notifier.map {
            systemdService($0, environment: environment, writer: writer, database: database, logger: logger)
        }
        let sensorCount = drivers.flatMap(\.driver.sensors).count
        let servedPort = ServedPort()
        var environment = DashboardEnvironment(
            node: NodeInfo(id: runtime.identity.nodeID, name: config.node.name, role: config.node.role.rawValue),
            database: database, databasePath: runtime.paths.databaseFile, http: config.http, publisher: live)
        environment.timeZone = config.node.timeZone
        if config.node.role == .llama { environment.mind = HubPageWiring.mind(runtime: runtime, clock: clock, logger: logger) }
        environment.writer = { [paths = runtime.paths] in
            await CalibrationWiring.writer(config: config, paths: paths, logger: logger)
        }
        let dashboard = try buildApplication(
            environment: environment,
            logger: logger, mounts: shared.mounts + sync.mounts + mcpMounts,
            onServerRunning: { url in
                logger.info("smollama dashboard serving", metadata: ["smollama.url": "\(url)"])
                servedPort.set(url)
                notifier?.send(["READY=1", "STATUS=serving \(sensorCount) sensors at \(url)"])
            })

        let lock = try DaemonLock(paths: runtime.paths)
        defer { lock.release() }
        try await awaitRestoreRecovery(runtime: runtime, client: sync.client, notifier: notifier, logger: logger)
        logger.info(
            "smollama node started",
            metadata: [
                "smollama.node.id": "\(runtime.identity.nodeID)", "smollama.node.name": "\(config.node.name)",
                "smollama.node.role": "\(config.node.role.rawValue)",
                "smollama.database": "\(runtime.paths.databaseFile)",
                "smollama.sensors": "\(drivers.flatMap(\.driver.sensors).count)",
                "smollama.urls": "\(config.http.url())",
                "smollama.mqtt.broker": "\(config.mqtt.broker.isEmpty ? "off" : config.mqtt.broker)",
            ])
        let publisher = mqtt.publisher(runtime: runtime, sensors: drivers.flatMap(\.driver.sensors), logger: logger)
        // Observations read rollups and write knowledge events; they stop before the scheduler's writer.
        let observations = ObservationWiring.service(runtime: runtime, clock: clock, live: live, mqtt: publisher,
                                                     logger: logger)
        // Started in this order, stopped in the reverse one (ServiceLifecycle): the LLM runtime
        // (inserted first below) and the broker start before anything uses them and stop last;
        // the writer stops after everything that writes (sensors, observations, memories, sync)
        // and flushes what they handed it; the dashboard starts last and stops first, so open
        // pages close before the services behind them go.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = mqtt.early() + [
            .init(service: ReadingWriterService(writer: writer), serviceName: "writer"),
            .init(service: maintenance, serviceName: "maintenance"),
            .init(service: CodePageTrimService(logger: logger), serviceName: "code-trim"),
        ] + (config.backup.enabled ? [.init(service: BackupService(runtime: runtime, logger: logger), serviceName: "backup")] : []) + [sync.service(logger: logger)].compactMap { $0 } + mqtt.late(publisher: publisher) + [
            .init(service: scheduler, serviceName: "sensors"),
        ] + (observations.map { [$0] } ?? [])
            + ObservationBackfillService.services(runtime: runtime, clock: clock, logger: logger)
            + MemoryWiring.services(runtime: runtime, clock: clock, logger: logger)
            + shared.services
            + [.init(service: dashboard, serviceName: "http")]
            + [sync.announcer(port: { await servedPort.value() }, logger: logger)].compactMap { $0 }
        if let notifyService { services.append(notifyService) }
        // The LLM runtime is started first and stopped last. A node without one keeps sensing:
        // a missing runtime is logged, never fatal.
        do {
            let supervisor = try RuntimeSupervisor(config: config.llm, logger: logger)
            services.insert(.init(service: supervisor, serviceName: "llm-runtime"), at: 0)
        } catch {
            logger.error("LLM runtime not started; the node runs without it", metadata: ["smollama.error": "\(error)"])
        }
        var configuration = ServiceGroupConfiguration(
            services: services,
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

    /// After `smollama restore` on an enrolled node (`MetaStore.restorePending`), writing before
    /// a sync round has moved the counters past the hub's marks could reuse ids the hub holds. So
    /// the daemon runs that round first, retrying with `sync.max_backoff`, and starts nothing
    /// that writes until it succeeded; systemd's status line and the log say why. SIGTERM
    /// meanwhile ends the process with nothing written.
    static func awaitRestoreRecovery(runtime: NodeRuntime, client: SyncClient?, notifier: SystemdNotifier?,
                                     logger: Logger) async throws {
        guard runtime.config.node.role != .llama, let since = try await runtime.database.meta.restorePending() else { return }
        guard let hub = try HubInfo.load(path: runtime.paths.hubFile) else {
            // No longer enrolled: there is no hub whose numbers could be reused.
            try await runtime.database.meta.setRestorePending(nil)
            return
        }
        let client = try client ?? SyncWiring.commandClient(runtime: runtime, logger: logger)
        let url = runtime.config.sync.hub.isEmpty ? hub.url : runtime.config.sync.hub
        let waiting = "restored from a backup: waiting for the hub at \(url) before writing anything"
        notifier?.send(["READY=1", "STATUS=\(waiting)"])
        var delay = Duration.seconds(1)
        while true {
            do {
                try await client.syncOnce()
                logger.notice("restored store synced with the hub: numbering continues past its marks; starting",
                              metadata: ["smollama.restore.since": "\(since)"])
                return
            } catch {
                logger.error("\(waiting): a sync must first move this node's counters past what the hub holds, or new readings would reuse its ids (start the hub, or fix sync.hub; `smollama doctor` checks it)",
                             metadata: ["smollama.sync.error": "\(error)", "smollama.sync.retry_in": "\(delay)"])
                notifier?.send(["WATCHDOG=1", "STATUS=\(waiting) (\(error))"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, runtime.config.sync.maxBackoff.duration)
            }
        }
    }

    /// The notify service, last so it hears of shutdown first and says STOPPING=1 at once. The
    /// watchdog's health: the writer actor and the store both answer.
    static func systemdService(_ notifier: SystemdNotifier, environment: [String: String], writer: ReadingWriter,
                               database: SmollamaDatabase, logger: Logger) -> ServiceGroupConfiguration.ServiceConfiguration {
        let service = SystemdNotifyService(
            notifier: notifier, watchdogInterval: SystemdNotifier.watchdogInterval(environment: environment), logger: logger
        ) {
            _ = await writer.pendingCount
            do {
                _ = try await database.meta.maxIssuedTimestamp()
                return true
            } catch {
                return false
            }
        }
        return .init(service: service, serviceName: "systemd-notify")
    }

    /// The pid of a running daemon for this node, if any.
    public static func runningPID(paths: SmollamaPaths) -> Int32? {
        DaemonLock.holder(paths: paths)
    }
}

/// The dashboard's port once it serves (the configured one may be 0: a free port), for the
/// mDNS announcer.
final class ServedPort: Sendable {
    private let port = Mutex<UInt16?>(nil)

    func set(_ url: String) {
        guard let value = URL(string: url)?.port.flatMap({ UInt16(exactly: $0) }) else { return }
        port.withLock { $0 = value }
    }

    /// Waits for the port; nil when the daemon stops before serving.
    func value() async -> UInt16? {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if let value = port.withLock({ $0 }) { return value }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }
}

/// One daemon per node: an exclusive `flock` on the pid file, held for the daemon's life. The
/// kernel drops it when the process dies, even by `kill -9`, so a stale file never blocks a start.
struct DaemonLock {
    private let descriptor: Int32
    private let path: String

    init(paths: SmollamaPaths) throws {
        path = paths.pidFile
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw NodeError.cannotWrite(path: path) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw NodeError.alreadyRunning(pid: Self.holder(paths: paths), home: paths.home)
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { write(descriptor, $0, strlen($0)) }
    }

    func release() {
        _ = ftruncate(descriptor, 0)
        close(descriptor)
    }

    /// The pid written by the daemon holding the lock, or nil when no daemon holds it.
    static func holder(paths: SmollamaPaths) -> Int32? {
        let descriptor = open(paths.pidFile, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        // Taking a shared lock succeeds only when nobody holds the exclusive one.
        if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
            flock(descriptor, LOCK_UN)
            return nil
        }
        let text = (try? String(contentsOfFile: paths.pidFile, encoding: .utf8)) ?? ""
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}
