import Foundation
import GRDB
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaStore

/// `event_counts` (migration v11-hub-page-counts): the events held per origin and stream, filled
/// from a store's existing events by the migration and kept by triggers in every transaction that
/// inserts or deletes an event, so the counts the pages and `status` show equal a COUNT(*).
@Suite struct EventCountTests {
    static let garage = NodeID(hex: "00112233445566778899aabbccddeeff")!

    static func fault(_ sensor: String) -> EventBody {
        .sensorFault(Notice.SensorFault(sensor: SensorID(sensor), reason: "i2c", consecutiveFailures: 3))
    }

    static func counted(_ db: Database) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT hex(origin) || '/' || stream, count(*) FROM events GROUP BY origin, stream") {
            counts[row[0]] = row[1]
        }
        return counts
    }

    static func kept(_ db: Database) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT hex(origin) || '/' || stream, count FROM event_counts WHERE count > 0") {
            counts[row[0]] = row[1]
        }
        return counts
    }

    @Test func countsAreFilledByTheMigrationAndKeptByEveryWrite() async throws {
        let directory = try TemporaryDirectory("event-counts")
        let path = directory.path + "/smollama.sqlite"
        let local = NodeID.random()
        // A store from before v11 with events of two origins.
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v10-rollup-events")
        try await queue.write { db in
            for seq in 1...3 {
                _ = try EventStore.apply(db, try Event(origin: Self.garage, seq: Int64(seq), stamp: .test(Int64(seq)),
                                                       body: Self.fault("garage.door")))
            }
            _ = try EventStore.appendEvent(db, Self.fault("hub.door"), origin: local, stamp: .test(10))
        }
        try queue.close()

        let database = try SmollamaDatabase.open(path: path)
        let migrated = try await database.reader.read { db in (try Self.kept(db), try Self.counted(db)) }
        #expect(migrated.0 == migrated.1, "the migration counts what is there")
        #expect(migrated.1.values.reduce(0, +) == 4)
        // Synced, local, a duplicate (not inserted), and a deletion.
        _ = try await database.events.apply(try Event(origin: Self.garage, seq: 4, stamp: .test(4), body: Self.fault("garage.door")))
        _ = try await database.events.apply(try Event(origin: Self.garage, seq: 4, stamp: .test(4), body: Self.fault("garage.door")))
        _ = try await database.events.appendEvent(.observation(ObservationRecord(
            id: "o-1", kind: "comfort", subjects: [], text: "warm", evidenceIDs: [], importance: 0.5, generator: .rules,
            timeStart: UTCMillis(rawValue: 0), timeEnd: UTCMillis(rawValue: 1))), origin: local, stamp: .test(11))
        try await database.writer.write { db in
            try db.execute(sql: "DELETE FROM events WHERE origin = ? AND seq = 1", arguments: [Self.garage])
        }

        let written = try await database.reader.read { db in (try Self.kept(db), try Self.counted(db)) }
        #expect(written.0 == written.1)
        #expect(try await database.events.eventCounts(origin: Self.garage) == [.notices: 3])
        #expect(try await database.events.eventCounts(origin: local) == [.notices: 1, .observations: 1])
        #expect(try await database.events.eventCounts(streams: [.notices, .observations]) == [.notices: 4, .observations: 1])
        #expect(try await database.storeStatus().eventCount == 5)
    }
}
