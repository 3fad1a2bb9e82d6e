import Foundation
import GRDB
public import SmollamaCore

/// The reads behind the hub's pages (home, compare, memory explorer, thoughts) that the other
/// stores do not already answer: observations across nodes in arrival order, memories by the
/// explorer's filters, the sensors every node synced, a node's rollup progress. Read-only.
public struct HubPageStore: FeatureStore {
    let database: SmollamaDatabase

    /// An observation with the position it arrived at on this store (its `observations` rowid):
    /// synced observations arrive with old stamps, so arrival order is what a live page follows.
    public struct Arrival: Sendable, Hashable {
        public var arrival: Int64
        public var observation: StoredObservation
    }

    /// Which memories the explorer lists.
    public struct MemoryFilter: Sendable, Hashable {
        public enum Validity: Sendable, Hashable {
            /// Every version that won, whatever its validity.
            case any
            /// Valid now: world validity open and still believed.
            case now
            /// Valid at this time in the world (`validFrom <= t < validTo`), whenever it was learned,
            /// and not given up (deleted) by then.
            case at(UTCMillis)
        }

        public enum Superseded: String, Sendable, Hashable, CaseIterable {
            /// Memories a newer memory replaced, and the others.
            case include
            /// Only memories no newer memory replaced.
            case exclude
            /// Only memories a newer memory replaced.
            case only
        }

        /// The node that first wrote the memory.
        public var origins: [NodeID]?
        public var kind: String?
        /// Only these ids (a search's hits, in any order).
        public var ids: [String]?
        public var validity: Validity
        public var superseded: Superseded

        public init(origins: [NodeID]? = nil, kind: String? = nil, ids: [String]? = nil, validity: Validity = .any,
                    superseded: Superseded = .include) {
            self.origins = origins
            self.kind = kind
            self.ids = ids
            self.validity = validity
            self.superseded = superseded
        }
    }

    /// A node's rollup progress on the hub: the largest synced reading id folded into its
    /// rollups, and the newest hourly bucket it has.
    public struct RollupProgress: Codable, Sendable, Hashable {
        public var rolledUpTo: Int64
        public var newestHour: UTCMillis?
    }

    // MARK: observations

    /// Observations newest first (by the end of their span), optionally of some nodes and kinds.
    public func observations(origins: [NodeID]? = nil, kinds: [String]? = nil, limit: Int) async throws -> [StoredObservation] {
        try await reader.read { db in
            if origins == nil, kinds == nil {  // the home page's, on every load: prepared once per connection
                return try ObservationRow.fetchAll(
                    db.cachedStatement(sql: "SELECT * FROM observations ORDER BY time_end DESC LIMIT ?"), arguments: [limit]
                ).map(\.stored)
            }
            var request = ObservationRow.all()
            if let origins { request = request.filter(origins.contains(ObservationRow.Columns.origin)) }
            if let kinds { request = request.filter(kinds.contains(Column("kind"))) }
            return try request.order(ObservationRow.Columns.timeEnd.desc).limit(limit).fetchAll(db).map(\.stored)
        }
    }

    /// Observations that arrived after `arrival`, in arrival order (what the thoughts page follows).
    public func arrivals(after arrival: Int64, limit: Int) async throws -> [Arrival] {
        try await reader.read { db in
            try Row.fetchAll(db, sql: "SELECT rowid AS arrival, * FROM observations WHERE rowid > ? ORDER BY rowid LIMIT ?",
                             arguments: [arrival, limit]).map { row in
                Arrival(arrival: row["arrival"], observation: try ObservationRow(row: row).stored)
            }
        }
    }

    /// The newest observation's arrival position; 0 for none. Only what arrives after it is news.
    public func newestArrival() async throws -> Int64 {
        try await reader.read { db in try Int64.fetchOne(db, sql: "SELECT max(rowid) FROM observations") ?? 0 }
    }

    /// Up to `limit` observations of `origin` about any of `subjects` whose span overlaps
    /// [from, to), newest first: what a memory about those sensors was learned from. The
    /// subjects travel as one JSON list, so the statement is compiled once per connection (the
    /// explorer runs it for each of its 50 memories; compiling it each time was a tenth of a
    /// search's CPU).
    static func observations(_ db: Database, origin: NodeID, subjects: [String], from: UTCMillis, to: UTCMillis, limit: Int)
        throws -> [StoredObservation]
    {
        guard !subjects.isEmpty else { return [] }
        let statement = try db.cachedStatement(sql: """
            SELECT * FROM observations
            WHERE origin = ? AND time_end >= ? AND time_start < ?
              AND EXISTS (SELECT 1 FROM json_each(observations.subjects) s
                          WHERE s.value IN (SELECT value FROM json_each(?)))
            ORDER BY time_end DESC LIMIT ?
            """)
        let list = String(decoding: try JSONEncoder().encode(subjects), as: UTF8.self)
        return try ObservationRow.fetchAll(statement, arguments: [origin, from, to, list, limit]).map(\.stored)
    }

    // MARK: memories

    /// Winning memory versions matching `filter`, newest first by creation.
    public func memories(_ filter: MemoryFilter, limit: Int) async throws -> [StoredMemory] {
        try await reader.read { db in
            var request = MemoryRow.withVersion()
            if let origins = filter.origins { request = request.filter(origins.contains(Column("first_origin"))) }
            if let kind = filter.kind { request = request.filter(Column("kind") == kind) }
            if let ids = filter.ids { request = request.filter(ids.contains(MemoryRow.Columns.id)) }
            switch filter.validity {
            case .any: break
            case .now:
                request = request.filter(MemoryRow.Columns.validTo == nil && MemoryRow.Columns.expiredAt == nil)
            case .at(let time):
                request = request.filter(Column("valid_from") <= time
                    && (MemoryRow.Columns.validTo == nil || MemoryRow.Columns.validTo > time)
                    && (MemoryRow.Columns.expiredAt == nil || MemoryRow.Columns.expiredAt > time))
            }
            let replaced = "EXISTS (SELECT 1 FROM memories newer WHERE newer.supersedes = memories.id)"
            switch filter.superseded {
            case .include: break
            case .exclude: request = request.filter(sql: "NOT " + replaced)
            case .only: request = request.filter(sql: replaced)
            }
            return try request.order(MemoryRow.Columns.createdAt.desc).limit(limit).fetchAll(db).map(\.stored)
        }
    }

    /// Of `ids`, those a newer memory names in `supersedes`, each with the id of the newer one.
    public func supersededBy(_ ids: [String]) async throws -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        return try await reader.read { db in
            var newer: [String: String] = [:]
            for row in try Row.fetchAll(
                db,
                sql: "SELECT id, supersedes FROM memories WHERE supersedes IN (\(databaseQuestionMarks(count: ids.count)))",
                arguments: StatementArguments(ids))
            {
                newer[row["supersedes"] as String] = row["id"] as String
            }
            return newer
        }
    }

    /// The kinds of memories and of observations held, each sorted.
    public func kinds() async throws -> (memories: [String], observations: [String]) {
        try await reader.read { db in
            (try String.fetchAll(db, sql: "SELECT DISTINCT kind FROM memories ORDER BY kind"),
             try String.fetchAll(db, sql: "SELECT DISTINCT kind FROM observations ORDER BY kind"))
        }
    }

    // MARK: sensors and rollups

    /// Every sensor key each node synced (the hub knows foreign sensors by key), sorted by key.
    public func foreignSensorKeys() async throws -> [NodeID: [SensorID]] {
        try await reader.read { db in
            var keys: [NodeID: [SensorID]] = [:]
            for row in try Row.fetchAll(db.cachedStatement(
                sql: "SELECT o.origin, s.key FROM foreign_sensors s JOIN sync_origins o ON o.ref = s.origin_ref ORDER BY s.key"))
            {
                keys[row[0] as NodeID, default: []].append(SensorID(row[1] as String))
            }
            return keys
        }
    }

    /// Where a node's rollups on the hub have got to; nil for a node that synced no readings.
    public func rollupProgress(node: NodeID) async throws -> RollupProgress? {
        try await reader.read { db in
            guard let ref = try HubReadingStore.originRef(db, node: node),
                  let cursor = try Int64.fetchOne(
                      db, sql: "SELECT rolled_up FROM foreign_rollup_cursors WHERE origin_ref = ?", arguments: [ref])
            else { return nil }
            // Per sensor, so each max is the end of one primary-key range (a max over the node's
            // whole range with the sensor free scans every rollup of the node).
            let newest = try Int64.fetchOne(
                db,
                sql: """
                    SELECT max((SELECT max(r.bucket_start) FROM foreign_rollups r
                                WHERE r.origin_ref = s.origin_ref AND r.sensor = s.id AND r.resolution = ?))
                    FROM foreign_sensors s WHERE s.origin_ref = ?
                    """,
                arguments: [Rollup.Resolution.hour.rawValue, ref])
            return RollupProgress(rolledUpTo: cursor, newestHour: newest.map(UTCMillis.init(rawValue:)))
        }
    }
}

extension SmollamaDatabase {
    public var hubPages: HubPageStore { HubPageStore(database: self) }
}
