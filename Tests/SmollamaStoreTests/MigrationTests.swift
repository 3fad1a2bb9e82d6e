import Foundation
import GRDB
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaStore

/// v5 stores node ids as 16-byte BLOBs everywhere: a hub file written before it (hex
/// TEXT in the sync tables and clock anchors) opens with its rows converted and joins working.
@Suite struct MigrationTests {
    static let garage = NodeID(hex: "00112233445566778899aabbccddeeff")!
    static let hubTime: Int64 = 1_800_000_000_000

    /// A v4 file with one enrolled node's sync state in every table that names a node.
    func writeV3Hub(_ path: String, node: String = garage.hex) throws {
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v4-import")
        try queue.write { db in
            try db.execute(sql: """
                INSERT INTO sync_nodes (node, name, public_key, enrolled_at) VALUES (?, 'garage', ?, 1);
                INSERT INTO sync_tokens (token_hash, created_at, expires_at, used_at, used_by) VALUES ('t', 1, 2, 1, ?);
                INSERT INTO sync_nonces (node, nonce, seen_at) VALUES (?, 'n0000000000000000', 1);
                INSERT INTO sync_marks (origin, stream, mark, updated_at) VALUES (?, 'readings', 42, 1);
                INSERT INTO sync_gaps (origin, stream, from_seq, to_seq, recorded_at) VALUES (?, 'readings', 3, 9, 1);
                INSERT INTO sync_collisions (origin, stream, seq, detail, seen_at) VALUES (?, 'notices', 7, 'cloned', 1);
                INSERT INTO sync_origins (ref, origin) VALUES (1, ?);
                INSERT INTO clock_anchors (origin, boot_id, monotonic_ns, hub_time, recorded_at) VALUES (?, 'boot-1', 5000000000, ?, 1);
                """, arguments: [node, Data(repeating: 7, count: 32), node, node, node, node, node, node, node, Self.hubTime])
            // An event stamped under an untrusted clock, one second after the anchor.
            let stamp = ClockStamp(hlc: HLCTimestamp(milliseconds: 1_000, counter: 0), bootID: "boot-1",
                                   monotonicNanoseconds: 6_000_000_000, quality: .unsynced)
            let fault = Notice.SensorFault(sensor: "garage.door", reason: "i2c", consecutiveFailures: 3)
            _ = try EventStore.apply(db, try Event(origin: Self.garage, seq: 1, stamp: stamp, body: .sensorFault(fault)))
        }
    }

    @Test func aV3HubFileOpensWithNodeIDsAsBlobs() async throws {
        let directory = try TemporaryDirectory("migration")
        let path = directory.path + "/smollama.sqlite"
        try writeV3Hub(path)
        let database = try SmollamaDatabase.open(path: path)

        let nodes = try await database.hubSync.hubNodes()
        #expect(nodes.map(\.node) == [Self.garage.hex])
        #expect(nodes.first?.marks == ["readings": 42])
        #expect(try await database.hubSync.enrolledNodeNames() == [Self.garage: "garage"])
        #expect(try await database.hubSync.hubCollisions().map(\.node) == [Self.garage.hex])
        #expect(try await database.hubSync.hubMark(origin: Self.garage.hex, stream: .readings) == 42)
        #expect(try await database.hubSync.enrollment(of: Self.garage)?.revoked == false)
        let marks = try await database.hubSync.handshake(
            node: Self.garage, bootID: "boot-2", monotonicNanoseconds: 0, incarnation: 1, clockQuality: .synced,
            reported: [.readings: 50], streams: [.readings], now: UTCMillis(rawValue: Self.hubTime))
        #expect(marks == [.init(stream: .readings, mark: 42, gaps: [3...9])])

        try await database.reader.read { db in
            for (table, column) in [("sync_nodes", "node"), ("sync_tokens", "used_by"), ("sync_nonces", "node"),
                                    ("sync_marks", "origin"), ("sync_gaps", "origin"), ("sync_collisions", "origin"),
                                    ("sync_origins", "origin"), ("clock_anchors", "origin")] {
                let types = try String.fetchAll(db, sql: "SELECT DISTINCT typeof(\(column)) FROM \(table)")
                #expect(types == ["blob"], "\(table).\(column)")
                let ids = try NodeID.fetchAll(db, sql: "SELECT \(column) FROM \(table)")
                #expect(Set(ids) == [Self.garage], "\(table).\(column)")
            }
            // The anchor still re-times the untrusted event: the join compares like with like.
            let corrected = try Int64.fetchOne(db, sql: "SELECT corrected_time FROM events_timed WHERE origin = ?",
                                               arguments: [Self.garage])
            #expect(corrected == Self.hubTime + 1_000)
        }
    }

    @Test func aNodeIDThatIsNotHexStopsTheMigrationWithASentence() throws {
        let directory = try TemporaryDirectory("migration-bad")
        let path = directory.path + "/smollama.sqlite"
        try writeV3Hub(path, node: String(repeating: "z", count: 32))
        #expect {
            _ = try SmollamaDatabase.open(path: path)
        } throws: { error in
            "\(error)".contains("sync_nodes.node holds 'zzzz") && "\(error)".contains("not a node id")
        }
    }

    @Test func identitiesRoundTripAsTheirOneRepresentation() throws {
        #expect(NodeID.fromDatabaseValue(Self.garage.databaseValue) == Self.garage)
        #expect(NodeID.fromDatabaseValue(Self.garage.hex.databaseValue) == nil)
        #expect(SensorID.fromDatabaseValue(SensorID("hall.motion").databaseValue) == SensorID("hall.motion"))
        let stamp = HLCTimestamp(milliseconds: 5, counter: 2)
        #expect(HLCTimestamp.fromDatabaseValue(stamp.databaseValue) == stamp)
    }

    /// v13: "store is behind the hub" rows written as collisions before become restore notices,
    /// and leave the node's collision count; a real collision stays.
    @Test func restoresRecordedAsCollisionsBecomeRestoreNotices() async throws {
        let directory = try TemporaryDirectory("migration-v13")
        let path = directory.path + "/smollama.sqlite"
        let queue = try DatabaseQueue(path: path)
        try Schema.migrator.migrate(queue, upTo: "v12-simulated-sensors")
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO sync_nodes (node, name, public_key, enrolled_at, collisions) VALUES (?, 'garage', ?, 1, 2);
                INSERT INTO sync_collisions (origin, stream, seq, detail, seen_at) VALUES
                    (?, 'readings', 40, 'node store is behind the hub: it holds readings up to 40 but the hub already has up to 80 (restored from an older backup, or cloned)', 5),
                    (?, 'notices', 7, 'same event id, different content (restored or cloned node store)', 6);
                """, arguments: [Self.garage, Data(repeating: 7, count: 32), Self.garage, Self.garage])
        }
        let database = try SmollamaDatabase.open(path: path)
        let notices = try await database.hubSync.restoreNotices()
        #expect(notices.map(\.stream) == ["readings"] && notices.first?.localMax == 40 && notices.first?.node == Self.garage.hex)
        #expect(try await database.hubSync.hubCollisions().map(\.seq) == [7])
        #expect(try await database.hubSync.hubNodes().first?.collisions == 1)
        // A handshake from a node behind the hub records a notice (once), not a collision.
        try await database.writer.write { db in
            try db.execute(sql: "INSERT INTO sync_marks (origin, stream, mark, updated_at) VALUES (?, 'memories', 9, 1)",
                           arguments: [Self.garage])
        }
        for _ in 0..<2 {
            _ = try await database.hubSync.handshake(
                node: Self.garage, bootID: "boot", monotonicNanoseconds: 0, incarnation: 1, clockQuality: .synced,
                reported: [.memories: 3], streams: [.memories], now: UTCMillis(rawValue: Self.hubTime))
        }
        #expect(try await database.hubSync.restoreNotices().filter { $0.stream == "memories" }.map(\.localMax) == [3])
        #expect(try await database.hubSync.hubNodes().first?.collisions == 1)
    }
}
