import Foundation
import GRDB
import SmollamaCore
@testable import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaSync

/// A hub, some nodes, one world clock and one seeded dice.
struct World {
    let seed: UInt64
    let clock: TestClockSource
    let dice: Dice
    let hub: SimHub
    var nodes: [SimNode]
    /// Every (origin/stream → mark) seen so far: marks must never decrease.
    var marks: [String: Int64] = [:]
    var markViolations: [String] = []

    init(seed: UInt64, nodes count: Int, faultRate: Double = 1, wallModes: [WallMode] = [],
         configuration: SyncClientConfiguration = .init(maxEventsPerBatch: 7, maxReadingsPerBatch: 60, pullPageSize: 4))
        async throws
    {
        self.seed = seed
        clock = TestClockSource(wall: 1_796_000_000_000)
        dice = Dice(seed: seed, rate: faultRate)
        hub = try await SimHub(world: clock)
        var nodes: [SimNode] = []
        for index in 0..<count {
            nodes.append(try await SimNode(
                name: "n\(index)", world: clock, hub: hub, dice: dice,
                wallMode: index < wallModes.count ? wallModes[index] : .good, configuration: configuration))
        }
        self.nodes = nodes
    }

    func advance(milliseconds: Int64) async {
        clock.advance(milliseconds: milliseconds)
        for node in nodes { await node.advance(milliseconds: milliseconds) }
    }

    /// Reads every mark on the hub and records any that went down.
    mutating func checkMarks() async throws {
        let rows = try await hub.database.reader.read { db in
            try Row.fetchAll(db, sql: "SELECT origin, stream, mark FROM sync_marks").map {
                ("\(($0["origin"] as NodeID).hex)/\($0["stream"] as String)", $0["mark"] as Int64)
            }
        }
        for (key, mark) in rows {
            if let previous = marks[key], mark < previous { markViolations.append("\(key): \(previous) → \(mark)") }
            marks[key] = mark
        }
    }

    /// Faults off, rounds until nothing moves.
    mutating func quiesce() async throws {
        dice.set(enabled: false)
        for node in nodes { await node.makeClient() }
        for _ in 0..<10 {
            var moved = false
            for node in nodes {
                let report = try await node.syncOrThrow()
                if report.pushed.values.contains(where: { $0 > 0 }) || report.pulled > 0 { moved = true }
                try await checkMarks()
            }
            if !moved { return }
        }
        Issue.record("seed \(seed): sync did not quiesce in 10 passes")
    }

    /// The properties of the issue, after quiescence.
    func checkInvariants(_ context: String = "") async throws {
        let label = "seed \(seed)\(context.isEmpty ? "" : " (\(context))") — replay with SMOLLAMA_SYNC_SEED=\(seed)"
        #expect(markViolations.isEmpty, "\(label): marks decreased: \(markViolations)")
        let hubDB = await hub.database
        var memoryViews: [Set<String>] = []
        for node in nodes {
            let name = node.name
            let origin = node.node
            let database = await node.database
            let violations = await node.hlcViolations
            #expect(violations.isEmpty, "\(label): \(name) HLC went back: \(violations)")
            for stream in EventStream.allCases {
                let local = try await database.events.fetch(origin: origin, stream: stream, limit: 1_000_000)
                let remote = try await hubDB.events.fetch(origin: origin, stream: stream, limit: 1_000_000)
                #expect(local.map(\.seq) == remote.map(\.seq), "\(label): \(name) \(stream) seqs differ: node \(local.count), hub \(remote.count)")
                #expect(local.map(\.hash) == remote.map(\.hash), "\(label): \(name) \(stream) hashes differ")
                let mark = try await hubDB.hubSync.hubMark(origin: origin.hex, stream: SyncStream(stream))
                #expect(mark == (local.last?.seq ?? 0), "\(label): \(name) \(stream) mark \(mark) ≠ local \(local.last?.seq ?? 0)")
            }
            // Raw readings: everything the node still holds is on the hub, identical.
            let localReadings = try await database.reader.read { db in
                try Row.fetchAll(db, sql: "SELECT r.id, s.key, r.time, r.value FROM readings r JOIN sensors s ON s.id = r.sensor ORDER BY r.id")
                    .map { "\($0[0] as Int64) \($0[1] as String) \($0[2] as Int64) \($0[3] as Double)" }
            }
            let hubReadings = try await hubDB.reader.read { db in
                try Row.fetchAll(db, sql: "SELECT id, sensor, time, value FROM foreign_readings_timed WHERE origin = ? ORDER BY id",
                                 arguments: [origin])
                    .map { "\($0[0] as Int64) \($0[1] as String) \($0[2] as Int64) \($0[3] as Double)" }
            }
            let hubSet = Set(hubReadings)
            let missing = localReadings.filter { !hubSet.contains($0) }
            #expect(missing.isEmpty, "\(label): \(name) has \(missing.count) readings the hub lacks, e.g. \(missing.prefix(3))")
            #expect(hubSet.count == hubReadings.count, "\(label): duplicate readings on the hub")
            let readingsMark = try await hubDB.hubSync.hubMark(origin: origin.hex, stream: .readings)
            let localMax = try await database.nodeSync.localMax(origin: origin, stream: .readings)
            #expect(readingsMark == localMax, "\(label): \(name) readings mark \(readingsMark) ≠ local max \(localMax)")
            memoryViews.append(try await Self.memoryView(database))
        }
        // Every node holds the same shared memory events as the hub, and the same projected
        // memories (one deterministic winner per id, whatever order versions arrived in).
        let hubView = try await Self.memoryView(hubDB)
        let hubWinners = try await Self.memoryWinners(hubDB)
        for (index, view) in memoryViews.enumerated() {
            #expect(view == hubView, "\(label): n\(index) memories differ from the hub: \(view.symmetricDifference(hubView).count) events")
            let winners = try await Self.memoryWinners(await nodes[index].database)
            #expect(winners == hubWinners, "\(label): n\(index) memory winners differ from the hub's")
        }
    }

    static func memoryWinners(_ database: SmollamaDatabase) async throws -> [String] {
        try await database.knowledge.memories(currentOnly: false, limit: 100_000)
            .map { "\($0.record.id) \($0.version.origin.hex)/\($0.version.seq) \($0.record.text)" }.sorted()
    }

    static func memoryView(_ database: SmollamaDatabase) async throws -> Set<String> {
        try await database.reader.read { db in
            Set(try Row.fetchAll(db, sql: "SELECT hex(origin) AS o, seq, hex(hash) AS h FROM events WHERE stream = 'memories'")
                .map { "\($0["o"] as String)/\($0["seq"] as Int64)/\($0["h"] as String)" })
        }
    }
}

/// Seeds to run: SMOLLAMA_SYNC_SEED=n replays one; SMOLLAMA_SYNC_SEEDS=n runs that many.
func simulationSeeds(default count: Int) -> [UInt64] {
    let environment = ProcessInfo.processInfo.environment
    if let seed = environment["SMOLLAMA_SYNC_SEED"].flatMap(UInt64.init) { return [seed] }
    let total = environment["SMOLLAMA_SYNC_SEEDS"].flatMap(Int.init) ?? count
    return (1...UInt64(max(1, total))).map { $0 }
}
