import Foundation
public import Logging
public import SmollamaLLM
public import SmollamaCore
public import SmollamaStore
import SmollamaServer
public import SmollamaMQTT
public import SmollamaMind

/// What `smollama status` shows, as data (the CLI formats it or prints it as JSON).
public struct StatusReport: Codable, Sendable {
    public struct Fault: Codable, Sendable {
        public var sensor: SensorID
        public var consecutiveFailures: Int
        public var faultCount: Int
        public var rejectedCount: Int
        public var lastError: String?
        public var lastErrorTime: UTCMillis?
    }

    public var nodeID: NodeID
    public var name: String
    public var role: NodeConfig.Role
    public var home: String
    public var dataDirectory: String
    public var databaseFile: String
    public var databaseBytes: Int64
    /// Damaged stores moved aside at start (nil: none).
    public var quarantined: [String]?
    public var daemonPID: Int32?
    /// Where the dashboard is served (by a running daemon) per the config.
    public var dashboardURL: String
    public var clockQuality: ClockQuality?
    /// This node's clock against the hub's at the last sync handshake (nil: never synced).
    public var hubClock: HubClockReading?
    public var readingCount: Int64
    public var oldestReadingTime: UTCMillis?
    public var newestReadingTime: UTCMillis?
    public var rollupLag: Int64
    public var eventCount: Int64
    public var sensorCount: Int
    public var faultySensorCount: Int
    /// Sensors that are faulty or have refused values or failed reads, worst first.
    public var problems: [Fault]
    /// The LLM runtime as it answers now (nil when not asked).
    public var llm: LLMRuntimeReport?
    /// Who writes observations and routes `ask`, and why (the model's calibration score).
    public var writers: [GateDecision]
    /// The `mqtt.broker` setting ("" = off).
    public var mqttBroker: String
    /// What the running daemon last wrote about its MQTT connection (nil when MQTT is off or
    /// the daemon never ran with it).
    public var mqtt: MQTTNodeState?

    /// - Parameter askRuntime: also ask the LLM runtime for its health and models (a network call).
    public static func make(runtime: NodeRuntime, now: UTCMillis, askRuntime: Bool = false, logger: Logger)
        async throws -> StatusReport
    {
        let store = try await runtime.database.storeStatus()
        let sensors = try await runtime.database.sensorSummaries(now: now)
        let problems = sensors.filter { $0.status != "ok" || $0.faultCount > 0 || $0.rejectedCount > 0 }
            .sorted { ($0.status != "ok" ? 1 : 0, $0.faultCount) > ($1.status != "ok" ? 1 : 0, $1.faultCount) }
            .map { Fault(sensor: $0.sensor.id, consecutiveFailures: $0.consecutiveFailures, faultCount: $0.faultCount,
                         rejectedCount: $0.rejectedCount, lastError: $0.lastError, lastErrorTime: $0.lastErrorTime) }
        return StatusReport(
            nodeID: runtime.identity.nodeID, name: runtime.config.node.name, role: runtime.config.node.role,
            home: runtime.paths.home, dataDirectory: runtime.paths.dataDirectory,
            databaseFile: runtime.paths.databaseFile,
            databaseBytes: SmollamaDatabase.fileSize(path: runtime.paths.databaseFile),
            quarantined: NodeRuntime.quarantined(paths: runtime.paths).nilIfEmpty,
            daemonPID: Daemon.runningPID(paths: runtime.paths), dashboardURL: runtime.config.http.url(),
            clockQuality: store.clockQuality, hubClock: try await runtime.database.nodeSync.hubClock(),
            readingCount: store.readingCount, oldestReadingTime: store.oldestReadingTime,
            newestReadingTime: store.newestReadingTime, rollupLag: store.rollupLag, eventCount: store.eventCount,
            sensorCount: sensors.count, faultySensorCount: sensors.filter { $0.status != "ok" }.count,
            problems: problems,
            llm: askRuntime ? await LLMRuntimeReport.gather(config: runtime.config.llm, logger: logger) : nil,
            writers: await CalibrationWiring.decisions(config: runtime.config, paths: runtime.paths, network: askRuntime,
                                                       logger: logger),
            mqttBroker: runtime.config.mqtt.broker,
            mqtt: runtime.config.mqtt.broker.isEmpty ? nil : MQTTNodeState.read(path: runtime.paths.mqttStateFile))
    }
}


extension Array {
    var nilIfEmpty: Self? { isEmpty ? nil : self }
}
