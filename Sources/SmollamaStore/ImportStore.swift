import GRDB
import GRDBSQLite
public import SmollamaCore

/// History brought in by `smollama import`. Imported readings go into `readings` like any other
/// (so they roll up and sync to the hub on the raw-readings stream), under an epoch of their own.
/// Three tables keep an import honest:
/// - `import_keys`: one row per imported (sensor, time), so a re-import or an overlapping file
///   adds nothing. Live readings are not keyed (no index on readings): a sensor a driver records
///   live is only imported before the sensor existed here (`sensors.created_at`).
/// - `import_blocks`: the reading ids each import transaction wrote, with their latest time.
///   Imported times are older than the live readings around them, so "times never decrease in id
///   order" no longer holds inside a block; retention uses the blocks to find a safe cut.
/// - `import_files`: a ledger of files by SHA-256, so the same file is recognised at once.
enum ImportSchema {
    static let v4 = """
        CREATE TABLE import_keys (
            sensor INTEGER NOT NULL REFERENCES sensors(id),
            time INTEGER NOT NULL,
            PRIMARY KEY (sensor, time)
        ) WITHOUT ROWID;

        CREATE TABLE import_blocks (
            first_id INTEGER PRIMARY KEY NOT NULL,
            last_id INTEGER NOT NULL,
            max_time INTEGER NOT NULL
        );

        CREATE TABLE import_files (
            digest TEXT PRIMARY KEY NOT NULL,
            path TEXT NOT NULL,
            format TEXT NOT NULL,
            imported_at INTEGER NOT NULL,
            rows INTEGER NOT NULL,
            added INTEGER NOT NULL,
            first_time INTEGER,
            last_time INTEGER
        ) WITHOUT ROWID;
        """
}

/// Where imported values of one sensor go.
public struct ImportTarget: Hashable, Sendable {
    public var rowID: Int64
    public var descriptor: SensorDescriptor
    /// Registered by a live driver: values at or after this time were recorded live and are skipped.
    public var liveSince: UTCMillis?

    public init(rowID: Int64, descriptor: SensorDescriptor, liveSince: UTCMillis?) {
        self.rowID = rowID
        self.descriptor = descriptor
        self.liveSince = liveSince
    }
}

/// One value to import (already parsed, checked and mapped).
public struct ImportedReading: Hashable, Sendable {
    public var sensorRowID: Int64
    public var time: UTCMillis
    public var value: Double

    public init(sensorRowID: Int64, time: UTCMillis, value: Double) {
        self.sensorRowID = sensorRowID
        self.time = time
        self.value = value
    }
}

/// A file already imported, from the ledger.
public struct ImportLedgerEntry: Hashable, Sendable, Codable {
    public var digest: String
    public var path: String
    public var format: String
    public var importedAt: UTCMillis
    public var rows: Int
    public var added: Int
    public var firstTime: UTCMillis?
    public var lastTime: UTCMillis?

    public init(digest: String, path: String, format: String, importedAt: UTCMillis, rows: Int, added: Int,
                firstTime: UTCMillis?, lastTime: UTCMillis?) {
        self.digest = digest
        self.path = path
        self.format = format
        self.importedAt = importedAt
        self.rows = rows
        self.added = added
        self.firstTime = firstTime
        self.lastTime = lastTime
    }
}

/// Why a mapping cannot be imported into the store as it is.
public enum ImportStoreError: Error, CustomStringConvertible, Equatable {
    case kindMismatch(sensor: SensorID, stored: SensorDescriptor.Kind, imported: SensorDescriptor.Kind)
    case unitMismatch(sensor: SensorID, stored: String, imported: String)

    public var description: String {
        switch self {
        case .kindMismatch(let sensor, let stored, let imported):
            "sensor '\(sensor)' is \(stored) in the store but the file gives \(imported) values; "
                + "map the column to another sensor id"
        case .unitMismatch(let sensor, let stored, let imported):
            "sensor '\(sensor)' is measured in '\(stored)' in the store but the mapping says '\(imported)'; "
                + "convert the values or map the column to another sensor id"
        }
    }
}

extension ImportStore {
    /// The sensors `descriptors` name, registering new ones under the driver `import`. A sensor
    /// already in the store keeps its descriptor; a different kind or unit is refused.
    public func importTargets(_ descriptors: [SensorDescriptor], now: UTCMillis) async throws -> [SensorID: ImportTarget] {
        try await writer.write { db in
            var targets: [SensorID: ImportTarget] = [:]
            let existing = Dictionary(uniqueKeysWithValues: try ReadingStore.fetchSensors(db).map { ($0.descriptor.id, $0) })
            for wanted in descriptors {
                if let stored = existing[wanted.id] {
                    guard stored.descriptor.kind == wanted.kind else {
                        throw ImportStoreError.kindMismatch(
                            sensor: wanted.id, stored: stored.descriptor.kind, imported: wanted.kind)
                    }
                    guard wanted.unit.isEmpty || stored.descriptor.unit == wanted.unit else {
                        throw ImportStoreError.unitMismatch(
                            sensor: wanted.id, stored: stored.descriptor.unit, imported: wanted.unit)
                    }
                    let created = try UTCMillis.fetchOne(
                        db, sql: "SELECT created_at FROM sensors WHERE id = ?", arguments: [stored.rowID])
                    targets[wanted.id] = ImportTarget(
                        rowID: stored.rowID, descriptor: stored.descriptor,
                        liveSince: stored.driver == Self.importDriver ? nil : created)
                    continue
                }
                try db.execute(
                    sql: """
                        INSERT INTO sensors (key, name, kind, unit, device_class, driver, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [wanted.id.rawValue, wanted.name, wanted.kind.rawValue, wanted.unit,
                                wanted.deviceClass, Self.importDriver, now])
                let rowID = db.lastInsertedRowID
                try db.execute(sql: "INSERT OR IGNORE INTO sensor_state (sensor) VALUES (?)", arguments: [rowID])
                targets[wanted.id] = ImportTarget(rowID: rowID, descriptor: wanted, liveSince: nil)
            }
            return targets
        }
    }

    /// Sensors registered by a live driver, with when they were first registered: imported
    /// values from then on were recorded live and are skipped.
    public func liveSensorsSince() async throws -> [SensorID: UTCMillis] {
        try await reader.read { db in
            var result: [SensorID: UTCMillis] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT key, created_at FROM sensors WHERE driver <> ?", arguments: [Self.importDriver])
            {
                result[SensorID(row["key"] as String)] = row["created_at"]
            }
            return result
        }
    }

    /// The driver name imported sensors are registered under.
    public static let importDriver = "import"

    /// A clock epoch for one import run: imported times come from the file, not from this
    /// node's clock, so they get an epoch (and boot id) of their own and are never re-timed.
    public func beginImportEpoch(label: String, firstTime: UTCMillis) async throws -> Int64 {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO clock_epochs (boot_id, quality, started_hlc, started_monotonic_ns)
                    VALUES (?, 'synced', ?, 0)
                    """, arguments: [label, HLCTimestamp(milliseconds: firstTime.rawValue, counter: 0).rawValue])
            return db.lastInsertedRowID
        }
    }

    /// Stores a batch in one transaction: values already imported (same sensor and time) are
    /// skipped; `sensor_state` moves only forward. Returns how many readings were added.
    public func storeImported(_ batch: [ImportedReading], epoch: Int64) async throws -> Int {
        guard !batch.isEmpty else { return 0 }
        return try await writer.write { db in
            let key = try db.cachedStatement(sql: "INSERT OR IGNORE INTO import_keys (sensor, time) VALUES (?, ?)")
            let insert = try db.cachedStatement(
                sql: "INSERT INTO readings (sensor, time, value, epoch) VALUES (?, ?, ?, ?)")
            var added = 0
            var firstID: Int64?
            var lastID: Int64 = 0
            var maxTime = UTCMillis.distantPast
            var latest: [Int64: (time: UTCMillis, value: Double)] = [:]
            for reading in batch {
                try Self.step(key, db: db) { handle in
                    sqlite3_bind_int64(handle, 1, reading.sensorRowID)
                    sqlite3_bind_int64(handle, 2, reading.time.rawValue)
                }
                guard db.changesCount == 1 else { continue }
                try Self.step(insert, db: db) { handle in
                    sqlite3_bind_int64(handle, 1, reading.sensorRowID)
                    sqlite3_bind_int64(handle, 2, reading.time.rawValue)
                    sqlite3_bind_double(handle, 3, reading.value)
                    sqlite3_bind_int64(handle, 4, epoch)
                }
                lastID = db.lastInsertedRowID
                if firstID == nil { firstID = lastID }
                maxTime = max(maxTime, reading.time)
                added += 1
                if reading.time >= latest[reading.sensorRowID]?.time ?? .distantPast {
                    latest[reading.sensorRowID] = (reading.time, reading.value)
                }
            }
            guard let firstID else { return 0 }
            try db.execute(
                sql: "INSERT INTO import_blocks (first_id, last_id, max_time) VALUES (?, ?, ?)",
                arguments: [firstID, lastID, maxTime])
            let state = try db.cachedStatement(
                sql: """
                    UPDATE sensor_state SET last_time = ?, last_value = ?
                    WHERE sensor = ? AND (last_time IS NULL OR last_time < ?)
                    """)
            for (sensor, last) in latest {
                try state.execute(arguments: [last.time, last.value, sensor, last.time])
            }
            return added
        }
    }

    /// How many of `batch` an import would add (for a dry run): values not yet imported.
    public func countNotImported(_ batch: [ImportedReading]) async throws -> Int {
        try await reader.read { db in
            let lookup = try db.cachedStatement(sql: "SELECT 1 FROM import_keys WHERE sensor = ? AND time = ?")
            var seen: Set<ImportedReading> = []
            return try batch.reduce(0) { count, reading in
                let probe = ImportedReading(sensorRowID: reading.sensorRowID, time: reading.time, value: 0)
                guard seen.insert(probe).inserted else { return count }
                let known = try Int64.fetchOne(lookup, arguments: [reading.sensorRowID, reading.time]) != nil
                return known ? count : count + 1
            }
        }
    }

    public func importedFile(digest: String) async throws -> ImportLedgerEntry? {
        try await reader.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM import_files WHERE digest = ?", arguments: [digest]).map { row in
                ImportLedgerEntry(
                    digest: row["digest"], path: row["path"], format: row["format"], importedAt: row["imported_at"],
                    rows: row["rows"], added: row["added"], firstTime: row["first_time"], lastTime: row["last_time"])
            }
        }
    }

    public func recordImportedFile(_ entry: ImportLedgerEntry) async throws {
        try await writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO import_files (digest, path, format, imported_at, rows, added, first_time, last_time)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(digest) DO UPDATE SET path = excluded.path, imported_at = excluded.imported_at,
                        rows = excluded.rows, added = added + excluded.added
                    """,
                arguments: [entry.digest, entry.path, entry.format, entry.importedAt, entry.rows, entry.added,
                            entry.firstTime, entry.lastTime])
        }
    }

    private static func step(_ statement: Statement, db: Database, bind: (OpaquePointer) -> Void) throws {
        let handle = statement.sqliteStatement
        bind(handle)
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code),
                                message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    /// Whether every reading with id ≤ `id` is older than `cutoff`, for retention's binary search.
    /// Live readings are in time order by id, so the last live reading at or before `id` speaks
    /// for all live ones; an import block speaks through its latest time (conservative: a block
    /// holding anything recent holds back the cut until that ages out). Monotone in `id`.
    static func allReadingsBefore(_ db: Database, cutoff: Int64, through id: Int64) throws -> Bool {
        if let blocks = try Int64.fetchOne(
            db, sql: "SELECT max(max_time) FROM import_blocks WHERE first_id <= ?", arguments: [id]),
            blocks >= cutoff
        {
            return false
        }
        var live = id
        while let first = try Int64.fetchOne(
            db, sql: "SELECT first_id FROM import_blocks WHERE first_id <= ? AND last_id >= ?", arguments: [live, live])
        {
            live = first - 1
        }
        let time = try Int64.fetchOne(
            db, sql: "SELECT time FROM readings WHERE id <= ? ORDER BY id DESC LIMIT 1", arguments: [live])
        return time.map { $0 < cutoff } ?? true
    }
}
