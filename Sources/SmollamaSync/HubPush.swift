import Foundation
import GRDB
import GRDBSQLite
import SmollamaCore
import SmollamaStore

extension SyncHub {
    /// Applies one contiguous range in one transaction, committed with `synchronous=FULL`, and
    /// only then answers with the new durable mark. Everything is validated before the first
    /// write, so a bad batch changes nothing.
    func push(_ request: PushRequest, from node: NodeID) async throws -> PushResponse {
        guard request.node == node else {
            throw SyncRefusal.forbidden("origin_mismatch", "the batch names node \(request.node) but was signed by \(node); a node may only send its own data")
        }
        guard request.fromSeq >= 1, request.toSeq >= request.fromSeq else {
            throw SyncRefusal.bad("'fromSeq' must be ≥ 1 and 'toSeq' ≥ 'fromSeq' (got \(request.fromSeq)…\(request.toSeq))")
        }
        let origin = node.hex
        let time = now()
        let incarnation = try await incarnation()
        if request.stream == SyncProtocol.readingsStream {
            guard let columns = request.readings, request.events == nil else {
                throw SyncRefusal.bad("a readings batch carries 'readings' columns and no 'events'")
            }
            let rows = try Self.validate(columns, from: request.fromSeq, to: request.toSeq)
            let (mark, counts) = try await durably { db in
                try Self.applyReadings(db, origin: origin, columns: columns, rows: rows, request: request, now: time)
            }
            return PushResponse(stream: request.stream, mark: mark, hubIncarnation: incarnation,
                                inserted: counts.inserted, duplicates: counts.duplicates, collisions: counts.collisions)
        }
        guard let stream = EventStream(rawValue: request.stream) else {
            throw SyncRefusal.bad("unknown stream '\(request.stream)'; streams are \(SyncProtocol.pushOrder.joined(separator: ", "))")
        }
        guard let events = request.events, request.readings == nil else {
            throw SyncRefusal.bad("an event batch carries 'events' and no 'readings'")
        }
        guard events.count == request.toSeq - request.fromSeq + 1 else {
            throw SyncRefusal.bad("the batch covers \(request.fromSeq)…\(request.toSeq) but holds \(events.count) events; send every event of the range")
        }
        for (offset, event) in events.enumerated() {
            guard event.origin == node else {
                throw SyncRefusal.forbidden("origin_mismatch", "event \(offset) has origin \(event.origin) but the batch was signed by \(node)")
            }
            guard event.stream == stream, event.seq == request.fromSeq + Int64(offset) else {
                throw SyncRefusal.bad("event \(offset) is \(event.stream.rawValue)/\(event.seq); expected \(stream.rawValue)/\(request.fromSeq + Int64(offset))")
            }
            guard event.hashIsValid else {
                throw SyncRefusal.bad("event \(stream.rawValue)/\(event.seq) does not match its hash (corrupted in transit); nothing was applied")
            }
            guard event.payload.count <= 1 << 20 else {
                throw SyncRefusal(413, "too_large", "event \(stream.rawValue)/\(event.seq) has a payload over 1 MiB")
            }
        }
        let (mark, counts) = try await durably { db in
            try Self.applyEvents(db, origin: origin, events: events, request: request, now: time)
        }
        return PushResponse(stream: request.stream, mark: mark, hubIncarnation: incarnation,
                            inserted: counts.inserted, duplicates: counts.duplicates, collisions: counts.collisions)
    }

    struct Counts {
        var inserted = 0
        var duplicates = 0
        var collisions = 0
    }

    /// One transaction with `synchronous=FULL`: the acknowledgement is sent only after an fsync.
    func durably<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let hook = beforeCommit
        return try await database.writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
            var result: T?
            try db.inTransaction {
                result = try body(db)
                try hook()
                return .commit
            }
            guard let result else { throw SyncRefusal(500, "internal", "the transaction produced no result") }
            return result
        }
    }

    static func checkContinuity(_ db: Database, origin: String, stream: String, from: Int64) throws -> Int64 {
        let mark = try mark(db, origin: origin, stream: stream)
        guard try mayContinue(db, origin: origin, stream: stream, mark: mark, from: from) else {
            throw SyncRefusal(409, "gap", "the hub holds \(stream) of this node up to \(mark); send from \(mark + 1)")
        }
        return mark
    }

    static func applyEvents(_ db: Database, origin: String, events: [Event], request: PushRequest, now: Int64) throws
        -> (Int64, Counts)
    {
        let mark = try checkContinuity(db, origin: origin, stream: request.stream, from: request.fromSeq)
        var counts = Counts()
        for event in events {
            switch try SmollamaDatabase.apply(db, event) {
            case .inserted:
                counts.inserted += 1
                if event.stream == .control && event.type == SyncProtocol.compactedType {
                    try recordCompaction(db, origin: origin, event: event, now: now)
                }
            case .duplicate:
                counts.duplicates += 1
            case .collision:
                counts.collisions += 1
                try recordCollision(db, origin: origin, stream: request.stream, seq: event.seq,
                                    detail: "same event id, different content (restored or cloned node store)", now: now)
            }
        }
        try setMark(db, origin: origin, stream: request.stream, mark: max(mark, request.toSeq), now: now)
        try reduceBacklog(db, origin: origin, by: counts.inserted)
        return (try Self.mark(db, origin: origin, stream: request.stream), counts)
    }

    /// The backlog reported at handshake, less what arrived since.
    static func reduceBacklog(_ db: Database, origin: String, by count: Int) throws {
        guard count > 0 else { return }
        try db.execute(sql: "UPDATE sync_nodes SET backlog = max(0, backlog - ?) WHERE node = ?", arguments: [count, origin])
    }

    static func recordCollision(_ db: Database, origin: String, stream: String, seq: Int64, detail: String, now: Int64) throws {
        try db.execute(sql: "INSERT INTO sync_collisions (origin, stream, seq, detail, seen_at) VALUES (?, ?, ?, ?, ?)",
                       arguments: [origin, stream, seq, detail, now])
        try db.execute(sql: "UPDATE sync_nodes SET collisions = collisions + 1 WHERE node = ?", arguments: [origin])
    }

    /// A `store.compacted` marker: the range is a deliberate gap, and the mark may cross it.
    static func recordCompaction(_ db: Database, origin: String, event: Event, now: Int64) throws {
        guard let marker = try? JSONDecoder().decode(CompactedMarker.self, from: event.payload),
              marker.fromSeq >= 1, marker.toSeq >= marker.fromSeq
        else { return }
        try db.execute(
            sql: "INSERT OR IGNORE INTO sync_gaps (origin, stream, from_seq, to_seq, recorded_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [origin, marker.stream, marker.fromSeq, marker.toSeq, now])
        let current = try mark(db, origin: origin, stream: marker.stream)
        if current + 1 >= marker.fromSeq {
            try setMark(db, origin: origin, stream: marker.stream, mark: max(current, marker.toSeq), now: now)
        }
    }

    struct ReadingRow {
        var id: Int64
        var sensor: Int
        var time: Int64
        var value: Double
        var epoch: Int
    }

    /// Checks a readings batch completely before anything is written.
    static func validate(_ columns: ReadingColumns, from: Int64, to: Int64) throws -> [ReadingRow] {
        let count = columns.id.count
        guard count > 0 || from <= to else { throw SyncRefusal.bad("an empty readings batch") }
        guard columns.sensor.count == count, columns.time.count == count, columns.value.count == count,
              columns.epoch.count == count
        else {
            throw SyncRefusal.bad("the readings columns differ in length (id \(count), sensor \(columns.sensor.count), time \(columns.time.count), value \(columns.value.count), epoch \(columns.epoch.count))")
        }
        guard count <= to - from + 1 else { throw SyncRefusal.bad("more readings than ids in \(from)…\(to)") }
        for key in columns.sensors where !SensorID.validate(key) {
            throw SyncRefusal.bad("'\(key)' is not a valid sensor id")
        }
        var rows: [ReadingRow] = []
        rows.reserveCapacity(count)
        var id = from - 1
        var time: Int64 = 0
        for index in 0..<count {
            let delta = columns.id[index]
            guard delta >= 1 else { throw SyncRefusal.bad("reading ids must increase (row \(index))") }
            id += delta
            time = index == 0 ? columns.time[0] : time &+ columns.time[index]
            let sensor = columns.sensor[index], epoch = columns.epoch[index]
            guard columns.sensors.indices.contains(sensor), columns.epochs.indices.contains(epoch) else {
                throw SyncRefusal.bad("row \(index) refers to sensor \(sensor) or epoch \(epoch), which the batch does not list")
            }
            guard columns.value[index].isFinite else { throw SyncRefusal.bad("row \(index) has a value that is not a finite number") }
            rows.append(ReadingRow(id: id, sensor: sensor, time: time, value: columns.value[index], epoch: epoch))
        }
        guard id <= to else { throw SyncRefusal.bad("reading ids run past 'toSeq' (\(id) > \(to))") }
        return rows
    }

    static func originRef(_ db: Database, origin: String) throws -> Int64 {
        try db.execute(sql: "INSERT OR IGNORE INTO sync_origins (origin) VALUES (?)", arguments: [origin])
        guard let ref = try Int64.fetchOne(db, sql: "SELECT ref FROM sync_origins WHERE origin = ?", arguments: [origin]) else {
            throw SyncRefusal(500, "internal", "origin \(origin) could not be registered")
        }
        return ref
    }

    static func applyReadings(_ db: Database, origin: String, columns: ReadingColumns, rows: [ReadingRow],
                              request: PushRequest, now: Int64) throws -> (Int64, Counts) {
        let stream = SyncProtocol.readingsStream
        let mark = try checkContinuity(db, origin: origin, stream: stream, from: request.fromSeq)
        let ref = try originRef(db, origin: origin)
        var sensorIDs: [Int64] = []
        for key in columns.sensors {
            try db.execute(sql: "INSERT OR IGNORE INTO foreign_sensors (origin_ref, key) VALUES (?, ?)", arguments: [ref, key])
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM foreign_sensors WHERE origin_ref = ? AND key = ?",
                                              arguments: [ref, key])
            else { throw SyncRefusal(500, "internal", "sensor \(key) could not be registered") }
            sensorIDs.append(id)
        }
        for epoch in columns.epochs {
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO foreign_epochs (origin_ref, epoch, boot_id, quality, started_hlc, started_monotonic_ns)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [ref, epoch.id, epoch.bootID, epoch.quality, epoch.startedHLC, epoch.startedMonotonicNanoseconds])
        }
        var counts = Counts()
        let insert = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO foreign_readings (origin_ref, id, sensor, time, value, epoch) VALUES (?, ?, ?, ?, ?, ?)")
        let handle = insert.sqliteStatement
        for row in rows {
            if row.id <= mark {
                // Already here: the same reading is a duplicate, another one a collision.
                let existing = try Row.fetchOne(
                    db, sql: "SELECT sensor, time, value FROM foreign_readings WHERE origin_ref = ? AND id = ?",
                    arguments: [ref, row.id])
                if let existing, existing["sensor"] == sensorIDs[row.sensor], existing["time"] == row.time,
                   existing["value"] == row.value
                {
                    counts.duplicates += 1
                } else if existing != nil {
                    counts.collisions += 1
                    try recordCollision(db, origin: origin, stream: stream, seq: row.id,
                                        detail: "same reading id, different reading (restored or cloned node store)", now: now)
                }
                continue
            }
            sqlite3_bind_int64(handle, 1, ref)
            sqlite3_bind_int64(handle, 2, row.id)
            sqlite3_bind_int64(handle, 3, sensorIDs[row.sensor])
            sqlite3_bind_int64(handle, 4, row.time)
            sqlite3_bind_double(handle, 5, row.value)
            sqlite3_bind_int64(handle, 6, columns.epochs[row.epoch].id)
            let code = sqlite3_step(handle)
            sqlite3_reset(handle)
            guard code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            if sqlite3_changes(db.sqliteConnection) > 0 { counts.inserted += 1 } else { counts.duplicates += 1 }
        }
        try setMark(db, origin: origin, stream: stream, mark: max(mark, request.toSeq), now: now)
        try reduceBacklog(db, origin: origin, by: counts.inserted)
        return (try Self.mark(db, origin: origin, stream: stream), counts)
    }

    // MARK: pull

    /// Pages other origins' shared events after the node's version vector. Ordered by
    /// (stream, origin, seq); the vector is the cursor, so ingest during paging cannot make the
    /// node skip or repeat an event.
    func pull(_ request: PullRequest, from node: NodeID) async throws -> PullResponse {
        guard request.node == node else {
            throw SyncRefusal.forbidden("origin_mismatch", "the pull names node \(request.node) but was signed by \(node)")
        }
        var streams: [EventStream] = []
        for name in request.streams {
            guard let stream = EventStream(rawValue: name), SyncProtocol.pullableStreams.contains(stream) else {
                throw SyncRefusal.bad("stream '\(name)' cannot be pulled; pullable streams are \(SyncProtocol.pullableStreams.map(\.rawValue).joined(separator: ", "))")
            }
            streams.append(stream)
        }
        guard (1...5000).contains(request.limit) else { throw SyncRefusal.bad("'limit' must be 1…5000") }
        var have: [String: Int64] = [:]
        for entry in request.have { have[entry.origin.hex + "/" + entry.stream] = entry.seq }
        let limit = request.limit
        let wanted = streams, held = have
        return try await database.reader.read { db in
            var events: [Event] = []
            for stream in wanted {
                let origins = try Data.fetchAll(db, sql: "SELECT DISTINCT origin FROM events WHERE stream = ? ORDER BY origin",
                                                arguments: [stream.rawValue])
                for originBytes in origins where originBytes != Data(node.bytes) {
                    let after = held[[UInt8](originBytes).hexString + "/" + stream.rawValue] ?? 0
                    let rows = try Row.fetchAll(
                        db, sql: "SELECT * FROM events WHERE origin = ? AND stream = ? AND seq > ? ORDER BY seq LIMIT ?",
                        arguments: [originBytes, stream.rawValue, after, limit + 1 - events.count])
                    for row in rows {
                        if events.count == limit { return PullResponse(events: events, more: true) }
                        events.append(try SmollamaDatabase.event(from: row))
                    }
                }
            }
            return PullResponse(events: events, more: false)
        }
    }
}
