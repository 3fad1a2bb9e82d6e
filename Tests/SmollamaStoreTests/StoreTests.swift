import Foundation
import GRDB
import Logging
import SmollamaCore
import SmollamaSensors
import SmollamaTesting
import Testing
@testable import SmollamaStore

/// Helpers shared by the store tests: a store with the simulated house's sensors registered.
struct HouseStore {
    let store: TestStore
    let rows: [SensorID: RegisteredSensor]
    let start: UTCMillis = 1_795_000_000_000

    init() async throws {
        store = try await TestStore()
        let sensors = SimulatedHouse().sensors(prefix: nil)
        let registered = try await store.database.readings.registerSensors(sensors, driver: "house", now: start)
        rows = Dictionary(uniqueKeysWithValues: registered.map { ($0.descriptor.id, $0) })
    }

    var database: SmollamaDatabase { store.database }

    func pending(_ readings: [Reading]) -> [PendingReading] {
        readings.map { reading in
            PendingReading(
                sensorRowID: rows[reading.sensor]!.rowID, value: reading.value,
                stamp: .test(reading.time, bootID: "b"))
        }
    }
}

@Suite struct StoreTests {
    @Test func migratesAnEmptyFileAndReopens() async throws {
        let store = try await TestStore()
        let tables = try await store.database.reader.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        }
        for table in ["clock_epochs", "clock_state", "events", "memories", "meta", "observations", "peer_checkpoints",
                      "readings", "rollup_carry", "rollups", "sensor_state", "sensors"] {
            #expect(tables.contains(table), "missing table \(table)")
        }
        let mode = try await store.database.reader.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
        // Reopening runs no migration twice and keeps the owner.
        let again = try SmollamaDatabase.open(path: store.path)
        try await again.meta.claim(for: store.node, incarnation: 1)
        await #expect(throws: StoreError.self) { try await again.meta.claim(for: NodeID.random(), incarnation: 1) }
    }

    @Test func batchedIngestOfAHundredThousandSimulatedReadings() async throws {
        let house = try await HouseStore()
        let readings = simulatedReadings(from: house.start, count: 100_000)
        let writer = ReadingWriter(database: house.database, origin: house.store.node,
                                   configuration: .init(maxBatch: 1000), logger: Logger.quiet)
        for reading in house.pending(readings) { await writer.submit(reading) }
        await writer.flush()
        #expect(try await house.database.readings.readingCount() == 100_000)
        let stats = await writer.statistics
        #expect(stats.accepted == 100_000 && stats.committed == 100_000 && stats.dropped == 0)
        // Readings come back in order with their values.
        let sensor = readings[0].sensor
        let stored = try await house.database.readings.fetch(sensor: sensor)
        #expect(stored == readings.filter { $0.sensor == sensor })
        // Ids are contiguous: the raw table can be its own sync stream.
        let (low, high) = try await house.database.reader.read { db in
            (try Int64.fetchOne(db, sql: "SELECT min(id) FROM readings")!,
             try Int64.fetchOne(db, sql: "SELECT max(id) FROM readings")!)
        }
        #expect(high - low + 1 == 100_000)
        #expect(try await house.database.meta.maxIssuedTimestamp()!.time == readings.map(\.time).max())
    }

    @Test func aFailedCommitKeepsTheBatchQueued() async throws {
        let house = try await HouseStore()
        let writer = ReadingWriter(database: house.database, origin: house.store.node,
                                   configuration: .init(maxBatch: 10_000), logger: Logger.quiet)
        // A reading for a sensor row that does not exist violates the foreign key: the commit fails.
        var bad = house.pending(simulatedReadings(from: house.start, count: 1))[0]
        bad.sensorRowID = 9999
        await writer.submit(bad)
        await writer.flush()
        let pending = await writer.pendingCount
        #expect(pending == 1)
        let failed = await writer.statistics.failedCommits
        #expect(failed == 1)
        #expect(try await house.database.readings.readingCount() == 0)
    }

    /// Issue 18: while commits failed (a full disk), notices queued without bound.
    @Test func noticesQueuedWhileCommitsFailAreBounded() async throws {
        let house = try await HouseStore()
        let writer = ReadingWriter(database: house.database, origin: house.store.node,
                                   configuration: .init(maxBatch: 10_000, maxBufferedNotices: 3), logger: Logger.quiet)
        var bad = house.pending(simulatedReadings(from: house.start, count: 1))[0]
        bad.sensorRowID = 9999  // every commit fails, as on a full disk
        await writer.submit(bad)
        for index in 0..<5 {
            let change = Notice.BinaryChanged(sensor: "hallway.door", value: Double(index % 2), time: house.start)
            await writer.submit(notice: try PendingNotice(.binaryChanged(change),
                                                          stamp: .test(1_795_000_000_000 + Int64(index), bootID: "b")))
            await writer.flush()
        }
        #expect(await writer.pendingCount == 1 + 3, "the reading and the 3 newest notices")
        #expect(await writer.statistics.droppedNotices == 2)
    }

    @Test func eventSequencesAreContiguousAndApplyIsIdempotent() async throws {
        let store = try await TestStore()
        let stamp = ClockStamp.test(1_795_000_000_000, bootID: "b", monotonicNanoseconds: 1)
        var events: [Event] = []
        for index in 0..<5 {
            events.append(try await store.database.events.appendEvent(
                .unknown(stream: .notices, type: "t", payload: Data("{\"i\":\(index)}".utf8)), origin: store.node,
                stamp: stamp))
        }
        #expect(events.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(try await store.database.events.appendEvent(.unknown(stream: .control, type: "t", payload: Data("{}".utf8)),
                                                     origin: store.node, stamp: stamp).seq == 1)
        #expect(try await store.database.events.apply(events[2]) == .duplicate)
        var forged = try Event(origin: store.node, seq: 3, stamp: stamp,
                               body: .unknown(stream: .notices, type: "t", payload: Data("{\"i\":99}".utf8)))
        #expect(try await store.database.events.apply(forged) == .collision)
        forged.seq = 6  // content changed after hashing: refused
        await #expect(throws: StoreError.self) { try await store.database.events.apply(forged) }
        let next = try Event(origin: store.node, seq: 6, stamp: stamp,
                             body: .unknown(stream: .notices, type: "t", payload: Data("{}".utf8)))
        #expect(try await store.database.events.apply(next) == .inserted)
        #expect(try await store.database.events.fetch(origin: store.node, stream: .notices).map(\.seq) == [1, 2, 3, 4, 5, 6])
        #expect(try await store.database.events.fetch(origin: store.node, stream: .notices).allSatisfy(\.hashIsValid))
    }
}
