import GRDB
import Foundation
public import SmollamaCore

/// The node's one database. Every read and write is an intent-named method of this module (see
/// ARCHITECTURE.md, "The store"): the GRDB connection is internal, so SQL against the store's
/// tables lives only here, next to the DDL. Tests reach it with `@testable import`.
///
/// Production opens a `DatabasePool` in WAL mode with `synchronous=NORMAL` (an SD card wears
/// out under FULL, and WAL+NORMAL only risks the last commits on power loss, never corruption).
public struct SmollamaDatabase: Sendable {
    let writer: any DatabaseWriter
    var reader: any DatabaseReader { writer }
    /// Recall's in-memory vector index, shared by every copy of this value (loaded lazily).
    let vectorIndex = RecallVectorIndex()

    /// How durable each commit is; the hub uses `.full` for sync commits it acknowledges.
    public enum Durability: String, Sendable, Codable {
        case normal
        case full
    }

    init(_ writer: any DatabaseWriter) throws {
        self.writer = writer
        try Schema.migrator.migrate(writer)
    }

    /// Opens (creating if needed) the store at `path`. `vectorExtension` is sqlite-vec's
    /// `vec0.so` (see `VectorExtension.locate`), loaded into every connection; when it does not
    /// load, the store still opens and recall uses an exact scan.
    public static func open(path: String, durability: Durability = .normal, vectorExtension: String? = nil) throws
        -> SmollamaDatabase
    {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL")")
            if let vectorExtension { try? VectorExtension.load(vectorExtension, into: db) }
        }
        do {
            return try SmollamaDatabase(DatabasePool(path: path, configuration: configuration))
        } catch let error as DatabaseError {
            if [.SQLITE_CORRUPT, .SQLITE_NOTADB].contains(error.resultCode) {
                throw StoreError.corrupt(path: path, reason: error.message ?? "\(error.resultCode)")
            }
            throw StoreError.cannotOpen(path: path, reason: error.message ?? "\(error.resultCode)")
        }
    }

    /// A private in-memory store, for tests and benchmarks' baselines.
    public static func inMemory(vectorExtension: String? = nil) throws -> SmollamaDatabase {
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            if let vectorExtension { try VectorExtension.load(vectorExtension, into: db) }
        }
        return try SmollamaDatabase(DatabaseQueue(configuration: configuration))
    }

    /// The SQLite file's size with its WAL, in bytes.
    public static func fileSize(path: String) -> Int64 {
        [path, path + "-wal", path + "-shm"].reduce(0) { total, file in
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value
            return total + (size ?? 0)
        }
    }
}

public enum StoreError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    /// The file is not a readable SQLite database (damaged by a power cut or a failing card).
    case corrupt(path: String, reason: String)
    case unknownSensor(SensorID)
    case identityMismatch(store: String, identity: String)
    case invalidEventHash(origin: String, stream: String, seq: Int64)
    case malformedPayload(origin: String, stream: String, seq: Int64, type: String, reason: String)
    /// A row the store must create could not be (an internal inconsistency, not bad input).
    case cannotRegister(String)
    /// A migration met a value it cannot convert.
    case cannotMigrate(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            "cannot open the database at \(path): \(reason). Check that the data directory exists and is writable."
        case .corrupt(let path, let reason):
            "the database at \(path) is damaged (\(reason)). Move it away (or restore a backup) to start afresh."
        case .unknownSensor(let id):
            "sensor '\(id)' is not registered in the store; it must be declared by a configured driver"
        case .invalidEventHash(let origin, let stream, let seq):
            "event \(origin)/\(stream)/\(seq) does not match its hash: corrupted or forged in transit; it was not stored"
        case .malformedPayload(let origin, let stream, let seq, let type, let reason):
            "event \(origin)/\(stream)/\(seq) claims type '\(type)' but its payload does not decode (\(reason)); "
                + "it was not stored. Is the sender running a newer or broken version?"
        case .cannotRegister(let what):
            "the store could not register \(what); the database may be damaged: run `sqlite3 FILE 'PRAGMA integrity_check'`"
        case .cannotMigrate(let reason):
            "the database cannot be upgraded: \(reason). Restore a backup or move the file away to start afresh."
        case .identityMismatch(let store, let identity):
            "the database belongs to node \(store) but this node's identity is \(identity); "
                + "a restored or copied data directory? Move the database away or restore the matching identity."
        }
    }
}
