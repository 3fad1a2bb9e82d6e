extension Schema {
    /// v8 (issue 18): a stamp more than 10 minutes (`HybridLogicalClock.Policy.remoteStampTolerance`)
    /// ahead of what the boot's clock anchor says the time was is untrusted, whatever quality its
    /// node claimed: a node whose clock runs a year fast stamps `synced`. Such stamps are repaired
    /// like `unsynced` ones (anchor time + monotonic elapsed); the rows keep what was sent (an
    /// event's hash covers its stamp). Readings are judged per epoch, as they are repaired.
    static let v9FutureStamps = """
        DROP VIEW events_timed;
        DROP VIEW foreign_readings_timed;
        DROP VIEW readings_timed;

        CREATE VIEW events_timed AS
            SELECT e.*, CASE WHEN a.hub_time IS NOT NULL AND (e.quality = 'unsynced'
                    OR (e.hlc >> 16) > a.hub_time + (e.monotonic_ns - a.monotonic_ns) / 1000000 + 600000)
                THEN a.hub_time + (e.monotonic_ns - a.monotonic_ns) / 1000000
                ELSE e.hlc >> 16 END AS corrected_time
            FROM events e LEFT JOIN clock_anchors a ON a.origin = e.origin AND a.boot_id = e.boot_id;

        CREATE VIEW foreign_readings_timed AS
            SELECT o.origin AS origin, r.id, s.key AS sensor, r.time, r.value,
                CASE WHEN a.hub_time IS NOT NULL AND (ep.quality = 'unsynced'
                        OR (ep.started_hlc >> 16) - ep.started_monotonic_ns / 1000000
                            > a.hub_time - a.monotonic_ns / 1000000 + 600000)
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
                CASE WHEN a.hub_time IS NOT NULL AND (ep.quality = 'unsynced'
                        OR (ep.started_hlc >> 16) - ep.started_monotonic_ns / 1000000
                            > a.hub_time - a.monotonic_ns / 1000000 + 600000)
                    THEN r.time + a.hub_time - a.monotonic_ns / 1000000
                        - (ep.started_hlc >> 16) + ep.started_monotonic_ns / 1000000
                    ELSE r.time END AS corrected_time
            FROM readings r
            JOIN sensors s ON s.id = r.sensor
            JOIN clock_epochs ep ON ep.id = r.epoch
            LEFT JOIN clock_anchors a ON a.boot_id = ep.boot_id
                AND lower(hex(a.origin)) = (SELECT value FROM meta WHERE key = 'node_id');
        """
}
