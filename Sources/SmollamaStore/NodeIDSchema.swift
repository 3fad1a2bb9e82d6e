import Foundation
import GRDB
import SmollamaCore

extension Schema {
    /// v5: node ids as 16-byte BLOBs everywhere. v3 stored them as 32 hex digits (TEXT) in the
    /// sync tables and `clock_anchors`, and as BLOBs in `events`; joins converted by hand. The
    /// tables are rebuilt (their CHECKs change) and the rows converted, which SQLite 3.40 cannot
    /// do in SQL (no `unhex`), so the conversion is Swift over plain rows.
    static func v5NodeIDs(_ db: Database) throws {
        try db.execute(sql: "DROP VIEW events_timed; DROP VIEW foreign_readings_timed; DROP VIEW readings_timed;")
        try rebuild(db, table: "sync_nodes", hexColumns: ["node"], """
            CREATE TABLE sync_nodes_v5 (
                node BLOB PRIMARY KEY NOT NULL CHECK (length(node) = 16),
                name TEXT NOT NULL,
                public_key BLOB NOT NULL CHECK (length(public_key) = 32),
                incarnation INTEGER NOT NULL DEFAULT 1,
                enrolled_at INTEGER NOT NULL,
                revoked_at INTEGER,
                last_seen INTEGER,
                clock_quality TEXT,
                backlog INTEGER NOT NULL DEFAULT 0,
                collisions INTEGER NOT NULL DEFAULT 0,
                last_error TEXT
            ) WITHOUT ROWID
            """)
        try rebuild(db, table: "sync_tokens", hexColumns: ["used_by"], """
            CREATE TABLE sync_tokens_v5 (
                token_hash TEXT PRIMARY KEY NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                used_at INTEGER,
                used_by BLOB CHECK (used_by IS NULL OR length(used_by) = 16)
            ) WITHOUT ROWID
            """)
        try rebuild(db, table: "sync_nonces", hexColumns: ["node"], """
            CREATE TABLE sync_nonces_v5 (
                node BLOB NOT NULL CHECK (length(node) = 16),
                nonce TEXT NOT NULL,
                seen_at INTEGER NOT NULL,
                PRIMARY KEY (node, nonce)
            ) WITHOUT ROWID
            """)
        try rebuild(db, table: "sync_marks", hexColumns: ["origin"], """
            CREATE TABLE sync_marks_v5 (
                origin BLOB NOT NULL CHECK (length(origin) = 16),
                stream TEXT NOT NULL,
                mark INTEGER NOT NULL CHECK (mark >= 0),
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (origin, stream)
            ) WITHOUT ROWID
            """)
        try rebuild(db, table: "sync_gaps", hexColumns: ["origin"], """
            CREATE TABLE sync_gaps_v5 (
                origin BLOB NOT NULL CHECK (length(origin) = 16),
                stream TEXT NOT NULL,
                from_seq INTEGER NOT NULL,
                to_seq INTEGER NOT NULL,
                recorded_at INTEGER NOT NULL,
                PRIMARY KEY (origin, stream, from_seq)
            ) WITHOUT ROWID
            """)
        try rebuild(db, table: "sync_collisions", hexColumns: ["origin"], """
            CREATE TABLE sync_collisions_v5 (
                id INTEGER PRIMARY KEY,
                origin BLOB NOT NULL CHECK (length(origin) = 16),
                stream TEXT NOT NULL,
                seq INTEGER NOT NULL,
                detail TEXT NOT NULL,
                seen_at INTEGER NOT NULL
            )
            """)
        try rebuild(db, table: "sync_origins", hexColumns: ["origin"], """
            CREATE TABLE sync_origins_v5 (
                ref INTEGER PRIMARY KEY,
                origin BLOB NOT NULL UNIQUE CHECK (length(origin) = 16)
            )
            """)
        try rebuild(db, table: "clock_anchors", hexColumns: ["origin"], """
            CREATE TABLE clock_anchors_v5 (
                origin BLOB NOT NULL CHECK (length(origin) = 16),
                boot_id TEXT NOT NULL,
                monotonic_ns INTEGER NOT NULL,
                hub_time INTEGER NOT NULL,
                recorded_at INTEGER NOT NULL,
                PRIMARY KEY (origin, boot_id)
            ) WITHOUT ROWID
            """)
        try db.execute(sql: """
            CREATE VIEW events_timed AS
                SELECT e.*, CASE WHEN e.quality = 'unsynced' AND a.hub_time IS NOT NULL
                    THEN a.hub_time + (e.monotonic_ns - a.monotonic_ns) / 1000000
                    ELSE e.hlc >> 16 END AS corrected_time
                FROM events e LEFT JOIN clock_anchors a ON a.origin = e.origin AND a.boot_id = e.boot_id;

            CREATE VIEW foreign_readings_timed AS
                SELECT o.origin AS origin, r.id, s.key AS sensor, r.time, r.value,
                    CASE WHEN ep.quality = 'unsynced' AND a.hub_time IS NOT NULL
                        THEN r.time + a.hub_time - a.monotonic_ns / 1000000
                            - (ep.started_hlc >> 16) + ep.started_monotonic_ns / 1000000
                        ELSE r.time END AS corrected_time
                FROM foreign_readings r
                JOIN sync_origins o ON o.ref = r.origin_ref
                JOIN foreign_sensors s ON s.id = r.sensor
                LEFT JOIN foreign_epochs ep ON ep.origin_ref = r.origin_ref AND ep.epoch = r.epoch
                LEFT JOIN clock_anchors a ON a.origin = o.origin AND a.boot_id = ep.boot_id;

            -- meta keeps the node id as text (it is a key/value table of text).
            CREATE VIEW readings_timed AS
                SELECT r.id, s.key AS sensor, r.time, r.value,
                    CASE WHEN ep.quality = 'unsynced' AND a.hub_time IS NOT NULL
                        THEN r.time + a.hub_time - a.monotonic_ns / 1000000
                            - (ep.started_hlc >> 16) + ep.started_monotonic_ns / 1000000
                        ELSE r.time END AS corrected_time
                FROM readings r
                JOIN sensors s ON s.id = r.sensor
                JOIN clock_epochs ep ON ep.id = r.epoch
                LEFT JOIN clock_anchors a ON a.boot_id = ep.boot_id
                    AND lower(hex(a.origin)) = (SELECT value FROM meta WHERE key = 'node_id');
            """)
    }

    /// Creates `<table>_v5` with `definition`, copies every row converting `hexColumns` from
    /// hex TEXT to BLOB, and puts the new table in the old one's place.
    static func rebuild(_ db: Database, table: String, hexColumns: Set<String>, _ definition: String) throws {
        try db.execute(sql: definition)
        let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table)")
        if let first = rows.first {
            let columns = Array(first.columnNames)
            let insert = try db.makeStatement(
                sql: "INSERT INTO \(table)_v5 (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))")
            for row in rows {
                let values: [DatabaseValue] = try columns.map { column in
                    let value: DatabaseValue = row[column]
                    guard hexColumns.contains(column), let text = String.fromDatabaseValue(value) else { return value }
                    guard let bytes = [UInt8](hexString: text), bytes.count == 16 else {
                        throw StoreError.cannotMigrate("\(table).\(column) holds '\(text)', which is not a node id (32 hex digits)")
                    }
                    return Data(bytes).databaseValue
                }
                try insert.execute(arguments: StatementArguments(values))
            }
        }
        try db.execute(sql: "DROP TABLE \(table); ALTER TABLE \(table)_v5 RENAME TO \(table)")
    }
}
