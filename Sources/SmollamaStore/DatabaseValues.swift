import Foundation
public import GRDB
public import SmollamaCore

// The domain's identities as SQLite values, one representation each: a node id is its 16 bytes
// (BLOB) in every table, a sensor id its key (TEXT), an HLC stamp its 64-bit integer.

extension NodeID: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { Data(bytes).databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> NodeID? {
        guard let data = Data.fromDatabaseValue(dbValue), data.count == 16 else { return nil }
        return NodeID(bytes: [UInt8](data))
    }
}

extension SensorID: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { rawValue.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> SensorID? {
        String.fromDatabaseValue(dbValue).map { SensorID($0) }
    }
}

extension HLCTimestamp: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { rawValue.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> HLCTimestamp? {
        Int64.fromDatabaseValue(dbValue).map(HLCTimestamp.init(rawValue:))
    }
}

/// A sync stream is its name (TEXT) in `sync_*` and `peer_checkpoints`.
extension SyncStream: DatabaseValueConvertible {}

extension UTCMillis: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { rawValue.databaseValue }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> UTCMillis? {
        Int64.fromDatabaseValue(dbValue).map(UTCMillis.init(rawValue:))
    }
}
