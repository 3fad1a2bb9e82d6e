import GRDB

/// Migrations are plain SQL strings and are never edited once landed: add a new one instead.
/// (v5 converts values SQLite 3.40 cannot convert in SQL, so it is Swift over plain rows.)
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-foundation") { db in
            try db.execute(sql: v1)
        }
        migrator.registerMigration("v2-knowledge") { db in
            try db.execute(sql: v2)
        }
        migrator.registerMigration("v3-recall") { db in
            try db.execute(sql: RecallSchema.v3)
        }
        migrator.registerMigration("v3-sync") { db in
            try db.execute(sql: v3Sync)
        }
        migrator.registerMigration("v4-import") { db in
            try db.execute(sql: ImportSchema.v4)
        }
        migrator.registerMigration("v5-node-ids") { db in
            try v5NodeIDs(db)
        }
        migrator.registerMigration("v6-recall-generation") { db in
            try db.execute(sql: RecallSchema.v6)
        }
        migrator.registerMigration("v7-digest-confidence") { db in
            try db.execute(sql: DigestSchema.v7)
        }
        migrator.registerMigration("v8-hub-rollups") { db in
            try db.execute(sql: HubReadingStore.v8)
        }
        migrator.registerMigration("v9-future-stamps") { db in
            try db.execute(sql: v9FutureStamps)
        }
        migrator.registerMigration("v10-rollup-events") { db in
            try db.execute(sql: ReadingStore.v10)
        }
        migrator.registerMigration("v11-hub-page-counts") { db in
            try db.execute(sql: HubPageStore.v11)
        }
        migrator.registerMigration("v12-simulated-sensors") { db in
            try db.execute(sql: HubSyncStore.v12SimulatedSensors)
        }
        migrator.registerMigration("v13-ops-restore-notices") { db in
            try db.execute(sql: HubSyncStore.v13RestoreNotices)
        }
        return migrator
    }

    static let v1 = """
        -- Key/value facts about this store: node id, incarnation, the rollup cursor.
        CREATE TABLE meta (
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE sensors (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('numeric', 'binary')),
            unit TEXT NOT NULL DEFAULT '',
            device_class TEXT,
            range_min REAL,
            range_max REAL,
            driver TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );

        -- Latest value and health per sensor, so status never scans readings.
        CREATE TABLE sensor_state (
            sensor INTEGER PRIMARY KEY NOT NULL REFERENCES sensors(id),
            last_time INTEGER,
            last_value REAL,
            status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok', 'faulty')),
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            fault_count INTEGER NOT NULL DEFAULT 0,
            rejected_count INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            last_error_at INTEGER
        );

        -- A stretch of time under one boot and one clock quality. Readings point at their epoch,
        -- so readings taken under an untrusted clock can be re-timed later from anchors.
        CREATE TABLE clock_epochs (
            id INTEGER PRIMARY KEY,
            boot_id TEXT NOT NULL,
            quality TEXT NOT NULL CHECK (quality IN ('synced', 'unsynced')),
            started_hlc INTEGER NOT NULL,
            started_monotonic_ns INTEGER NOT NULL
        );

        -- Raw readings: compact numeric rows, no secondary index (each one costs ~20 B/row and
        -- insert speed; queries go through rollups and sensor_state). AUTOINCREMENT keeps ids
        -- contiguous and never reused, so the table is itself the raw-readings sync stream.
        CREATE TABLE readings (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            sensor INTEGER NOT NULL REFERENCES sensors(id),
            time INTEGER NOT NULL,
            value REAL NOT NULL,
            epoch INTEGER NOT NULL REFERENCES clock_epochs(id)
        );

        CREATE TABLE rollups (
            sensor INTEGER NOT NULL REFERENCES sensors(id),
            resolution INTEGER NOT NULL,
            bucket_start INTEGER NOT NULL,
            count INTEGER NOT NULL,
            min REAL,
            max REAL,
            sum REAL NOT NULL,
            last REAL,
            last_time INTEGER,
            on_count INTEGER NOT NULL DEFAULT 0,
            on_duration INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (sensor, resolution, bucket_start)
        ) WITHOUT ROWID;

        -- The last binary state per sensor as seen by the rollup job, carried between batches.
        CREATE TABLE rollup_carry (
            sensor INTEGER PRIMARY KEY NOT NULL REFERENCES sensors(id),
            value REAL NOT NULL,
            time INTEGER NOT NULL
        );

        -- The replicated log: one row per event, id (origin, stream, seq) with contiguous seq.
        CREATE TABLE events (
            origin BLOB NOT NULL CHECK (length(origin) = 16),
            stream TEXT NOT NULL,
            seq INTEGER NOT NULL CHECK (seq >= 1),
            hlc INTEGER NOT NULL,
            boot_id TEXT NOT NULL,
            monotonic_ns INTEGER NOT NULL,
            quality TEXT NOT NULL,
            type TEXT NOT NULL,
            payload BLOB NOT NULL,
            hash BLOB NOT NULL CHECK (length(hash) = 32),
            PRIMARY KEY (origin, stream, seq)
        ) WITHOUT ROWID;
        CREATE INDEX events_by_stream_hlc ON events(stream, hlc);

        CREATE TABLE observations (
            id TEXT PRIMARY KEY NOT NULL,
            origin BLOB NOT NULL,
            kind TEXT NOT NULL,
            subjects TEXT NOT NULL,
            text TEXT NOT NULL,
            evidence TEXT NOT NULL,
            importance REAL NOT NULL,
            generator TEXT NOT NULL CHECK (generator IN ('llm', 'rules')),
            support INTEGER NOT NULL DEFAULT 1,
            time_start INTEGER NOT NULL,
            time_end INTEGER NOT NULL,
            hlc INTEGER NOT NULL
        );
        CREATE INDEX observations_by_time ON observations(time_end);

        CREATE TABLE memories (
            id TEXT PRIMARY KEY NOT NULL,
            origin BLOB NOT NULL,
            kind TEXT NOT NULL,
            subjects TEXT NOT NULL,
            text TEXT NOT NULL,
            confidence REAL NOT NULL,
            importance REAL NOT NULL,
            support INTEGER NOT NULL DEFAULT 1,
            valid_from INTEGER NOT NULL,
            valid_to INTEGER,
            created_at INTEGER NOT NULL,
            expired_at INTEGER,
            supersedes TEXT REFERENCES memories(id),
            hlc INTEGER NOT NULL
        );

        -- What a peer (the hub) durably acknowledged, per stream. Retention trusts only this.
        CREATE TABLE peer_checkpoints (
            peer TEXT NOT NULL,
            stream TEXT NOT NULL,
            acked_seq INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (peer, stream)
        ) WITHOUT ROWID;

        -- The largest clock value ever issued here, so the clock never runs backwards on restart.
        CREATE TABLE clock_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            max_hlc INTEGER NOT NULL
        );
        """

    /// v1's observation and memory tables were never written; v2 replaces them with tables that
    /// are projections of the knowledge streams (see `Knowledge.swift`): a row holds the winning
    /// version, `memory_versions` every version, so history and concurrent siblings stay readable.
    static let v2 = """
        DROP TABLE observations;
        DROP TABLE memories;

        CREATE TABLE observations (
            id TEXT PRIMARY KEY NOT NULL,
            origin BLOB NOT NULL CHECK (length(origin) = 16),
            seq INTEGER NOT NULL,
            hlc INTEGER NOT NULL,
            kind TEXT NOT NULL,
            subjects TEXT NOT NULL,
            text TEXT NOT NULL,
            evidence TEXT NOT NULL,
            importance REAL NOT NULL,
            generator TEXT NOT NULL CHECK (generator IN ('llm', 'rules')),
            support INTEGER NOT NULL,
            time_start INTEGER NOT NULL,
            time_end INTEGER NOT NULL
        );
        CREATE INDEX observations_by_time ON observations(time_end);

        -- The winning version of each memory: highest (hlc, origin, seq) among its versions.
        CREATE TABLE memories (
            id TEXT PRIMARY KEY NOT NULL,
            origin BLOB NOT NULL CHECK (length(origin) = 16),
            seq INTEGER NOT NULL,
            hlc INTEGER NOT NULL,
            first_origin BLOB NOT NULL CHECK (length(first_origin) = 16),
            kind TEXT NOT NULL,
            subjects TEXT NOT NULL,
            text TEXT NOT NULL,
            confidence REAL NOT NULL,
            importance REAL NOT NULL,
            support INTEGER NOT NULL,
            valid_from INTEGER NOT NULL,
            valid_to INTEGER,
            created_at INTEGER NOT NULL,
            expired_at INTEGER,
            supersedes TEXT,
            source TEXT NOT NULL,
            metadata TEXT NOT NULL
        );
        CREATE INDEX memories_by_created ON memories(created_at);

        -- Every version ever seen, keyed by the event that carried it.
        CREATE TABLE memory_versions (
            origin BLOB NOT NULL CHECK (length(origin) = 16),
            seq INTEGER NOT NULL,
            memory_id TEXT NOT NULL,
            hlc INTEGER NOT NULL,
            parent_origin BLOB,
            parent_seq INTEGER,
            record TEXT NOT NULL,
            PRIMARY KEY (origin, seq)
        ) WITHOUT ROWID;
        CREATE INDEX memory_versions_by_memory ON memory_versions(memory_id, hlc);
        """
}
