import Foundation
import GRDB
public import SmollamaCore

/// What happened when a foreign event was offered to the log.
public enum EventApplyOutcome: Hashable, Sendable {
    case inserted
    /// Same id, same hash: already here.
    case duplicate
    /// Same id, different hash: two stores claim one identity.
    case collision
}

extension EventStore {
    /// Appends an event of this node to the body's stream, assigning the next contiguous seq in
    /// the same transaction as the write it describes.
    @discardableResult
    public func appendEvent(_ body: EventBody, origin: NodeID, stamp: ClockStamp) async throws -> Event {
        try await writer.write { db in try Self.appendEvent(db, body, origin: origin, stamp: stamp) }
    }

    @discardableResult
    static func appendEvent(_ db: Database, _ body: EventBody, origin: NodeID, stamp: ClockStamp) throws -> Event {
        // Past the floor: after a power cut the hub may hold numbers this store lost.
        let last = max(try EventRow.lastSeq(db, origin, body.stream), try seqFloor(db, body.stream))
        let event = try Event(origin: origin, seq: last + 1, stamp: stamp, body: body)
        try insert(db, event)
        try MetaStore.raiseClock(db, to: stamp.hlc)
        return event
    }

    /// Offers an event from elsewhere (sync); idempotent by id and hash. An event whose hash
    /// does not match its content is refused: it was corrupted or forged on the way.
    public func apply(_ event: Event) async throws -> EventApplyOutcome {
        guard event.hashIsValid else {
            throw StoreError.invalidEventHash(origin: event.origin.hex, stream: event.stream.rawValue, seq: event.seq)
        }
        return try await writer.write { db in try Self.apply(db, event) }
    }

    /// `apply` inside a caller's transaction (sync applies a whole batch in one). The hash must
    /// have been checked by the caller. Every foreign event enters the store through here.
    static func apply(_ db: Database, _ event: Event) throws -> EventApplyOutcome {
        let key: [String: (any DatabaseValueConvertible)?] = [
            "origin": event.origin, "stream": event.stream.rawValue, "seq": event.seq,
        ]
        if let existing = try EventRow.fetchOne(db, key: key) {
            return existing.hash == event.hash ? .duplicate : .collision
        }
        try insert(db, event)
        return .inserted
    }

    private static func insert(_ db: Database, _ event: Event) throws {
        try EventRow(event).insert(db)
        try KnowledgeStore.project(db, event)
    }

    /// The newest `limit` events of the given streams, newest first.
    ///
    /// One index walk per stream (`events_by_stream_hlc`, newest first, `limit` rows each), merged
    /// here: `stream IN (…) ORDER BY hlc` over several streams cannot use the index's order and
    /// sorted every event the streams hold, so a page's twelve log lines cost more as history grew.
    public func recentEvents(streams: [EventStream], limit: Int) async throws -> [Event] {
        try await reader.read { db in
            // A cached statement: generating and authorizing the SQL on each call cost as much
            // as running it.
            let newest = try db.cachedStatement(sql: "SELECT * FROM events WHERE stream = ? ORDER BY hlc DESC LIMIT ?")
            var rows: [EventRow] = []
            var seen: Set<EventStream> = []
            for stream in streams where seen.insert(stream).inserted {
                rows += try EventRow.fetchAll(newest, arguments: [stream.rawValue, limit])
            }
            if seen.count > 1 {
                // Stable: equal stamps keep their stream's order.
                rows = rows.enumerated().sorted { ($0.element.hlc, $1.offset) > ($1.element.hlc, $0.offset) }.map(\.element)
            }
            return try rows.prefix(limit).map { try $0.event() }
        }
    }

    /// One origin's newest `limit` events of a stream, newest first (a node's page on the hub).
    public func recentEvents(origin: NodeID, stream: EventStream, limit: Int) async throws -> [Event] {
        try await reader.read { db in
            // Cached, as `recentEvents(streams:limit:)`: the `/api/v1/nodes/ID/observations` list.
            let newest = try db.cachedStatement(sql: "SELECT * FROM events WHERE origin = ? AND stream = ? ORDER BY seq DESC LIMIT ?")
            return try EventRow.fetchAll(newest, arguments: [origin, stream.rawValue, limit]).map { try $0.event() }
        }
    }

    /// One origin's newest `limit` events of the given streams, newest first, each with its
    /// repaired time (`events_timed.corrected_time`).
    public func recentTimedEvents(origin: NodeID, streams: [EventStream], limit: Int) async throws
        -> [(event: Event, time: UTCMillis)]
    {
        try await reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM events_timed WHERE origin = ? AND stream IN (\(databaseQuestionMarks(count: streams.count)))
                    ORDER BY hlc DESC LIMIT ?
                    """,
                arguments: StatementArguments([origin as any DatabaseValueConvertible] + streams.map { $0.rawValue as any DatabaseValueConvertible }
                                               + [limit as any DatabaseValueConvertible])
            ).map { (try EventRow(row: $0).event(), UTCMillis(rawValue: $0["corrected_time"])) }
        }
    }

    /// Events of the given streams stamped after `hlc`, oldest first (for following a log).
    public func fetch(streams: [EventStream], after hlc: HLCTimestamp, limit: Int) async throws -> [Event] {
        try await reader.read { db in
            try EventRow.of(streams).filter(EventRow.Columns.hlc > hlc).order(EventRow.Columns.hlc).limit(limit)
                .fetchAll(db).map { try $0.event() }
        }
    }

    public func fetch(origin: NodeID, stream: EventStream, afterSeq: Int64 = 0, limit: Int = 1000) async throws -> [Event] {
        try await reader.read { db in
            try EventRow.of(origin, stream).filter(EventRow.Columns.seq > afterSeq).order(EventRow.Columns.seq).limit(limit)
                .fetchAll(db).map { try $0.event() }
        }
    }
}

extension EventStore {
    /// How many events of one origin each stream holds (the hub's per-node counts), from
    /// `event_counts` (kept by triggers on `events`, migration v11): nothing is counted here.
    public func eventCounts(origin: NodeID) async throws -> [EventStream: Int] {
        try await reader.read { db in try Self.eventCounts(db)[origin] ?? [:] }
    }

    /// The clock quality of the newest stamp `origin` put on an event (each stream's last event,
    /// the newest by HLC; a primary-key lookup per stream); nil when it wrote none. A node with no
    /// readings has no clock epoch, and this is its clock as its own log last saw it.
    public func newestStampQuality(origin: NodeID) async throws -> ClockQuality? {
        try await reader.read { db in
            var newest: (hlc: Int64, quality: String)?
            for stream in EventStream.allCases {
                guard let row = try Row.fetchOne(
                    db, sql: "SELECT hlc, quality FROM events WHERE origin = ? AND stream = ? ORDER BY seq DESC LIMIT 1",
                    arguments: [origin, stream.rawValue])
                else { continue }
                let hlc: Int64 = row[0]
                if hlc > newest?.hlc ?? .min { newest = (hlc, row[1]) }
            }
            return newest.flatMap { ClockQuality(rawValue: $0.quality) }
        }
    }

    /// Events held per origin and stream (`event_counts`).
    static func eventCounts(_ db: Database) throws -> [NodeID: [EventStream: Int]] {
        var counts: [NodeID: [EventStream: Int]] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: "SELECT origin, stream, count FROM event_counts WHERE count > 0")) {
            guard let stream = EventStream(rawValue: row[1]) else { continue }
            counts[row[0] as NodeID, default: [:]][stream] = row[2]
        }
        return counts
    }

    /// How many events each of the given streams holds, every origin together (the dashboard's
    /// counts), from `event_counts`.
    public func eventCounts(streams: [EventStream]) async throws -> [EventStream: Int] {
        try await reader.read { db in
            var counts: [EventStream: Int] = [:]
            for perStream in try Self.eventCounts(db).values {
                for (stream, count) in perStream where streams.contains(stream) { counts[stream, default: 0] += count }
            }
            return counts
        }
    }
}
