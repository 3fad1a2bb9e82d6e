// Over 400 lines: the recall tables, their writes and both search paths (sqlite-vec and the exact
// scan) share private helpers; it splits when recall gets its own store type (issue 14).
import Foundation
import GRDB
import GRDBSQLite
public import SmollamaCore

/// Tables behind recall: every observation and memory gets an item number (`recall_items`), its
/// words are indexed by FTS5 (`recall_fts`, kept current by triggers on the knowledge tables), and
/// its embedding is stored with the model that made it (`recall_embeddings`). When sqlite-vec is
/// loaded, a bit-quantized copy of each embedding lives in the vec0 table `recall_vec` (created at
/// run time, because a store must open without the extension).
enum RecallSchema {
    static let v3 = """
        CREATE TABLE recall_items (
            item INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('memory', 'observation')),
            ref TEXT NOT NULL,
            UNIQUE (kind, ref)
        );

        CREATE VIRTUAL TABLE recall_fts USING fts5(text, tokenize = 'porter unicode61');

        -- One embedding per item; `text` is what was embedded, so an edited text is re-embedded.
        -- `indexed` = 1 once the vector is in recall_vec (sqlite-vec), 0 while it still has to be.
        CREATE TABLE recall_embeddings (
            item INTEGER PRIMARY KEY NOT NULL REFERENCES recall_items(item),
            model TEXT NOT NULL,
            dimension INTEGER NOT NULL CHECK (dimension > 0),
            text TEXT NOT NULL,
            vector BLOB NOT NULL,
            indexed INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX recall_embeddings_unindexed ON recall_embeddings(indexed) WHERE indexed = 0;

        CREATE TRIGGER memories_recall AFTER INSERT ON memories BEGIN
            -- No OR IGNORE here: a trigger takes the outer statement's conflict policy (REPLACE).
            INSERT INTO recall_items (kind, ref) SELECT 'memory', new.id
                WHERE NOT EXISTS (SELECT 1 FROM recall_items WHERE kind = 'memory' AND ref = new.id);
            DELETE FROM recall_fts WHERE rowid = (SELECT item FROM recall_items WHERE kind = 'memory' AND ref = new.id);
            INSERT INTO recall_fts (rowid, text)
                VALUES ((SELECT item FROM recall_items WHERE kind = 'memory' AND ref = new.id), new.text);
        END;
        CREATE TRIGGER observations_recall AFTER INSERT ON observations BEGIN
            -- No OR IGNORE here: a trigger takes the outer statement's conflict policy (REPLACE).
            INSERT INTO recall_items (kind, ref) SELECT 'observation', new.id
                WHERE NOT EXISTS (SELECT 1 FROM recall_items WHERE kind = 'observation' AND ref = new.id);
            DELETE FROM recall_fts
                WHERE rowid = (SELECT item FROM recall_items WHERE kind = 'observation' AND ref = new.id);
            INSERT INTO recall_fts (rowid, text)
                VALUES ((SELECT item FROM recall_items WHERE kind = 'observation' AND ref = new.id), new.text);
        END;

        INSERT INTO recall_items (kind, ref) SELECT 'memory', id FROM memories;
        INSERT INTO recall_items (kind, ref) SELECT 'observation', id FROM observations;
        INSERT INTO recall_fts (rowid, text)
            SELECT i.item, m.text FROM recall_items i JOIN memories m ON i.kind = 'memory' AND m.id = i.ref;
        INSERT INTO recall_fts (rowid, text)
            SELECT i.item, o.text FROM recall_items i JOIN observations o ON i.kind = 'observation' AND o.id = i.ref;

        -- One row per recallable item with what filters and ranking need. Time is the span the
        -- item is about: validity for memories (open = still valid), the window for observations.
        CREATE VIEW recall_view AS
            SELECT i.item, 'memory' AS kind, m.id AS ref, m.kind AS record_kind, m.subjects, m.text,
                   m.first_origin AS origin, m.importance, m.confidence, m.created_at AS time,
                   m.valid_from AS time_start, m.valid_to AS time_end,
                   (m.valid_to IS NULL AND m.expired_at IS NULL) AS valid, m.metadata
            FROM recall_items i JOIN memories m ON i.kind = 'memory' AND m.id = i.ref
            UNION ALL
            SELECT i.item, 'observation', o.id, o.kind, o.subjects, o.text, o.origin, o.importance, 1.0, o.time_end,
                   o.time_start, o.time_end, 1, '{}'
            FROM recall_items i JOIN observations o ON i.kind = 'observation' AND o.id = i.ref;
        """
}

/// Which knowledge table an item lives in.
public enum RecallItemKind: String, Codable, Sendable, Hashable, CaseIterable {
    case memory
    case observation
}

/// Restrictions applied in SQL before any top-k is taken.
public struct RecallFilter: Sendable, Hashable {
    public var kinds: Set<RecallItemKind>?
    /// Record kinds (`routine`, `anomaly`, …).
    public var recordKinds: [String]?
    /// Sensor keys: an item matches when any of its subjects is one of them.
    public var sensors: [String]?
    /// The node that wrote the item (first writer for memories).
    public var origins: [NodeID]?
    /// Items whose time span overlaps [from, to).
    public var from: UTCMillis?
    public var to: UTCMillis?
    /// Leave out memories whose validity is closed or that are no longer believed.
    public var validOnly: Bool
    /// Memory metadata that must match exactly (mem0's user_id, agent_id, run_id, …).
    public var metadata: [String: String]

    public init(
        kinds: Set<RecallItemKind>? = nil, recordKinds: [String]? = nil, sensors: [String]? = nil,
        origins: [NodeID]? = nil, from: UTCMillis? = nil, to: UTCMillis? = nil, validOnly: Bool = true,
        metadata: [String: String] = [:]
    ) {
        self.kinds = kinds
        self.recordKinds = recordKinds
        self.sensors = sensors
        self.origins = origins
        self.from = from
        self.to = to
        self.validOnly = validOnly
        self.metadata = metadata
    }

    var isEmpty: Bool {
        kinds == nil && recordKinds == nil && sensors == nil && origins == nil && from == nil && to == nil
            && !validOnly && metadata.isEmpty
    }

    /// `WHERE` text over `recall_view` and its arguments.
    func sql() -> (String, StatementArguments) {
        var clauses: [String] = []
        var arguments = StatementArguments()
        if let kinds {
            clauses.append("kind IN (\(kinds.map { _ in "?" }.joined(separator: ",")))")
            for kind in kinds.sorted(by: { $0.rawValue < $1.rawValue }) { _ = arguments.append(contentsOf: [kind.rawValue]) }
        }
        if let recordKinds {
            clauses.append("record_kind IN (\(recordKinds.map { _ in "?" }.joined(separator: ",")))")
            _ = arguments.append(contentsOf: StatementArguments(recordKinds))
        }
        if let sensors {
            clauses.append(
                "EXISTS (SELECT 1 FROM json_each(recall_view.subjects) WHERE value IN (\(sensors.map { _ in "?" }.joined(separator: ","))))")
            _ = arguments.append(contentsOf: StatementArguments(sensors))
        }
        if let origins {
            clauses.append("origin IN (\(origins.map { _ in "?" }.joined(separator: ",")))")
            _ = arguments.append(contentsOf: StatementArguments(origins.map { Data($0.bytes) }))
        }
        if let from {
            clauses.append("coalesce(time_end, 9223372036854775807) >= ?")
            _ = arguments.append(contentsOf: [from])
        }
        if let to {
            clauses.append("time_start < ?")
            _ = arguments.append(contentsOf: [to])
        }
        if validOnly { clauses.append("valid") }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            clauses.append("json_extract(metadata, ?) = ?")
            _ = arguments.append(contentsOf: ["$.\"\(key.replacingOccurrences(of: "\"", with: ""))\"", value])
        }
        return (clauses.isEmpty ? "1" : clauses.joined(separator: " AND "), arguments)
    }
}

/// An item that still needs an embedding (none yet, another model, or its text changed).
public struct PendingEmbedding: Sendable, Hashable {
    public var item: Int64
    public var text: String
}

/// What the store knows about its embeddings.
public struct EmbeddingStatus: Sendable, Hashable, Codable {
    public var items: Int
    /// Items embedded with the current model and text.
    public var current: Int
    /// Models found among stored embeddings, with counts.
    public var models: [String: Int]
    /// sqlite-vec's version when the extension is loaded on this connection.
    public var vectorExtension: String?
}

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

/// Loads sqlite-vec into connections (where its file is: `VectorExtensionFile` in SmollamaLLM).
public enum VectorExtension {
    /// Loads the extension at `path` into the connection; throws with SQLite's message.
    static func load(_ path: String, into db: Database) throws {
        guard let connection = db.sqliteConnection else { return }
        sqlite3_db_config_enable_load_extension(connection)
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_load_extension(connection, path, nil, &error)
        defer { sqlite3_free(error) }
        guard rc == SQLITE_OK else {
            throw VectorExtensionError(path: path, reason: error.map { String(cString: $0) } ?? "code \(rc)")
        }
    }
}

private func sqlite3_db_config_enable_load_extension(_ connection: OpaquePointer) {
    // Enables the C API only (not the SQL function load_extension()).
    _ = sqlite3_enable_load_extension(connection, 1)
}

public struct VectorExtensionError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String
    public var description: String {
        "cannot load sqlite-vec from \(path): \(reason). Recall falls back to an exact scan; "
            + "re-run scripts/setup-llm.sh or set SMOLLAMA_VEC0 to a working vec0.so"
    }
}

extension RecallStore {
    /// sqlite-vec's version if the extension is loaded on the store's connections.
    public func vectorExtensionVersion() async -> String? {
        try? await reader.read { db in try String.fetchOne(db, sql: "SELECT vec_version()") }
    }

    // MARK: - Embeddings

    /// Items without a current embedding for `model`, oldest items first.
    public func pendingEmbeddings(model: String, limit: Int) async throws -> [PendingEmbedding] {
        try await reader.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT v.item, v.text FROM recall_view v LEFT JOIN recall_embeddings e ON e.item = v.item
                    WHERE e.item IS NULL OR e.model <> ? OR e.text <> v.text
                    ORDER BY v.item LIMIT ?
                    """, arguments: [model, limit]
            ).map { PendingEmbedding(item: $0["item"], text: $0["text"]) }
        }
    }

    /// Stores embeddings (replacing older ones), keeps the in-memory index in step and, when
    /// sqlite-vec is loaded, stores their bit-quantized copies in `recall_vec`.
    public func storeEmbeddings(_ vectors: [(item: Int64, text: String, vector: [Float])], model: String) async throws {
        let (before, after) = try await writer.write { db in
            let before = try RecallSchema.generation(db)
            let hasVec = Self.hasVectorExtension(db)
            for entry in vectors {
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO recall_embeddings (item, model, dimension, text, vector, indexed)
                        VALUES (?, ?, ?, ?, ?, 0)
                        """,
                    arguments: [entry.item, model, entry.vector.count, entry.text, Self.blob(entry.vector)])
            }
            if hasVec { try Self.syncVectorTable(db) }
            return (before, try RecallSchema.generation(db))
        }
        await database.vectorIndex.apply(vectors.map { ($0.item, $0.vector) }, model: model, from: before, to: after)
    }

    /// Brings `recall_vec` up to date with `recall_embeddings` (creating or re-creating it when
    /// the dimension changed). No-op without sqlite-vec. Returns how many rows it (re)indexed.
    @discardableResult
    public func syncVectorIndex() async throws -> Int {
        try await writer.write { db in
            guard Self.hasVectorExtension(db) else { return 0 }
            return try Self.syncVectorTable(db)
        }
    }

    static func hasVectorExtension(_ db: Database) -> Bool {
        (try? String.fetchOne(db, sql: "SELECT vec_version()")) != nil
    }

    /// The dimension the vec table was made for (meta key `recall_vec_dimension`).
    @discardableResult
    static func syncVectorTable(_ db: Database) throws -> Int {
        guard let dimension = try Int.fetchOne(
            db, sql: "SELECT dimension FROM recall_embeddings GROUP BY dimension ORDER BY count(*) DESC LIMIT 1"),
            dimension % 8 == 0
        else { return 0 }
        let existing = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'recall_vec_dimension'")
        let hasTable = try db.tableExists("recall_vec")
        if existing != String(dimension) || !hasTable {
            try db.execute(sql: "DROP TABLE IF EXISTS recall_vec")
            try db.execute(sql: "CREATE VIRTUAL TABLE recall_vec USING vec0(embedding bit[\(dimension)])")
            try db.execute(
                sql: "INSERT INTO meta (key, value) VALUES ('recall_vec_dimension', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [String(dimension)])
            try db.execute(sql: "UPDATE recall_embeddings SET indexed = 0")
        }
        try db.execute(
            sql: "DELETE FROM recall_vec WHERE rowid IN (SELECT item FROM recall_embeddings WHERE indexed = 0)")
        try db.execute(
            sql: """
                INSERT INTO recall_vec (rowid, embedding)
                SELECT item, vec_quantize_binary(vector) FROM recall_embeddings WHERE indexed = 0 AND dimension = ?
                """, arguments: [dimension])
        let changed = db.changesCount
        try db.execute(sql: "UPDATE recall_embeddings SET indexed = 1 WHERE indexed = 0 AND dimension = ?", arguments: [dimension])
        return changed
    }

    public func embeddingStatus(model: String) async throws -> EmbeddingStatus {
        let version = await vectorExtensionVersion()
        return try await reader.read { db in
            let items = try Int.fetchOne(db, sql: "SELECT count(*) FROM recall_view") ?? 0
            let current = try Int.fetchOne(
                db,
                sql: "SELECT count(*) FROM recall_view v JOIN recall_embeddings e ON e.item = v.item AND e.model = ? AND e.text = v.text",
                arguments: [model]) ?? 0
            var models: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT model, count(*) AS n FROM recall_embeddings GROUP BY model") {
                models[row["model"]] = row["n"]
            }
            return EmbeddingStatus(items: items, current: current, models: models, vectorExtension: version)
        }
    }

    // MARK: - Search primitives

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
            return Self.hits(best, rows: try Self.rows(db, best.map(\.item)))
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
                let list = Self.jsonList(candidates)
                var kept: StatementArguments = [list, list]
                _ = kept.append(contentsOf: arguments)
                candidates = try Int64.fetchAll(
                    db, sql: "SELECT item FROM (\(Self.restrictedView)) AS recall_view WHERE \(whereSQL)",
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
            return Self.hits(best, rows: try Self.rows(db, best.map(\.item)))
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
                    db,
                    sql: "SELECT rowid FROM recall_fts WHERE recall_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                    arguments: [match, max(0, newestMatches - 1)]) ?? 0
            func ranked(_ sql: String, _ arguments: StatementArguments) throws -> [ScoredItem] {
                try Row.fetchAll(db, sql: sql, arguments: arguments).map { ScoredItem(item: $0["rowid"], score: $0["rank"]) }
            }
            var matches = try ranked(
                """
                SELECT rowid, bm25(recall_fts) AS rank FROM recall_fts WHERE recall_fts MATCH ? AND rowid >= ?
                ORDER BY rank LIMIT ?
                """, [match, oldest, filter.isEmpty ? limit : limit * 4])
            if !filter.isEmpty, !matches.isEmpty {
                let list = Self.jsonList(matches.map(\.item))
                var kept: StatementArguments = [list, list]
                _ = kept.append(contentsOf: arguments)
                let survivors = Set(try Int64.fetchAll(
                    db, sql: "SELECT item FROM (\(Self.restrictedView)) AS recall_view WHERE \(whereSQL)",
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
                rows: try Self.rows(db, matches.map(\.item)))
        }
    }

    /// `recall_view`'s rows for `items`, by item (a deleted item has none).
    static func rows(_ db: Database, _ items: [Int64]) throws -> [Int64: RecallRow] {
        guard !items.isEmpty else { return [:] }
        let list = jsonList(items)
        var result: [Int64: RecallRow] = [:]
        let cursor = try Row.fetchCursor(
            db, sql: "SELECT item, kind, ref, importance, confidence, time FROM (\(restrictedView)) AS recall_view",
            arguments: [list, list])
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
    /// than the kind index. Use as `FROM (\(sql)) AS recall_view`, binding the
    /// list twice.
    static let restrictedView = """
        SELECT i.item, 'memory' AS kind, m.id AS ref, m.kind AS record_kind, m.subjects, m.text,
               m.first_origin AS origin, m.importance, m.confidence, m.created_at AS time,
               m.valid_from AS time_start, m.valid_to AS time_end,
               (m.valid_to IS NULL AND m.expired_at IS NULL) AS valid, m.metadata
        FROM recall_items i JOIN memories m ON m.id = i.ref
        WHERE +i.kind = 'memory' AND i.item IN (SELECT value FROM json_each(?))
        UNION ALL
        SELECT i.item, 'observation', o.id, o.kind, o.subjects, o.text, o.origin, o.importance, 1.0, o.time_end,
               o.time_start, o.time_end, 1, '{}'
        FROM recall_items i JOIN observations o ON o.id = i.ref
        WHERE +i.kind = 'observation' AND i.item IN (SELECT value FROM json_each(?))
        """

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
