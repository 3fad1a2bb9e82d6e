import Foundation
import GRDB
import SmollamaCore
@testable import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaSync

/// The torture suite: seeded schedules of writes, syncs, faults, restarts and reboots; after
/// quiescence no loss, no duplicate, one hash per id, marks never decreased, HLC monotonic,
/// shared memories identical everywhere. A failure names its seed.
@Suite(.serialized) struct SyncSimulationTests {
    @Test func randomSchedulesConverge() async throws {
        for seed in simulationSeeds(default: 6) {
            var world = try await World(seed: seed, nodes: 3)
            for _ in 0..<90 {
                let node = world.nodes[world.dice.int(0...(world.nodes.count - 1))]
                switch world.dice.int(0...9) {
                case 0...3:
                    try await node.write(readings: world.dice.int(0...80), memory: world.dice.int(0...1) == 0)
                case 4...6:
                    await node.sync()
                case 7:
                    try await node.restart(reboot: world.dice.int(0...1) == 0)
                case 8:
                    let name = node.name
                    world.dice.partition(name, world.dice.int(0...1) == 0)
                default:
                    if world.dice.int(0...3) == 0 { try await world.hub.restart() }
                    await world.advance(milliseconds: Int64(world.dice.int(1...120_000)))
                }
                try await world.checkMarks()
            }
            for node in world.nodes { world.dice.partition(node.name, false) }
            try await world.quiesce()
            try await world.checkInvariants()
        }
    }

    /// A crash at each step of a batch, then a restart: nothing lost, nothing doubled.
    @Test(arguments: [
        "after-handshake", "before-send:notices", "after-ack:notices", "before-send:memories",
        "after-ack:memories", "before-send:readings", "after-ack:readings", "after-pull",
        TransportFault.dropRequest.rawValue, TransportFault.dropResponse.rawValue,
    ])
    func crashAtEveryStepOfABatch(point: String) async throws {
        var world = try await World(seed: 100, nodes: 2, faultRate: 0)
        for node in world.nodes { try await node.write(readings: 150, memory: true) }
        await world.nodes[1].sync()
        world.dice.arm(point)
        let crashed = await world.nodes[0].sync()
        #expect(!crashed, "the fault at \(point) fired")
        try await world.nodes[0].restart(reboot: false)
        try await world.checkMarks()
        try await world.quiesce()
        try await world.checkInvariants(point)
    }

    /// Every push sent twice, old batches re-sent between new ones: overlap and reordering
    /// change nothing.
    @Test func duplicateOverlappingAndReorderedBatches() async throws {
        var world = try await World(seed: 7, nodes: 2, faultRate: 4)
        world.dice.only([.duplicate, .resendOld])
        for _ in 0..<4 {
            for node in world.nodes {
                try await node.write(readings: 90, memory: true)
                await node.sync()
            }
            try await world.checkMarks()
        }
        try await world.quiesce()
        try await world.checkInvariants()
    }

    /// Bodies corrupted or cut on the way are refused whole.
    @Test func corruptAndTruncatedPayloadsApplyNothing() async throws {
        var world = try await World(seed: 9, nodes: 2, faultRate: 4)
        world.dice.only([.corrupt, .truncate])
        for _ in 0..<3 {
            for node in world.nodes {
                try await node.write(readings: 70, memory: true)
                await node.sync()
            }
            try await world.checkMarks()
        }
        try await world.quiesce()
        try await world.checkInvariants()
    }

    /// Wall clocks at 1970, 2099, frozen and jumping back: sync works (requests are stamped in
    /// hub time), HLC stays monotonic, and unsynced stamps get repaired times on the hub.
    @Test func untrustedWallClocks() async throws {
        var world = try await World(seed: 11, nodes: 4, faultRate: 0.5,
                                    wallModes: [.epoch1970, .year2099, .frozen, .jumpsBack])
        for round in 0..<5 {
            for node in world.nodes {
                try await node.write(readings: 20, memory: round == 0)
                await node.sync()
            }
            await world.advance(milliseconds: 65_000)
            try await world.checkMarks()
        }
        try await world.quiesce()
        try await world.checkInvariants()
        // The 1970 node: every event unsynced, repaired to within a second of the real time.
        let node = world.nodes[0]
        let origin = node.node
        let hubDB = await world.hub.database
        for (seq, worldTime) in await node.stampedAt {
            let row = try await hubDB.reader.read { db in
                try Row.fetchOne(db, sql: "SELECT quality, corrected_time, hlc >> 16 AS original FROM events_timed WHERE origin = ? AND stream = 'notices' AND seq = ?",
                                 arguments: [Data(origin.bytes), seq])
                    .map { ($0["quality"] as String, $0["corrected_time"] as Int64, $0["original"] as Int64) }
            }
            let (quality, corrected, original) = try #require(row)
            #expect(quality == "unsynced")
            #expect(abs(corrected - worldTime) < 1_000, "notice \(seq): repaired \(corrected), real \(worldTime), original \(original)")
        }
        // The same node's raw readings, repaired on the hub and in the node's own queries alike.
        let lastWorld = try #require(await node.stampedAt.last?.world)
        let hubLatest = try await hubDB.reader.read { db in
            try Int64.fetchOne(db, sql: "SELECT corrected_time FROM foreign_readings_timed WHERE origin = ? ORDER BY id DESC LIMIT 1",
                               arguments: [origin])
        }
        let localLatest = try await node.database.reader.read { db in
            try Int64.fetchOne(db, sql: "SELECT corrected_time FROM readings_timed ORDER BY id DESC LIMIT 1")
        }
        #expect(abs(try #require(hubLatest) - lastWorld) < 1_000, "hub: \(hubLatest ?? 0) vs real \(lastWorld)")
        #expect(hubLatest == localLatest)
    }

    /// The hub restored from an older backup, after nodes' retention deleted what it had
    /// acknowledged: nodes resend what they still hold; what they no longer hold is a
    /// declared gap; marks (after the restore) and convergence hold.
    @Test func hubRestoredFromOlderBackup() async throws {
        var world = try await World(seed: 13, nodes: 2, faultRate: 0)
        for node in world.nodes {
            try await node.write(readings: 100, memory: true)
            await node.sync()
        }
        let backup = try await world.hub.backup()
        for node in world.nodes {
            try await node.write(readings: 100, memory: true)
            await node.sync()
        }
        let deleted = try await world.nodes[0].rollUpAndExpire()
        #expect(deleted > 100, "retention deleted the acknowledged readings")
        try await world.hub.restore(from: backup)
        world.marks = [:]  // the restored hub's marks start lower; from here they must not decrease
        for node in world.nodes { try await node.write(readings: 30, memory: false) }
        try await world.quiesce()
        try await world.checkInvariants()
        let origin = world.nodes[0].node
        let gaps = try await world.hub.database.reader.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM sync_gaps WHERE origin = ? AND stream = 'readings'", arguments: [origin]) ?? 0
        }
        #expect(gaps == 1, "the readings lost with the hub's newer state are a declared gap")
    }

    /// A node whose store was restored from an old backup re-issues ids the hub already holds
    /// with other content: the hub detects it and says so.
    @Test func nodeStoreRestoredFromOldBackupIsDetected() async throws {
        let world = try await World(seed: 17, nodes: 1, faultRate: 0)
        let node = world.nodes[0]
        try await node.write(readings: 40, memory: true)
        await node.sync()
        let backup = try await node.backup()
        try await node.write(readings: 40, memory: true)
        await node.sync()
        try await node.restore(from: backup)
        try await node.write(readings: 80, memory: true)
        try await node.write(readings: 80, memory: true)
        await node.sync()
        let summary = try #require(try await world.hub.database.hubSync.hubNodes().first)
        #expect(summary.collisions > 0, "the collision is counted")
        let collisions = try await world.hub.database.hubSync.hubCollisions()
        #expect(collisions.contains { $0.detail.contains("restored") }, "and explained: \(collisions)")
    }

    /// A hub that cannot commit (disk full) acknowledges nothing; the node resends later.
    @Test func hubDiskFullDuringApplySendsNoAck() async throws {
        var world = try await World(seed: 19, nodes: 1, faultRate: 0)
        let node = world.nodes[0]
        try await node.write(readings: 50, memory: true)
        world.hub.diskFull.set(true)
        #expect(await node.sync() == false)
        let origin = node.node
        #expect(try await world.hub.database.hubSync.hubMark(origin: origin.hex, stream: .notices) == 0)
        #expect(try await node.database.nodeSync.hubAcknowledgement(stream: .notices) == 0)
        world.hub.diskFull.set(false)
        try await world.quiesce()
        try await world.checkInvariants()
    }

    /// Pages of a pull while another node keeps pushing memories: nothing skipped or repeated.
    @Test func pagingWhileIngestingSkipsNothing() async throws {
        var world = try await World(seed: 23, nodes: 3, faultRate: 0,
                                    configuration: .init(maxEventsPerBatch: 2, maxReadingsPerBatch: 30, pullPageSize: 2))
        for step in 0..<12 {
            try await world.nodes[step % 3].write(readings: 5, memory: true)
            await world.nodes[step % 3].sync()
            await world.nodes[(step + 1) % 3].sync()
        }
        try await world.quiesce()
        try await world.checkInvariants()
    }

    /// Under disk pressure a node drops unsynced raw readings with a `store.compacted` marker:
    /// the hub records the deliberate gap and accepts what follows.
    @Test func compactionMarkerMakesTheGapDeliberate() async throws {
        var world = try await World(seed: 29, nodes: 1, faultRate: 0)
        let node = world.nodes[0]
        try await node.write(readings: 100, memory: false)
        await node.sync()
        try await node.write(readings: 100, memory: false)
        let database = await node.database
        try await database.readings.rollUpAll()
        let origin = node.node
        let range = try await database.nodeSync.compactUnsyncedReadings(upTo: 150, origin: origin, stamp: await node.stamp(),
                                                               reason: "disk full")
        #expect(range == 1...150)
        try await node.write(readings: 20, memory: false)
        try await world.quiesce()
        try await world.checkInvariants()
        let gaps = try await world.hub.database.reader.read { db in
            try Row.fetchAll(db, sql: "SELECT from_seq, to_seq FROM sync_gaps WHERE origin = ?", arguments: [origin])
                .map { SeqRange(from: $0[0], to: $0[1]) }
        }
        #expect(gaps == [SeqRange(from: 1, to: 150)])
    }

    /// A node re-imaged with the same hostname is a new identity: its old data stays on the hub
    /// under the old id, nothing collides.
    @Test func reimagedNodeWithSameNameIsANewNode() async throws {
        var world = try await World(seed: 31, nodes: 1, faultRate: 0)
        try await world.nodes[0].write(readings: 50, memory: true)
        await world.nodes[0].sync()
        let old = world.nodes[0].node
        world.nodes[0] = try await SimNode(name: "n0", world: world.clock, hub: world.hub, dice: world.dice)
        try await world.nodes[0].write(readings: 50, memory: true)
        try await world.quiesce()
        try await world.checkInvariants()
        #expect(try await world.hub.database.hubSync.hubMark(origin: old.hex, stream: .readings) == 50)
        #expect(try await world.hub.database.hubSync.hubNodes().allSatisfy { $0.collisions == 0 })
    }

    /// A long offline backlog synced over a link that fails every few requests: each failed round
    /// resumes at the hub's mark, the acknowledged mark only grows, nothing is lost.
    @Test func longBacklogOverAFlakyLink() async throws {
        var world = try await World(seed: 37, nodes: 1, faultRate: 3,
                                    configuration: .init(maxEventsPerBatch: 50, maxReadingsPerBatch: 500, pullPageSize: 50))
        world.dice.only([.dropRequest, .dropResponse])
        let node = world.nodes[0]
        for _ in 0..<20 { try await node.write(readings: 1_000, memory: false) }
        var acknowledged: Int64 = 0
        var rounds = 0
        while acknowledged < 20_000 && rounds < 500 {
            rounds += 1
            await node.sync()
            let now = try await node.database.nodeSync.hubAcknowledgement(stream: .readings)
            #expect(now >= acknowledged, "progress went back: \(acknowledged) → \(now)")
            acknowledged = now
            try await world.checkMarks()
        }
        #expect(acknowledged == 20_000, "caught up in \(rounds) rounds")
        try await world.quiesce()
        try await world.checkInvariants()
    }

    /// Disk full while offline: the oldest rolled-up readings go, with a marker; the hub
    /// records the deliberate gap and everything else arrives.
    @Test func diskPressureWhileOfflineCompactsWithAMarker() async throws {
        var world = try await World(seed: 41, nodes: 1, faultRate: 0)
        let node = world.nodes[0]
        try await node.write(readings: 200, memory: true)
        try await node.database.readings.rollUpAll()
        #expect(try await node.relieveDiskPressure(freeBytes: 5_000) == nil, "enough space: nothing deleted")
        let range = try await node.relieveDiskPressure(freeBytes: 10)
        #expect(range == SeqRange(from: 1, to: 120))
        try await node.write(readings: 30, memory: false)
        try await world.quiesce()
        try await world.checkInvariants()
        let origin = node.node
        #expect(try await world.hub.database.hubSync.hubMark(origin: origin.hex, stream: .readings) == 230)
        let gaps = try await world.hub.database.reader.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM sync_gaps WHERE origin = ?", arguments: [origin]) ?? 0
        }
        #expect(gaps == 1)
    }
}
