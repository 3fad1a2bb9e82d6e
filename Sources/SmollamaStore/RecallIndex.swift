// The recall tables, their writes and the embeddings; the search primitives are in
// RecallSearch.swift and the in-memory vector index in RecallVectorIndex.swift.
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
}
