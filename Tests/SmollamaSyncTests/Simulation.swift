import Foundation
import GRDB
import Logging
import SmollamaCore
@testable import SmollamaStore
import SmollamaTesting
import Synchronization
import Testing
@testable import SmollamaSync

struct InjectedFault: Error, CustomStringConvertible {
    var point: String
    var description: String { "injected fault: \(point)" }
}

/// The seeded dice every fault decision is made with, plus one-shot faults set by a test.
final class Dice: Sendable {
    struct State {
        var rng: SplitMix64
        var rate: Double
        var enabled = true
        /// Points (crash point or transport fault name) that fire once, then clear.
        var once: Set<String> = []
        /// Transport faults allowed in random mode.
        var transportFaults: [TransportFault] = TransportFault.allCases
        var partitioned: Set<String> = []
    }
    let state: Mutex<State>

    init(seed: UInt64, rate: Double) { state = Mutex(State(rng: SplitMix64(state: seed), rate: rate)) }

    func chance(_ probability: Double) -> Bool {
        state.withLock { state in
            guard state.enabled else { return false }
            return Double(state.rng.next() % 1_000_000) / 1_000_000 < probability * state.rate
        }
    }

    func int(_ range: ClosedRange<Int>) -> Int {
        state.withLock { Int.random(in: range, using: &$0.rng) }
    }

    func fireOnce(_ point: String) -> Bool {
        state.withLock { $0.once.remove(point) != nil }
    }

    func set(enabled: Bool) { state.withLock { $0.enabled = enabled } }
    func arm(_ point: String) { state.withLock { _ = $0.once.insert(point) } }
    func partition(_ node: String, _ on: Bool) {
        state.withLock { if on { $0.partitioned.insert(node) } else { $0.partitioned.remove(node) } }
    }
    func isPartitioned(_ node: String) -> Bool { state.withLock { $0.partitioned.contains(node) } }
    func randomTransportFault() -> TransportFault? {
        state.withLock { state in
            guard state.enabled, !state.transportFaults.isEmpty,
                  Double(state.rng.next() % 1_000_000) / 1_000_000 < 0.25 * state.rate
            else { return nil }
            return state.transportFaults[Int(state.rng.next() % UInt64(state.transportFaults.count))]
        }
    }
    func only(_ faults: [TransportFault]) { state.withLock { $0.transportFaults = faults } }
}

enum TransportFault: String, CaseIterable, Sendable {
    /// The request never reaches the hub.
    case dropRequest
    /// The hub commits, the answer is lost (crash after hub commit, before the ack arrives).
    case dropResponse
    /// The same batch is sent twice (fresh signature), the second answer is returned.
    case duplicate
    /// An older push is re-sent (fresh signature) before this one: overlap and reordering.
    case resendOld
    /// One byte of the body flipped on the way.
    case corrupt
    /// The body cut in half on the way.
    case truncate
}

/// The network between one node and the hub, with seeded faults.
final class FaultyTransport: SyncTransport {
    let hub: SimHub
    let dice: Dice
    let name: String
    let node: NodeID
    let key: SyncKey
    let old = Mutex<[SyncHTTPRequest]>([])
    let log = Mutex<[String]>([])

    init(hub: SimHub, dice: Dice, name: String, node: NodeID, key: SyncKey) {
        self.hub = hub
        self.dice = dice
        self.name = name
        self.node = node
        self.key = key
    }

    /// The same request with a fresh nonce and signature (what a node retrying would send).
    func resigned(_ request: SyncHTTPRequest, at now: SyncHTTPRequest? = nil) async throws -> SyncHTTPRequest {
        var plain = request.body
        if request.headers[SyncProtocol.Header.encoding] == "zlib",
           let length = Int(request.headers[SyncProtocol.Header.rawLength] ?? "") {
            plain = try Deflate.decompress(request.body, length: length)
        }
        let time = UTCMillis(rawValue: Int64((now ?? request).headers[SyncProtocol.Header.time] ?? "") ?? 0)
        return try SyncSigning.request(path: request.path, body: plain, node: node, key: key, time: time)
    }

    func send(_ request: SyncHTTPRequest) async throws -> SyncHTTPResponse {
        if dice.isPartitioned(name) { throw InjectedFault(point: "partition") }
        var fault = dice.randomTransportFault()
        for candidate in TransportFault.allCases where dice.fireOnce(candidate.rawValue) { fault = candidate }
        if request.path == SyncProtocol.Path.push { old.withLock { $0.append(request); if $0.count > 8 { $0.removeFirst() } } }
        log.withLock { $0.append("\(request.path) \(fault?.rawValue ?? "ok")") }
        switch fault {
        case nil:
            return await hub.handle(request)
        case .dropRequest:
            throw InjectedFault(point: "drop request")
        case .dropResponse:
            _ = await hub.handle(request)
            throw InjectedFault(point: "drop response")
        case .duplicate:
            _ = await hub.handle(request)
            guard !request.headers.isEmpty else { return await hub.handle(request) }
            return await hub.handle(try await resigned(request))
        case .resendOld:
            if let stale = old.withLock({ $0.randomElement() }), !stale.headers.isEmpty, !request.headers.isEmpty {
                let answer = await hub.handle(try await resigned(stale, at: request))
                #expect(answer.status == 200 || answer.status == 409, "a re-sent old batch is a no-op: \(String(decoding: answer.body, as: UTF8.self))")
            }
            return await hub.handle(request)
        case .corrupt:
            var broken = request
            if !broken.body.isEmpty {
                let index = dice.int(0...(broken.body.count - 1))
                broken.body[index] ^= 0x5A
            }
            let answer = await hub.handle(broken)
            #expect(broken.body.isEmpty || request.path == SyncProtocol.Path.time || request.path == SyncProtocol.Path.enroll
                    || (400..<500).contains(answer.status), "a corrupted body is refused")
            return answer
        case .truncate:
            var broken = request
            broken.body = Array(request.body.prefix(request.body.count / 2))
            let answer = await hub.handle(broken)
            #expect(request.body.count < 2 || request.path == SyncProtocol.Path.time || (400..<500).contains(answer.status),
                    "a truncated body is refused")
            return answer
        }
    }
}

final class Flag: Sendable {
    let value = Mutex(false)
    func set(_ on: Bool) { value.withLock { $0 = on } }
    var isOn: Bool { value.withLock { $0 } }
}

struct DiskFull: Error {}

/// The hub: a real SQLite file, restartable, restorable from a backup.
actor SimHub {
    let directory: TemporaryDirectory
    let node = NodeID.random()
    let key: SyncKey
    let world: TestClockSource
    let diskFull = Flag()
    private(set) var hub: SyncHub
    private(set) var path: String
    private var generation = 0

    init(world: TestClockSource) async throws {
        directory = try TemporaryDirectory("hub")
        key = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        self.world = world
        path = directory.path + "/hub-0.sqlite"
        hub = try await Self.open(path: path, node: node, key: key, world: world, diskFull: diskFull)
    }

    static func open(path: String, node: NodeID, key: SyncKey, world: TestClockSource, diskFull: Flag) async throws -> SyncHub {
        let database = try SmollamaDatabase.open(path: path)
        try await database.meta.claim(for: node, incarnation: 1)
        return SyncHub(database: database, hubNode: node, hubName: "hub", key: key, logger: .quiet,
                       now: { UTCMillis(rawValue: world.wallMilliseconds()) },
                       beforeCommit: { if diskFull.isOn { throw DiskFull() } })
    }

    var database: SmollamaDatabase { hub.database }

    func handle(_ request: SyncHTTPRequest) async -> SyncHTTPResponse { await InProcessSyncTransport(hub: hub).send(request) }

    func restart() async throws {
        hub = try await Self.open(path: path, node: node, key: key, world: world, diskFull: diskFull)
    }

    func backup() throws -> String {
        generation += 1
        let target = directory.path + "/backup-\(generation).sqlite"
        try hub.database.writer.backup(to: DatabaseQueue(path: target))
        return target
    }

    /// Replaces the store with a backup copy (as an operator restoring the hub would).
    func restore(from backup: String) async throws {
        generation += 1
        path = directory.path + "/hub-\(generation).sqlite"
        try FileManager.default.copyItem(atPath: backup, toPath: path)
        hub = try await Self.open(path: path, node: node, key: key, world: world, diskFull: diskFull)
    }

    func enroll(node: NodeID, key: SyncKey, name: String) async throws {
        let token = try await hub.createToken()
        let body = try JSONEncoder().encode(EnrollRequest(token: token, node: node, name: name, publicKey: key.publicKeyHex,
                                                          incarnation: 1))
        let answer = await InProcessSyncTransport(hub: hub).send(SyncHTTPRequest(path: SyncProtocol.Path.enroll, headers: [:], body: [UInt8](body)))
        #expect(answer.status == 200, "enroll: \(String(decoding: answer.body, as: UTF8.self))")
    }

    var info: HubInfo { HubInfo(url: "sim://hub", hubNode: node, hubName: "hub", hubPublicKey: key.publicKeyHex) }
}

/// How a node's wall clock misbehaves.
enum WallMode: Sendable {
    case good
    case epoch1970
    case year2099
    case frozen
    case jumpsBack
}

/// A node: a real SQLite file, its clock, its sync client; restartable and restorable.
actor SimNode {
    let name: String
    let directory: TemporaryDirectory
    let node = NodeID.random()
    let key: SyncKey
    let world: TestClockSource
    let hub: SimHub
    let dice: Dice
    let transport: FaultyTransport
    let wallMode: WallMode
    var configuration: SyncClientConfiguration
    private(set) var clockSource: TestClockSource
    private(set) var database: SmollamaDatabase
    private(set) var path: String
    private var clock: NodeClock
    private var client: SyncClient
    private var sensorRows: [Int64] = []
    private var boots = 0
    private var generation = 0
    private(set) var lastStamp: HLCTimestamp?
    private(set) var hlcViolations: [String] = []
    /// (event, world time when it was stamped): to check repaired times.
    private(set) var stampedAt: [(seq: Int64, world: Int64)] = []

    init(name: String, world: TestClockSource, hub: SimHub, dice: Dice, wallMode: WallMode = .good,
         configuration: SyncClientConfiguration = .init(maxEventsPerBatch: 7, maxReadingsPerBatch: 60, pullPageSize: 4))
        async throws
    {
        self.name = name
        self.world = world
        self.hub = hub
        self.dice = dice
        self.wallMode = wallMode
        self.configuration = configuration
        directory = try TemporaryDirectory("node-\(name)")
        key = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        transport = FaultyTransport(hub: hub, dice: dice, name: name, node: node, key: key)
        path = directory.path + "/node-0.sqlite"
        let source = TestClockSource(wall: Self.wall(wallMode, world: world), monotonic: 5_000_000_000, bootID: "\(name)-boot-0")
        clockSource = source
        let opened = try await Self.open(path: path, node: node)
        database = opened
        clock = NodeClock(source: source, persisted: try await opened.meta.maxIssuedTimestamp())
        client = SyncClient(database: opened, node: node, incarnation: 1, key: key, hub: await hub.info, clockSource: source,
                            transport: transport, configuration: configuration, logger: .quiet,
                            faults: SyncFaults { [dice] point in
                                if dice.fireOnce(point) || dice.chance(0.03) { throw InjectedFault(point: point) }
                            })
        let rows = try await opened.readings.registerSensors(
            [SensorDescriptor(id: SensorID("\(name).temp"), name: "temp", kind: .numeric),
             SensorDescriptor(id: SensorID("\(name).door"), name: "door", kind: .binary)],
            driver: "sim", now: UTCMillis(rawValue: world.wallMilliseconds()))
        sensorRows = rows.map(\.rowID)
        try await hub.enroll(node: node, key: key, name: name)
    }

    static func wall(_ mode: WallMode, world: TestClockSource) -> Int64 {
        switch mode {
        case .good, .frozen, .jumpsBack: world.wallMilliseconds()
        case .epoch1970: 0
        case .year2099: 4_102_444_800_000
        }
    }

    static func open(path: String, node: NodeID) async throws -> SmollamaDatabase {
        let database = try SmollamaDatabase.open(path: path)
        try await database.meta.claim(for: node, incarnation: 1)
        return database
    }

    func makeClient() async {
        let dice = self.dice
        client = SyncClient(database: database, node: node, incarnation: 1, key: key, hub: await hub.info,
                            clockSource: clockSource, transport: transport, configuration: configuration, logger: .quiet,
                            faults: SyncFaults { point in
                                if dice.fireOnce(point) || dice.chance(0.03) { throw InjectedFault(point: point) }
                            })
    }

    func setConfiguration(_ configuration: SyncClientConfiguration) async {
        self.configuration = configuration
        await makeClient()
    }

    /// Real time passes: the monotonic clock always advances; the wall clock per its mode.
    func advance(milliseconds: Int64) {
        switch wallMode {
        case .good, .epoch1970, .year2099:
            clockSource.advance(milliseconds: milliseconds)
        case .frozen:
            let wall = clockSource.wallMilliseconds()
            clockSource.advance(milliseconds: milliseconds)
            clockSource.setWall(wall)
        case .jumpsBack:
            clockSource.advance(milliseconds: milliseconds)
            if milliseconds > 0 && dice.int(0...3) == 0 { clockSource.setWall(clockSource.wallMilliseconds() - 3_600_000) }
        }
    }

    func stamp() async -> ClockStamp {
        let stamp = await clock.stamp().stamp
        if let lastStamp, stamp.hlc <= lastStamp {
            hlcViolations.append("\(name): \(stamp.hlc) after \(lastStamp)")
        }
        lastStamp = stamp.hlc
        return stamp
    }

    /// Writes readings, a notice and sometimes a memory, as the daemon would.
    func write(readings count: Int, memory: Bool) async throws {
        var pending: [PendingReading] = []
        for index in 0..<count {
            let row = sensorRows[index % sensorRows.count]
            pending.append(PendingReading(sensorRowID: row, value: Double(dice.int(0...1000)) / 10, stamp: await stamp()))
        }
        let noticeStamp = await stamp()
        let notice = try PendingNotice(
            .sensorFault(Notice.SensorFault(sensor: SensorID("\(name).temp"), reason: "sim", consecutiveFailures: 1)),
            stamp: noticeStamp)
        try await database.readings.commit(readings: pending, notices: [notice], origin: node)
        let seq = try await database.nodeSync.localMax(origin: node, stream: .notices)
        stampedAt.append((seq, world.wallMilliseconds()))
        if memory {
            // Half the time edit a memory this node knows (perhaps another node's, perhaps being
            // edited elsewhere too: concurrent versions become siblings with one winner).
            let known = try await database.knowledge.memories(currentOnly: false, limit: 1_000)
            let now = world.wallMilliseconds()
            if !known.isEmpty && dice.int(0...1) == 0 {
                let current = known[dice.int(0...(known.count - 1))]
                var edited = current.record
                edited.text = "\(name) revised \(dice.int(0...999))"
                edited.parent = current.version
                try await database.knowledge.record(edited, origin: node, stamp: await stamp())
            } else {
                try await database.knowledge.record(
                    MemoryRecord(id: UUID().uuidString, kind: "fact", subjects: ["\(name).temp"],
                                 text: "\(name) learned \(dice.int(0...999))", confidence: 0.5, importance: 0.5,
                                 validFrom: UTCMillis(rawValue: now), createdAt: UTCMillis(rawValue: now), source: .user),
                    origin: node, stamp: await stamp())
            }
        }
    }

    /// One round; false if it failed (faults are expected).
    @discardableResult
    func sync() async -> Bool {
        do {
            try await client.syncOnce()
            return true
        } catch {
            return false
        }
    }

    func syncOrThrow() async throws -> SyncRoundReport { try await client.syncOnce() }

    func relieveDiskPressure(freeBytes: Int64) async throws -> SeqRange? {
        try await client.relieveDiskPressure(minFreeBytes: 1_000, freeBytes: freeBytes, chunk: 120)
    }

    /// Process restart (same boot) or reboot (new boot id, monotonic clock from zero).
    func restart(reboot: Bool) async throws {
        if reboot {
            boots += 1
            let wall = Self.wall(wallMode == .good ? .good : wallMode, world: world)
            clockSource = TestClockSource(wall: wall, monotonic: 2_000_000_000, bootID: "\(name)-boot-\(boots)")
        }
        database = try await Self.open(path: path, node: node)
        clock = NodeClock(source: clockSource, persisted: try await database.meta.maxIssuedTimestamp())
        await makeClient()
    }

    func backup() throws -> String {
        generation += 1
        let target = directory.path + "/backup-\(generation).sqlite"
        try database.writer.backup(to: DatabaseQueue(path: target))
        return target
    }

    func restore(from backup: String) async throws {
        generation += 1
        path = directory.path + "/node-\(generation).sqlite"
        try FileManager.default.copyItem(atPath: backup, toPath: path)
        try await restart(reboot: true)
    }

    func rollUpAndExpire() async throws -> Int {
        try await database.readings.rollUpAll()
        return try await database.deleteExpiredReadings(olderThan: .distantFuture, acknowledgedBy: NodeSyncStore.hubPeer)
    }
}
