extension Schema {
    /// Sync (issue 5). Hub-side tables hold enrolled nodes, durable marks and foreign raw
    /// readings; node-side tables hold the sync status and clock anchors. Every store gets all of
    /// them (a node may become a hub), and they stay empty where unused.
    static let v2Sync = """
        -- Hub: nodes allowed to sync, by id. The public key is Ed25519 (32 bytes).
        CREATE TABLE sync_nodes (
            node TEXT PRIMARY KEY NOT NULL CHECK (length(node) = 32),
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
        ) WITHOUT ROWID;

        -- Hub: one-time enrollment tokens, stored as SHA-256 hex only.
        CREATE TABLE sync_tokens (
            token_hash TEXT PRIMARY KEY NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            used_by TEXT
        ) WITHOUT ROWID;

        -- Hub: request nonces seen inside the accepted time window (replay protection).
        CREATE TABLE sync_nonces (
            node TEXT NOT NULL,
            nonce TEXT NOT NULL,
            seen_at INTEGER NOT NULL,
            PRIMARY KEY (node, nonce)
        ) WITHOUT ROWID;

        -- Hub: the durable high-water mark per (origin, stream): everything up to it is here
        -- (or inside a deliberate gap). Written in the same transaction as the data.
        CREATE TABLE sync_marks (
            origin TEXT NOT NULL,
            stream TEXT NOT NULL,
            mark INTEGER NOT NULL CHECK (mark >= 0),
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (origin, stream)
        ) WITHOUT ROWID;

        -- Hub: ranges a node compacted away before sending them (`store.compacted` markers).
        CREATE TABLE sync_gaps (
            origin TEXT NOT NULL,
            stream TEXT NOT NULL,
            from_seq INTEGER NOT NULL,
            to_seq INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            PRIMARY KEY (origin, stream, from_seq)
        ) WITHOUT ROWID;

        -- Hub: identity collisions (same id, different content): a restored or cloned store.
        CREATE TABLE sync_collisions (
            id INTEGER PRIMARY KEY,
            origin TEXT NOT NULL,
            stream TEXT NOT NULL,
            seq INTEGER NOT NULL,
            detail TEXT NOT NULL,
            seen_at INTEGER NOT NULL
        );

        -- Hub: small integer per origin, so foreign readings do not repeat 16-byte ids.
        CREATE TABLE sync_origins (
            ref INTEGER PRIMARY KEY,
            origin TEXT NOT NULL UNIQUE
        );
        CREATE TABLE foreign_sensors (
            id INTEGER PRIMARY KEY,
            origin_ref INTEGER NOT NULL REFERENCES sync_origins(ref),
            key TEXT NOT NULL,
            UNIQUE (origin_ref, key)
        );
        CREATE TABLE foreign_epochs (
            origin_ref INTEGER NOT NULL REFERENCES sync_origins(ref),
            epoch INTEGER NOT NULL,
            boot_id TEXT NOT NULL,
            quality TEXT NOT NULL,
            started_hlc INTEGER NOT NULL,
            started_monotonic_ns INTEGER NOT NULL,
            PRIMARY KEY (origin_ref, epoch)
        ) WITHOUT ROWID;
        -- Other nodes' raw readings, keyed by (origin, the node's own reading id).
        CREATE TABLE foreign_readings (
            origin_ref INTEGER NOT NULL,
            id INTEGER NOT NULL,
            sensor INTEGER NOT NULL,
            time INTEGER NOT NULL,
            value REAL NOT NULL,
            epoch INTEGER NOT NULL,
            PRIMARY KEY (origin_ref, id)
        ) WITHOUT ROWID;

        -- Both sides: (boot id, monotonic time) seen together with the hub's time. Times stamped
        -- under an untrusted clock in that boot can be re-timed from it.
        CREATE TABLE clock_anchors (
            origin TEXT NOT NULL,
            boot_id TEXT NOT NULL,
            monotonic_ns INTEGER NOT NULL,
            hub_time INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            PRIMARY KEY (origin, boot_id)
        ) WITHOUT ROWID;

        -- Events with a repaired time: unsynced stamps of a boot with an anchor get
        -- anchor.hub_time + (monotonic - anchor.monotonic); the original hlc is kept.
        CREATE VIEW events_timed AS
            SELECT e.*, CASE WHEN e.quality = 'unsynced' AND a.hub_time IS NOT NULL
                THEN a.hub_time + (e.monotonic_ns - a.monotonic_ns) / 1000000
                ELSE e.hlc >> 16 END AS corrected_time
            FROM events e LEFT JOIN clock_anchors a ON a.origin = lower(hex(e.origin)) AND a.boot_id = e.boot_id;

        -- Foreign readings with a repaired time: inside an unsynced epoch time advances with the
        -- monotonic clock, so one offset per epoch re-times all of its readings.
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

        -- This node's own readings with a repaired time (same rule, anchors recorded at sync).
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
                AND a.origin = (SELECT value FROM meta WHERE key = 'node_id');

        -- Node: per stream, what the last sync round saw.
        CREATE TABLE sync_status (
            stream TEXT PRIMARY KEY NOT NULL,
            hub_mark INTEGER NOT NULL DEFAULT 0,
            local_max INTEGER NOT NULL DEFAULT 0,
            last_success INTEGER,
            last_error TEXT,
            last_error_at INTEGER
        ) WITHOUT ROWID;
        """
}
