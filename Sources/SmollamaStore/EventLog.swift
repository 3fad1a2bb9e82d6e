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
        let last = try Int64.fetchOne(
            db, sql: "SELECT max(seq) FROM events WHERE origin = ? AND stream = ?",
            arguments: [Data(origin.bytes), body.stream.rawValue]) ?? 0
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
        let existing = try Data.fetchOne(
            db, sql: "SELECT hash FROM events WHERE origin = ? AND stream = ? AND seq = ?",
            arguments: [Data(event.origin.bytes), event.stream.rawValue, event.seq])
        if let existing { return existing == event.hash ? .duplicate : .collision }
        try insert(db, event)
        return .inserted
    }

    private static func insert(_ db: Database, _ event: Event) throws {
        try db.execute(
            sql: """
                INSERT INTO events (origin, stream, seq, hlc, boot_id, monotonic_ns, quality, type, payload, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                Data(event.origin.bytes), event.stream.rawValue, event.seq, event.stamp.hlc.rawValue,
                event.stamp.bootID, Int64(bitPattern: event.stamp.monotonicNanoseconds),
                event.stamp.quality.rawValue, event.type, event.payload, event.hash,
            ])
        try KnowledgeStore.project(db, event)
    }

    /// The newest `limit` events of the given streams, newest first.
    public func recentEvents(streams: [EventStream], limit: Int) async throws -> [Event] {
        try await reader.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM events WHERE stream IN (\(databaseQuestionMarks(count: streams.count))) "
                    + "ORDER BY hlc DESC LIMIT ?",
                arguments: StatementArguments(streams.map(\.rawValue)) + [limit]
            ).map(Self.event(from:))
        }
    }

    /// Events of the given streams stamped after `hlc`, oldest first (for following a log).
    public func fetch(streams: [EventStream], after hlc: HLCTimestamp, limit: Int) async throws -> [Event] {
        try await reader.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM events WHERE stream IN (\(databaseQuestionMarks(count: streams.count))) "
                    + "AND hlc > ? ORDER BY hlc LIMIT ?",
                arguments: StatementArguments(streams.map(\.rawValue)) + [hlc.rawValue, limit]
            ).map(Self.event(from:))
        }
    }

    public func fetch(origin: NodeID, stream: EventStream, afterSeq: Int64 = 0, limit: Int = 1000) async throws -> [Event] {
        try await reader.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM events WHERE origin = ? AND stream = ? AND seq > ? ORDER BY seq LIMIT ?",
                arguments: [Data(origin.bytes), stream.rawValue, afterSeq, limit]
            ).map(Self.event(from:))
        }
    }

    static func event(from row: Row) throws -> Event {
        let originBytes: Data = row["origin"]
        let streamName: String = row["stream"]
        let qualityName: String = row["quality"]
        guard let stream = EventStream(rawValue: streamName), let quality = ClockQuality(rawValue: qualityName) else {
            throw DatabaseError(message: "event row has unknown stream '\(streamName)' or quality '\(qualityName)'")
        }
        return Event(
            stored: NodeID(bytes: [UInt8](originBytes)), stream: stream, seq: row["seq"],
            stamp: ClockStamp(
                hlc: HLCTimestamp(rawValue: row["hlc"]), bootID: row["boot_id"],
                monotonicNanoseconds: UInt64(bitPattern: row["monotonic_ns"]), quality: quality),
            type: row["type"], payload: row["payload"], hash: row["hash"])
    }
}

extension EventStore {
    /// How many events of one origin each stream holds (the hub's per-node counts).
    public func eventCounts(origin: NodeID) async throws -> [EventStream: Int] {
        try await reader.read { db in
            var counts: [EventStream: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT stream, count(*) AS n FROM events WHERE origin = ? GROUP BY stream",
                arguments: [Data(origin.bytes)])
            {
                if let stream = EventStream(rawValue: row["stream"]) { counts[stream] = row["n"] }
            }
            return counts
        }
    }

    /// How many events each of the given streams holds (the dashboard's counts).
    public func eventCounts(streams: [EventStream]) async throws -> [EventStream: Int] {
        try await reader.read { db in
            var counts: [EventStream: Int] = [:]
            for row in try Row.fetchAll(
                db,
                sql: "SELECT stream, count(*) AS n FROM events WHERE stream IN (\(databaseQuestionMarks(count: streams.count))) "
                    + "GROUP BY stream",
                arguments: StatementArguments(streams.map(\.rawValue)))
            {
                if let stream = EventStream(rawValue: row["stream"]) { counts[stream] = row["n"] }
            }
            return counts
        }
    }
}
