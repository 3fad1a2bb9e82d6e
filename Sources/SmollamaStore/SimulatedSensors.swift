import GRDB
public import SmollamaCore

/// Which sensors are simulated (issue 17, item 5): on a node, the sensors a simulated driver
/// registered (`sensors.simulated`); on a hub, what each node said in its handshake
/// (`foreign_simulated_sensors`). Both come with migration `v12-simulated-sensors`.
public enum SimulatedSensors {
    /// The most sensor keys a node may report as simulated, and the longest key.
    public static let maxReported = 4096
    public static let maxKeyBytes = 256
}

extension SmollamaDatabase {
    /// The keys of this node's sensors that a simulated driver registered, sorted.
    public func simulatedSensorKeys() async throws -> [String] {
        try await reader.read { db in
            try String.fetchAll(db, sql: "SELECT key FROM sensors WHERE simulated = 1 ORDER BY key")
        }
    }
}

extension HubSyncStore {
    static let v12SimulatedSensors = """
        -- Sensors a simulated driver (the demo house) registered: their values are made up.
        ALTER TABLE sensors ADD COLUMN simulated INTEGER NOT NULL DEFAULT 0;
        -- Sensors each node reported as simulated in its handshake (issue 17): the hub marks
        -- which nodes send made-up data. No row for a node: none simulated, or an older node.
        CREATE TABLE foreign_simulated_sensors (
            origin BLOB NOT NULL,
            sensor TEXT NOT NULL,
            PRIMARY KEY (origin, sensor)
        ) WITHOUT ROWID;
        """

    /// Replaces what `node` reported as simulated (called from the handshake when the node said).
    static func recordSimulated(_ db: Database, node: NodeID, sensors: [String]) throws {
        try db.execute(sql: "DELETE FROM foreign_simulated_sensors WHERE origin = ?", arguments: [node])
        for sensor in Set(sensors) {
            try db.execute(sql: "INSERT INTO foreign_simulated_sensors (origin, sensor) VALUES (?, ?)", arguments: [node, sensor])
        }
    }

    /// Each node that reported simulated sensors, with their keys (sorted). For `hub nodes` and
    /// the hub's node list and node page, which should mark such nodes "simulated data".
    public func simulatedSensors() async throws -> [NodeID: [String]] {
        try await reader.read { db in
            var result: [NodeID: [String]] = [:]
            for row in try Row.fetchAll(
                db.cachedStatement(sql: "SELECT origin, sensor FROM foreign_simulated_sensors ORDER BY origin, sensor"))
            {
                result[row[0] as NodeID, default: []].append(row[1])
            }
            return result
        }
    }
}
