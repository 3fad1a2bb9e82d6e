import GRDB
public import SmollamaCore

/// A sensor as the store knows it: the descriptor plus its row id.
public struct RegisteredSensor: Hashable, Sendable {
    public var rowID: Int64
    public var descriptor: SensorDescriptor
    public var driver: String
    /// Registered by a simulated driver (the demo house): its values are made up.
    public var simulated = false
}

extension ReadingStore {
    /// Records (or updates) the sensors a driver offers and returns them with their row ids.
    /// Sensors are never deleted: their readings and rollups keep pointing at them.
    @discardableResult
    public func registerSensors(_ descriptors: [SensorDescriptor], driver: String, simulated: Bool = false, now: UTCMillis) async throws
        -> [RegisteredSensor]
    {
        try await writer.write { db in
            try descriptors.map { sensor in
                try db.execute(
                    sql: """
                        INSERT INTO sensors (key, name, kind, unit, device_class, range_min, range_max, driver, created_at, simulated)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT(key) DO UPDATE SET name = excluded.name, kind = excluded.kind,
                            unit = excluded.unit, device_class = excluded.device_class,
                            range_min = excluded.range_min, range_max = excluded.range_max, driver = excluded.driver,
                            simulated = excluded.simulated
                        """,
                    arguments: [
                        sensor.id.rawValue, sensor.name, sensor.kind.rawValue, sensor.unit, sensor.deviceClass,
                        sensor.range?.lowerBound, sensor.range?.upperBound, driver, now, simulated,
                    ])
                let rowID = try Int64.fetchOne(db, sql: "SELECT id FROM sensors WHERE key = ?", arguments: [sensor.id.rawValue])!
                try db.execute(sql: "INSERT OR IGNORE INTO sensor_state (sensor) VALUES (?)", arguments: [rowID])
                return RegisteredSensor(rowID: rowID, descriptor: sensor, driver: driver, simulated: simulated)
            }
        }
    }

    public func registeredSensors() async throws -> [RegisteredSensor] {
        try await reader.read { db in try Self.fetchSensors(db) }
    }

    static func fetchSensors(_ db: Database) throws -> [RegisteredSensor] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM sensors ORDER BY key")).map { row in
            let low: Double? = row["range_min"]
            let high: Double? = row["range_max"]
            let descriptor = SensorDescriptor(
                id: SensorID(row["key"] as String), name: row["name"],
                kind: SensorDescriptor.Kind(rawValue: row["kind"]) ?? .numeric, unit: row["unit"],
                deviceClass: row["device_class"],
                range: low.flatMap { low in high.map { low...$0 } })
            return RegisteredSensor(rowID: row["id"], descriptor: descriptor, driver: row["driver"], simulated: row["simulated"])
        }
    }
}
