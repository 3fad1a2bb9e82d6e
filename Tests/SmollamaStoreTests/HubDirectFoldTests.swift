import Foundation
import GRDB
import SmollamaCore
@testable import SmollamaStore
import SmollamaTesting
import Testing

/// A push folds its batch as it inserts it, without reading it back (issue 21): the rollups are
/// those of the fold that reads the readings back through `foreign_readings_timed`, to the bit,
/// also where times are repaired (an unsynced clock, a clock a year ahead of its anchor).
@Suite struct HubDirectFoldTests {
    static let start: Int64 = 1_796_000_000_000
    static let year: Int64 = 365 * 86_400_000

    /// Every rollup of the hub as text (doubles as bit patterns).
    static func rollups(_ hub: SmollamaDatabase) async throws -> [String] {
        try await hub.reader.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM foreign_rollups ORDER BY origin_ref, sensor, resolution, bucket_start").map { row in
                row.columnNames.map { name -> String in
                    let value: DatabaseValue = row[name]
                    if case .double(let double) = value.storage { return "\(name)=\(double.bitPattern)" }
                    return "\(name)=\(value)"
                }.joined(separator: " ")
            }
        }
    }

    @Test func aBatchFoldedAsItIsInsertedEqualsTheFoldThatReadsItBack() async throws {
        let hub = try await TestStore()
        let node = NodeID.random()
        let hubTime = UTCMillis(rawValue: Self.start)
        try await hub.database.nodeSync.recordAnchor(origin: node, bootID: "late", monotonicNanoseconds: 5_000_000_000,
                                                     hubTime: hubTime, now: hubTime)
        try await hub.database.nodeSync.recordAnchor(origin: node, bootID: "ahead", monotonicNanoseconds: 0, hubTime: hubTime, now: hubTime)
        let epochs = [
            // A clock that started in 1970: repaired from its anchor.
            ReadingBatch.Epoch(id: 1, bootID: "late", quality: "unsynced", startedHLC: 1000 << 16, startedMonotonicNanoseconds: 1_000_000_000),
            // Synced, it says, but a year ahead of its anchor: repaired too.
            ReadingBatch.Epoch(id: 2, bootID: "ahead", quality: "synced", startedHLC: (Self.start + Self.year) << 16,
                               startedMonotonicNanoseconds: 0),
            // No anchor: taken as stamped.
            ReadingBatch.Epoch(id: 3, bootID: "plain", quality: "synced", startedHLC: Self.start << 16, startedMonotonicNanoseconds: 0),
        ]
        let sensors = ["a.temperature", "b.humidity", "c.power"]
        var rows: [ReadingBatch.Row] = []
        for index in 0..<12_000 {
            let epoch = (index / 700) % 3
            let base: Int64 = [1000, Self.start + Self.year, Self.start][epoch]
            rows.append(ReadingBatch.Row(id: Int64(index + 1), sensor: index % 3, time: base + Int64(index) * 997,
                                         value: Double(index % 97) / 10 + 0.05, epoch: epoch))
        }
        var mark: Int64 = 0
        for chunk in stride(from: 0, to: rows.count, by: 1000) {
            let batch = ReadingBatch(sensors: sensors, epochs: epochs, rows: Array(rows[chunk..<min(chunk + 1000, rows.count)]))
            mark = try await hub.database.hubSync.pushReadings(batch, origin: node, stream: .readings, from: mark + 1,
                                                               to: batch.rows.last?.id ?? 0, now: hubTime).mark
        }
        #expect(mark == 12_000)
        #expect(try await hub.database.hubReadings.rollUpAll() == 0, "every batch was folded in its push")
        let direct = try await Self.rollups(hub.database)
        // The times were repaired: no bucket of 1970 or of next year.
        let starts = try await hub.database.reader.read { db in try Int64.fetchAll(db, sql: "SELECT bucket_start FROM foreign_rollups") }
        #expect(starts.allSatisfy { $0 >= Self.start - 7_200_000 && $0 < Self.start + 86_400_000 })

        try await hub.database.writer.write { db in try db.execute(sql: "DELETE FROM foreign_rollups; DELETE FROM foreign_rollup_cursors") }
        #expect(try await hub.database.hubReadings.rollUpAll() == 12_000)
        let readBack = try await Self.rollups(hub.database)
        #expect(direct.count > 100)
        #expect(direct == readBack, "\(Set(direct).symmetricDifference(readBack).sorted().prefix(4))")
    }
}
