import Foundation
public import Logging
import SmollamaCore
import SmollamaHardware
public import SmollamaSensors
public import SmollamaStore
import SmollamaMQTT
import SmollamaSync

/// A loaded node: its config, paths, identity and open store. Every command starts here.
public struct NodeRuntime: Sendable {
    public let config: NodeConfig
    public let paths: SmollamaPaths
    public let identity: NodeIdentity
    public let database: SmollamaDatabase

    /// Loads config and identity and opens the store (creating its file if it was lost: then
    /// the incarnation is bumped so peers can tell the history restarted).
    public static func open(home: String, configFile: String?, environment: [String: String], overrides: [String])
        async throws -> NodeRuntime
    {
        let file = configFile ?? SmollamaPaths(home: home).configFile
        let config = try ConfigLoader.load(file: file, environment: environment, overrides: overrides)
        let paths = NodeSetup.paths(home: home, configFile: file, config: config)
        var identity = try NodeIdentity.load(paths: paths)
        var storeExisted = FileManager.default.fileExists(atPath: paths.databaseFile)
        let vectorExtension = MemoryWiring.vectorExtension(config: config, environment: environment)
        let database: SmollamaDatabase
        do {
            database = try SmollamaDatabase.open(path: paths.databaseFile, vectorExtension: vectorExtension)
        } catch StoreError.corrupt(_, let reason) {
            // A damaged store must not crash-loop an unattended node: it is kept aside (for
            // recovery by hand), `status` reports it, and the node starts on a fresh store, as after
            // a lost file (new incarnation; synced history comes back from the hub).
            let kept = try quarantine(paths: paths)
            FileHandle.standardError.write(Data(
                "smollama: the database was damaged (\(reason)); moved to \(kept), starting a fresh one\n".utf8))
            storeExisted = false
            database = try SmollamaDatabase.open(path: paths.databaseFile, vectorExtension: vectorExtension)
        }
        if !storeExisted {
            identity.incarnation += 1
            try identity.save(paths: paths)
        }
        try await database.meta.claim(for: identity.nodeID, incarnation: identity.incarnation)
        // Besides a memory's creator, only the hub's versions of it count (mem0 edits).
        try await database.meta.setHub(config.node.role == .llama ? identity.nodeID
                                       : (try? HubInfo.load(path: paths.hubFile))??.hubNode)
        // A node that syncs without raw readings sends its rollups as events (noted from here on).
        try await database.readings.setRollupPublishing(config.sync.enabled && !config.sync.rawReadings)
        return NodeRuntime(config: config, paths: paths, identity: identity, database: database)
    }

    /// Moves the store file (with its WAL and shared memory) into `data/quarantine/`, named by
    /// the time; returns the new path of the database file.
    static func quarantine(paths: SmollamaPaths) throws -> String {
        let directory = paths.quarantineDirectory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
        let target = "\(directory)/smollama-\(stamp).sqlite"
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: paths.databaseFile + suffix) {
            try FileManager.default.moveItem(atPath: paths.databaseFile + suffix, toPath: target + suffix)
        }
        return target
    }

    /// The damaged stores kept aside, oldest first.
    public static func quarantined(paths: SmollamaPaths) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: paths.quarantineDirectory)) ?? []
        return names.filter { $0.hasSuffix(".sqlite") }.sorted().map { paths.quarantineDirectory + "/" + $0 }
    }

    /// The driver kinds this build knows.
    public static let driverRegistry = SensorDriverRegistry(
        [SimulatedHouseDriver.kind, SystemDriver.kind, MQTTSensorDriver.kind, MQTTDiscoveryDriver.kind] + SensorDriverKind.linuxDriverKinds)

    /// Roots for drivers: the real machine unless SMOLLAMA_SYSFS_ROOT / SMOLLAMA_DEV_ROOT say otherwise.
    public func driverContext(environment: [String: String], logger: Logger) -> DriverContext {
        DriverContext(systemRoot: environment["SMOLLAMA_SYSFS_ROOT"] ?? "/",
                      deviceRoot: environment["SMOLLAMA_DEV_ROOT"] ?? "/",
                      dataDirectory: paths.dataDirectory, logger: logger,
                      // Commands other than `run` build drivers without connecting; the daemon
                      // puts its real MQTT client here.
                      topics: config.mqtt.resolvedBroker == .off ? nil : UnconnectedTopics(),
                      timeZone: config.node.timeZone)
    }

    /// Builds every enabled driver from the config.
    public func makeDrivers(context: DriverContext, registry: SensorDriverRegistry = driverRegistry) throws
        -> [ScheduledDriver]
    {
        var names = Set<String>()
        var sensorIDs = Set<SensorID>()
        return try config.sensors.drivers.filter(\.enabled).map { entry in
            let scheduled = try entry.makeDriver(registry: registry, context: context, file: paths.configFile)
            let driver = scheduled.driver
            guard names.insert(driver.name).inserted else {
                throw NodeError.invalidConfig(path: paths.configFile, key: entry.keyPath + ".name",
                                              problem: "driver name '\(driver.name)' is used twice; give each a unique name")
            }
            for sensor in driver.sensors where !sensorIDs.insert(sensor.id).inserted || !SensorID.validate(sensor.id.rawValue) {
                throw NodeError.invalidConfig(path: paths.configFile, key: entry.keyPath,
                                              problem: "sensor id '\(sensor.id)' is invalid or used twice")
            }
            return scheduled
        }
    }
}

