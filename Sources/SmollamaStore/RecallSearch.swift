// Recall's search primitives over the store: full-text (FTS5, BM25), the exact scan and
// sqlite-vec's KNN, each returning hits with the `recall_view` row that ranking needs (read in
// the same transaction). The in-memory index is in RecallVectorIndex.swift; the tables, their
// writes and the embeddings in RecallIndex.swift.
import Foundation
import GRDB
import GRDBSQLite
public import SmollamaCore

/// One scored candidate from an index, with the row ranking needs (read in the same
/// transaction as the score, so recall makes no separate read for it).
public struct IndexHit: Sendable, Hashable {
    public var item: Int64
    public var score: Double
    public var row: RecallRow
}

/// An item and its score, before its row is read.
struct ScoredItem: Sendable, Hashable {
    var item: Int64
    var score: Double
}

extension RecallStore {
    /// Items passing `filter` (all of them when the filter is empty is signalled by nil).
    public func filteredItems(_ filter: RecallFilter) async throws -> Set<Int64>? {
        if filter.isEmpty { return nil }
        let (whereSQL, arguments) = filter.sql()
        return try await reader.read { db in
            Set(try Int64.fetchAll(db, sql: "SELECT item FROM recall_view WHERE \(whereSQL)", arguments: arguments))
        }
    }

    /// Exact cosine scan over every stored vector of `model` that passes the filter.
    public func exactVectorSearch(_ query: [Float], model: String, filter: RecallFilter, limit: Int) async throws
        -> [IndexHit]
    {
        let (whereSQL, arguments) = filter.sql()
        return try await reader.read { db in
            var top = TopK(limit)
            let sql =
                filter.isEmpty
                ? "SELECT item, vector FROM recall_embeddings WHERE model = ? AND dimension = ?"
                : """
                SELECT e.item, e.vector FROM recall_embeddings e
                WHERE e.model = ? AND e.dimension = ? AND e.item IN (SELECT item FROM recall_view WHERE \(whereSQL))
                """
            var all: StatementArguments = [model, query.count]
            _ = all.append(contentsOf: arguments)
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: all)
            while let row = try cursor.next() {
                let item: Int64 = row[0]
                let score = try row.withUnsafeData(atIndex: 1) { data in Self.dot(query, data) }
                top.add(ScoredItem(item: item, score: score))
            }
            let best = top.sorted
            return Self.hits(best, rows: try Self.rows(db, best.map(\.item), kinds: filter.kinds))
        }
    }

    /// sqlite-vec search: Hamming-distance KNN over bit-quantized vectors (filters applied inside
    /// the KNN through `rowid IN`), then an exact cosine rerank of the `oversample` best. Nil when
    /// sqlite-vec is not loaded or its table is empty.
    public func quantizedVectorSearch(
        _ query: [Float], model: String, filter: RecallFilter, limit: Int, oversample: Int
    ) async throws -> [IndexHit]? {
        let (whereSQL, arguments) = filter.sql()
        return try await reader.read { db -> [IndexHit]? in
            guard Self.hasVectorExtension(db), try db.tableExists("recall_vec"),
                try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'recall_vec_dimension'")
                    == String(query.count)
            else { return nil }
            let k = max(limit, oversample)
            // First the plain KNN, filtered afterwards: cheap, and enough when the filter keeps
            // most items (valid-only, the usual case). A selective filter leaves too few, and
            // the KNN runs again with the filter inside it (`rowid IN`), so filters still apply
            // before top-k.
            var candidates = try Int64.fetchAll(
                db, sql: "SELECT rowid FROM recall_vec WHERE embedding MATCH vec_quantize_binary(?) AND k = ?",
                arguments: [Self.blob(query), k])
            if !filter.isEmpty, !candidates.isEmpty {
                var kept = Self.restrictedArguments(Self.jsonList(candidates), filter.kinds)
                _ = kept.append(contentsOf: arguments)
                candidates = try Int64.fetchAll(
                    db, sql: "SELECT item FROM (\(Self.restrictedView(filter.kinds))) AS recall_view WHERE \(whereSQL)",
                    arguments: kept)
                if candidates.count < limit {
                    var all: StatementArguments = [Self.blob(query), k]
                    _ = all.append(contentsOf: arguments)
                    candidates = try Int64.fetchAll(
                        db,
                        sql: """
                            SELECT rowid FROM recall_vec WHERE embedding MATCH vec_quantize_binary(?) AND k = ?
                            AND rowid IN (SELECT item FROM recall_view WHERE \(whereSQL))
                            """, arguments: all)
                }
            }
            guard !candidates.isEmpty else { return [] }
            var top = TopK(limit)
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT item, vector FROM recall_embeddings
                    WHERE model = ? AND dimension = ? AND item IN (SELECT value FROM json_each(?))
                    """,
                arguments: [model, query.count, Self.jsonList(candidates)])
            while let row = try rows.next() {
                let item: Int64 = row[0]
                top.add(ScoredItem(item: item, score: try row.withUnsafeData(atIndex: 1) { Self.dot(query, $0) }))
            }
            let best = top.sorted
            return Self.hits(best, rows: try Self.rows(db, best.map(\.item), kinds: filter.kinds))
        }
    }

    /// Full-text search (BM25) over words; scores scaled so the best hit is 1. Only the newest
    /// `newestMatches` items that match are ranked: BM25 costs per match, and a common word
    /// matches a large share of the store (scores stay those of the whole index).
    public func textSearch(_ words: [String], filter: RecallFilter, limit: Int, newestMatches: Int = .max)
        async throws -> [IndexHit]
    {
        guard !words.isEmpty else { return [] }
        let match = words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "") + "\"" }.joined(separator: " OR ")
        let (whereSQL, arguments) = filter.sql()
        return try await reader.read { db in
            // As for vectors: the plain match first (oversampled), filtered afterwards; the filter
            // goes inside the match only when too few survive.
            // The oldest item still ranked (an FTS5 rowid range is a cheap walk of the doclist).
            let oldest =
                newestMatches == .max
                ? 0
                : try Int64.fetchOne(
                    db.cachedStatement(
                        sql: "SELECT rowid FROM recall_fts WHERE recall_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?"),
                    arguments: [match, max(0, newestMatches - 1)]) ?? 0
            func ranked(_ sql: String, _ arguments: StatementArguments) throws -> [ScoredItem] {
                try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map { ScoredItem(item: $0["rowid"], score: $0["rank"]) }
            }
            var matches = try ranked(
                """
                SELECT rowid, bm25(recall_fts) AS rank FROM recall_fts WHERE recall_fts MATCH ? AND rowid >= ?
                ORDER BY rank LIMIT ?
                """, [match, oldest, filter.isEmpty ? limit : limit * 4])
            if !filter.isEmpty, !matches.isEmpty {
                var kept = Self.restrictedArguments(Self.jsonList(matches.map(\.item)), filter.kinds)
                _ = kept.append(contentsOf: arguments)
                let survivors = Set(try Int64.fetchAll(
                    db.cachedStatement(
                        sql: "SELECT item FROM (\(Self.restrictedView(filter.kinds))) AS recall_view WHERE \(whereSQL)"),
                    arguments: kept))
                if survivors.count >= limit || matches.count < limit * 4 {
                    matches = Array(matches.filter { survivors.contains($0.item) }.prefix(limit))
                } else {
                    var all: StatementArguments = [match]
                    _ = all.append(contentsOf: arguments)
                    _ = all.append(contentsOf: [limit])
                    // `+rowid`: without the plus, SQLite drives the query from the filter's rows and
                    // runs the full-text match once per row (1.2 s per query at 10 k items, measured).
                    matches = try ranked(
                        """
                        SELECT rowid, bm25(recall_fts) AS rank FROM recall_fts
                        WHERE recall_fts MATCH ? AND +rowid IN (SELECT item FROM recall_view WHERE \(whereSQL))
                        ORDER BY rank LIMIT ?
                        """, all)
                }
            }
            // BM25 ranks are negative, best lowest: scaled so the best hit is 1.
            let best = matches.map(\.score).min() ?? -1
            return Self.hits(
                matches.map { ScoredItem(item: $0.item, score: best < 0 ? $0.score / best : 1) },
                rows: try Self.rows(db, matches.map(\.item), kinds: filter.kinds))
        }
    }

    /// `recall_view`'s rows for `items`, by item (a deleted item has none); `kinds`: the items are
    /// known to be of these kinds (they passed a filter on them).
    static func rows(_ db: Database, _ items: [Int64], kinds: Set<RecallItemKind>? = nil) throws -> [Int64: RecallRow] {
        guard !items.isEmpty else { return [:] }
        var result: [Int64: RecallRow] = [:]
        let cursor = try Row.fetchCursor(
            db.cachedStatement(
                sql: "SELECT item, kind, ref, importance, confidence, time FROM (\(restrictedView(kinds))) AS recall_view"),
            arguments: restrictedArguments(jsonList(items), kinds))
        while let row = try cursor.next() {
            let found = RecallRow(row)
            result[found.item] = found
        }
        return result
    }

    /// `scored` in its order, with their rows; items without a row (filtered out, or deleted
    /// since they were scored) are left out.
    static func hits(_ scored: [ScoredItem], rows: [Int64: RecallRow]) -> [IndexHit] {
        scored.compactMap { entry in rows[entry.item].map { IndexHit(item: entry.item, score: entry.score, row: $0) } }
    }

    /// The newest items passing `filter` (recall with no words).
    public func newestRecallRows(filter: RecallFilter, limit: Int) async throws -> [RecallRow] {
        let (whereSQL, arguments) = filter.sql()
        var combined = arguments
        _ = combined.append(contentsOf: [limit])
        let all = combined
        return try await reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT item, kind, ref, importance, confidence, time FROM recall_view WHERE \(whereSQL)
                    ORDER BY time DESC, item DESC LIMIT ?
                    """, arguments: all
            ).map(RecallRow.init)
        }
    }

    /// `recall_view` restricted to the items in a JSON list, with the restriction inside each
    /// branch: SQLite 3.40 does not push `item IN (…)` into the view's UNION ALL and would scan
    /// every item per query (~80 ms at 100 k); the `+` keeps the planner on the item list rather
    /// than the kind index. Only the branches of `kinds` (both when nil): a memory search has no
    /// use for the observation branch, whose lookups cost as much as the memory branch's.
    /// Use as `FROM (\(sql)) AS recall_view` with `restrictedArguments`.
    static func restrictedView(_ kinds: Set<RecallItemKind>?) -> String {
        let memories = """
            SELECT i.item, 'memory' AS kind, m.id AS ref, m.kind AS record_kind, m.subjects, m.text,
                   m.first_origin AS origin, m.importance, m.confidence, m.created_at AS time,
                   m.valid_from AS time_start, m.valid_to AS time_end,
                   (m.valid_to IS NULL AND m.expired_at IS NULL) AS valid, m.metadata
            FROM recall_items i JOIN memories m ON m.id = i.ref
            WHERE +i.kind = 'memory' AND i.item IN (SELECT value FROM json_each(?))
            """
        let observations = """
            SELECT i.item, 'observation' AS kind, o.id AS ref, o.kind AS record_kind, o.subjects, o.text,
                   o.origin, o.importance, 1.0 AS confidence, o.time_end AS time,
                   o.time_start, o.time_end, 1 AS valid, '{}' AS metadata
            FROM recall_items i JOIN observations o ON o.id = i.ref
            WHERE +i.kind = 'observation' AND i.item IN (SELECT value FROM json_each(?))
            """
        switch kinds {
        case [.memory]: return memories
        case [.observation]: return observations
        default: return memories + "\nUNION ALL\n" + observations
        }
    }

    /// The arguments `restrictedView(kinds)` binds: the item list once per branch.
    static func restrictedArguments(_ list: String, _ kinds: Set<RecallItemKind>?) -> StatementArguments {
        kinds == [.memory] || kinds == [.observation] ? [list] : [list, list]
    }

    static func jsonList(_ items: [Int64]) -> String {
        "[" + items.map(String.init).joined(separator: ",") + "]"
    }

    /// Little-endian float32 bytes (sqlite-vec's vector format).
    static func blob(_ vector: [Float]) -> Data {
        vector.withUnsafeBufferPointer { Data(buffer: $0) }
    }

    static func dot(_ query: [Float], _ data: Data?) -> Double {
        guard let data, data.count == query.count * MemoryLayout<Float>.size else { return -1 }
        return data.withUnsafeBytes { raw in
            let stored = raw.bindMemory(to: Float.self)
            var sum: Float = 0
            query.withUnsafeBufferPointer { q in
                for index in 0..<q.count { sum += q[index] * stored[index] }
            }
            return Double(sum)
        }
    }
}

/// The row of `recall_view` that ranking needs.
public struct RecallRow: Sendable, Hashable {
    public var item: Int64
    public var kind: RecallItemKind
    public var ref: String
    public var importance: Double
    public var confidence: Double
    /// Creation (memories) or end of span (observations), node-clock time.
    public var time: UTCMillis

    /// From a `recall_view` row selecting `item, kind, ref, importance, confidence, time`, in
    /// that order (read by position: cheaper than by name, and recall reads hundreds a query).
    init(_ row: Row) {
        item = row[0]
        kind = RecallItemKind(rawValue: row[1]) ?? .memory
        ref = row[2]
        importance = row[3]
        confidence = row[4]
        time = row[5]
    }
}

/// Keeps the best `limit` hits seen.
struct TopK {
    let limit: Int
    private(set) var hits: [ScoredItem] = []
    private var worst = -Double.infinity

    init(_ limit: Int) { self.limit = max(1, limit) }

    mutating func add(_ hit: ScoredItem) {
        if hits.count < limit {
            hits.append(hit)
            if hits.count == limit { worst = hits.map(\.score).min() ?? -.infinity }
        } else if hit.score > worst {
            if let index = hits.firstIndex(where: { $0.score == worst }) { hits[index] = hit }
            worst = hits.map(\.score).min() ?? -.infinity
        }
    }

    var sorted: [ScoredItem] { hits.sorted { $0.score > $1.score || ($0.score == $1.score && $0.item < $1.item) } }
}
