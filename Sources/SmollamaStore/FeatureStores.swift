import GRDB

/// The store is split by feature: each feature's named operations live on its own type, reached
/// from the one `SmollamaDatabase` (`database.knowledge.record(…)`). Each type owns the SQL
/// against its tables; the GRDB connection stays internal to this module.
protocol FeatureStore: Sendable {
    var database: SmollamaDatabase { get }
}

extension FeatureStore {
    var writer: any DatabaseWriter { database.writer }
    var reader: any DatabaseReader { database.reader }
}

/// Raw readings, their rollups and the sensors that produce them (registry and health).
public struct ReadingStore: FeatureStore {
    let database: SmollamaDatabase
}

/// Observations, memories and memory versions: what the mind wrote, as the log projects it.
public struct KnowledgeStore: FeatureStore {
    let database: SmollamaDatabase
}

/// The replicated event log: append, apply a peer's event, read by origin and stream.
public struct EventStore: FeatureStore {
    let database: SmollamaDatabase
}

/// The recall index: embeddings, the vec0 table, word search and the rows recall returns.
public struct RecallStore: FeatureStore {
    let database: SmollamaDatabase
}

/// History imported from files: targets, imported readings and the ledger of files read.
public struct ImportStore: FeatureStore {
    let database: SmollamaDatabase
}

/// Named values in the `meta` table: the node's claim on the store, its incarnation, the
/// clock's high-water mark and progress markers of services (the mem0 bridge).
public struct MetaStore: FeatureStore {
    let database: SmollamaDatabase
}

extension SmollamaDatabase {
    public var readings: ReadingStore { ReadingStore(database: self) }
    public var knowledge: KnowledgeStore { KnowledgeStore(database: self) }
    public var events: EventStore { EventStore(database: self) }
    public var recall: RecallStore { RecallStore(database: self) }
    public var imports: ImportStore { ImportStore(database: self) }
    public var meta: MetaStore { MetaStore(database: self) }
}
