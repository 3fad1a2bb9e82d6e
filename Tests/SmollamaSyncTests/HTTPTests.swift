import Foundation
import GRDB
import Hummingbird
import Logging
import SmollamaCore
import SmollamaStore
import SmollamaTesting
import Synchronization
import Testing
@testable import SmollamaSync

/// A hub served over real HTTP on 127.0.0.1 (port 0), and nodes talking to it with the real client.
struct LoopbackHub {
    let directory: TemporaryDirectory
    let hub: SyncHub
    let node = NodeID.random()
    let key: SyncKey

    init(beforeCommit: @escaping @Sendable () throws -> Void = {}) async throws {
        directory = try TemporaryDirectory("http-hub")
        key = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let database = try SmollamaDatabase.open(path: directory.path + "/hub.sqlite")
        try await database.meta.claim(for: node, incarnation: 1)
        hub = SyncHub(database: database, hubNode: node, hubName: "hub", key: key, logger: .quiet,
                      beforeCommit: beforeCommit)
    }

    var info: HubInfo { HubInfo(url: "", hubNode: node, hubName: "hub", hubPublicKey: key.publicKeyHex) }

    /// Serves the hub while `body` runs.
    func serve(_ body: @Sendable (_ url: String) async throws -> Void) async throws {
        let router = Router(context: BasicRequestContext.self)
        SyncRoutes(hub: hub).register(on: router)
        let port = Mutex<Int?>(nil)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } },
                              logger: .quiet)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            #expect(try await eventually { port.withLock { $0 } != nil }, "the hub started")
            let url = "http://127.0.0.1:\(port.withLock { $0 } ?? 0)"
            do {
                try await body(url)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }
}

/// A node with some readings and events, enrolled with the hub.
struct LoopbackNode {
    let store: TestStore
    let key: SyncKey
    let clock: TestClockSource

    /// `wall` is the node's wall clock (a node a year fast is given one a year ahead).
    init(hub: LoopbackHub, readings: Int, wall: Int64 = 1_796_000_000_000) async throws {
        clock = TestClockSource(wall: wall)
        store = try await TestStore()
        key = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let token = try await hub.hub.createToken()
        let enrolled = await hub.hub.enroll(EnrollRequestBody.make(token: token, node: store.node, key: key))
        #expect(enrolled.status == 200)
        let sensors = try await store.database.readings.registerSensors(
            [SensorDescriptor(id: "room.temp", name: "temp")], driver: "test", now: UTCMillis(rawValue: clock.wallMilliseconds()))
        let nodeClock = NodeClock(source: clock, persisted: nil)
        var pending: [PendingReading] = []
        for index in 0..<readings {
            pending.append(PendingReading(sensorRowID: sensors[0].rowID, value: Double(index % 50) / 2, stamp: await nodeClock.stamp().stamp))
        }
        let notice = try PendingNotice(.sensorFault(Notice.SensorFault(sensor: "room.temp", reason: "test", consecutiveFailures: 3)),
                                       stamp: await nodeClock.stamp().stamp)
        try await store.database.readings.commit(readings: pending, notices: [notice], origin: store.node)
    }

    func client(hub: LoopbackHub, url: String, transport: (any SyncTransport)? = nil) -> SyncClient {
        SyncClient(database: store.database, node: store.node, incarnation: 1, key: key, hub: hub.info, clockSource: clock,
                   transport: transport ?? HTTPSyncTransport(baseURL: url), logger: .quiet)
    }

    func signed(_ path: String, _ body: [UInt8], time: UTCMillis = .now()) throws -> SyncHTTPRequest {
        try SyncSigning.request(path: path, body: body, node: store.node, key: key, time: time)
    }
}

enum EnrollRequestBody {
    static func make(token: String, node: NodeID, key: SyncKey) -> SyncHTTPRequest {
        let body = (try? JSONEncoder().encode(EnrollRequest(token: token, node: node, name: "node", publicKey: key.publicKeyHex,
                                                           incarnation: 1))) ?? Data()
        return SyncHTTPRequest(path: SyncProtocol.Path.enroll, headers: [:], body: [UInt8](body))
    }
}

extension SyncHub {
    func enroll(_ request: SyncHTTPRequest) async -> SyncHTTPResponse { await InProcessSyncTransport(hub: self).send(request) }
}

func message(_ response: SyncHTTPResponse) -> String {
    (try? JSONDecoder().decode(SyncErrorBody.self, from: Data(response.body)))?.error.message ?? String(decoding: response.body, as: UTF8.self)
}

func code(_ response: SyncHTTPResponse) -> String {
    (try? JSONDecoder().decode(SyncErrorBody.self, from: Data(response.body)))?.error.code ?? ""
}

@Suite(.serialized) struct SyncHTTPTests {
    /// Enroll, sync over loopback, converge; then the same round again moves nothing.
    @Test func syncOverLoopback() async throws {
        let hub = try await LoopbackHub()
        let node = try await LoopbackNode(hub: hub, readings: 5_000)
        try await hub.serve { url in
            let client = node.client(hub: hub, url: url)
            let report = try await client.syncOnce()
            #expect(report.pushed["readings"] == 5_000)
            #expect(report.bytesSent < 5_000 * 6, "deflated columns: \(report.bytesSent) bytes for 5000 readings")
            #expect(try await hub.hub.database.hubSync.hubMark(origin: node.store.node.hex, stream: .readings) == 5_000)
            #expect(try await node.store.database.nodeSync.hubAcknowledgement(stream: .readings) == 5_000)
            let again = try await client.syncOnce()
            #expect(again.pushed.values.allSatisfy { $0 == 0 })
            let status = try await node.store.database.syncStatus(origin: node.store.node)
            #expect(status.allSatisfy { $0.backlog == 0 })
            let summary = try #require(try await hub.hub.database.hubSync.hubNodes().first)
            #expect(summary.backlog == 0 && summary.foreignReadings == 5_000 && summary.lastSeen != nil)
        }
    }

    /// Oversize, invalid JSON, wrong types, unknown paths: a 4xx naming the problem, and nothing changes.
    @Test func badInputAtTheBoundary() async throws {
        let hub = try await LoopbackHub()
        let node = try await LoopbackNode(hub: hub, readings: 10)
        try await hub.serve { url in
            let transport = HTTPSyncTransport(baseURL: url)
            let huge = [UInt8](repeating: 0x20, count: SyncProtocol.maxBodyBytes + 1024)
            let oversize = try await transport.send(try SyncSigning.request(
                path: SyncProtocol.Path.push, body: huge, node: node.store.node, key: node.key, time: .now(), compress: false))
            #expect(oversize.status == 413 && message(oversize).contains("smaller batches"), "\(message(oversize))")

            let invalid = try await transport.send(try node.signed(SyncProtocol.Path.push, Array("{not json".utf8)))
            #expect(invalid.status == 400 && message(invalid).contains("not valid JSON"), "\(message(invalid))")

            let wrongType = try await transport.send(try node.signed(
                SyncProtocol.Path.push,
                Array(#"{"node":"\#(node.store.node.hex)","stream":"notices","fromSeq":"one","toSeq":1,"events":[]}"#.utf8)))
            #expect(wrongType.status == 400 && message(wrongType).contains("fromSeq"), "\(message(wrongType))")

            let missing = try await transport.send(try node.signed(SyncProtocol.Path.handshake, Array("{}".utf8)))
            #expect(missing.status == 400 && message(missing).contains("missing"), "\(message(missing))")

            let unknown = try await transport.send(SyncHTTPRequest(path: "/sync/v1/nothing", headers: [:], body: []))
            #expect(unknown.status == 404)

            let unsigned = try await transport.send(SyncHTTPRequest(path: SyncProtocol.Path.push, headers: [:], body: Array("{}".utf8)))
            #expect(unsigned.status == 400 && message(unsigned).contains(SyncProtocol.Header.version))

            // An event whose payload was altered after hashing: refused whole.
            var event = try #require(try await node.store.database.events.fetch(origin: node.store.node, stream: .notices).first)
            event.payload = Data(#"{"forged":true}"#.utf8)
            let push = PushRequest(node: node.store.node, stream: .notices, fromSeq: 1, toSeq: 1, events: [event], readings: nil)
            let forged = try await transport.send(try node.signed(SyncProtocol.Path.push, try SyncJSON.encode(push)))
            #expect(forged.status == 400 && message(forged).contains("hash"), "\(message(forged))")

            // Readings columns of different lengths.
            var columns = ReadingColumns()
            columns.sensors = ["room.temp"]
            columns.epochs = [WireEpoch(id: 1, bootID: "b", quality: "synced", startedHLC: 0, startedMonotonicNanoseconds: 0)]
            columns.id = [1, 1]
            columns.sensor = [0, 0]
            columns.time = [1, 1]
            columns.value = [1]
            columns.epoch = [0, 0]
            let ragged = PushRequest(node: node.store.node, stream: .readings, fromSeq: 1, toSeq: 2, events: nil, readings: columns)
            let raggedAnswer = try await transport.send(try node.signed(SyncProtocol.Path.push, try SyncJSON.encode(ragged)))
            #expect(raggedAnswer.status == 400 && message(raggedAnswer).contains("differ in length"), "\(message(raggedAnswer))")

            // A truncated deflated body, correctly signed: refused as corrupt.
            let plain = try SyncJSON.encode(push)
            var request = try node.signed(SyncProtocol.Path.push, plain + [UInt8](repeating: 0x20, count: 2000))
            request.body = Array(request.body.prefix(request.body.count / 2))
            let truncated = try await transport.send(request)
            #expect((400..<500).contains(truncated.status))

            for stream in SyncProtocol.pushOrder {
                #expect(try await hub.hub.database.hubSync.hubMark(origin: node.store.node.hex, stream: stream) == 0, "nothing applied")
            }
            let events = try await hub.hub.database.events.fetch(origin: node.store.node, stream: .notices)
            #expect(events.isEmpty)
        }
    }

    /// Spoofed origin, replayed request, revoked key, unknown node, bad token: all refused.
    @Test func spoofedReplayedAndRevokedAreRejected() async throws {
        let hub = try await LoopbackHub()
        let alice = try await LoopbackNode(hub: hub, readings: 10)
        let mallory = try await LoopbackNode(hub: hub, readings: 10)
        try await hub.serve { url in
            let transport = HTTPSyncTransport(baseURL: url)
            // Mallory signs a batch of Alice's events.
            let events = try await alice.store.database.events.fetch(origin: alice.store.node, stream: .notices)
            let spoof = PushRequest(node: mallory.store.node, stream: .notices, fromSeq: 1, toSeq: 1, events: events, readings: nil)
            let spoofed = try await transport.send(try mallory.signed(SyncProtocol.Path.push, try SyncJSON.encode(spoof)))
            #expect(spoofed.status == 403 && code(spoofed) == "origin_mismatch", "\(message(spoofed))")
            // Mallory claims to be Alice: the signature does not match Alice's key.
            var claim = try mallory.signed(SyncProtocol.Path.push, try SyncJSON.encode(spoof))
            claim.headers[SyncProtocol.Header.node] = alice.store.node.hex
            let impostor = try await transport.send(claim)
            #expect(impostor.status == 401 && code(impostor) == "bad_signature")

            // Alice's genuine request, replayed.
            let push = PushRequest(node: alice.store.node, stream: .notices, fromSeq: 1, toSeq: 1, events: events, readings: nil)
            let request = try alice.signed(SyncProtocol.Path.push, try SyncJSON.encode(push))
            #expect(try await transport.send(request).status == 200)
            let replay = try await transport.send(request)
            #expect(replay.status == 401 && code(replay) == "replay", "\(message(replay))")
            // A request stamped an hour ago.
            let stale = try await transport.send(try alice.signed(SyncProtocol.Path.push, try SyncJSON.encode(push),
                                                                  time: .now() - .seconds(3600)))
            #expect(stale.status == 401 && code(stale) == "stale_request")

            // Revoked: refused, and the node's data stays queued.
            #expect(try await hub.hub.revoke(node: alice.store.node.hex))
            await #expect(throws: SyncClientError.self) { try await alice.client(hub: hub, url: url).syncOnce() }
            let status = try await alice.store.database.syncStatus(origin: alice.store.node)
            #expect(status.contains { ($0.lastError ?? "").contains("revoked") }, "\(status)")
            #expect(try await alice.store.database.readings.readingCount() == 10)

            // A token works once; an unknown one not at all.
            let token = try await hub.hub.createToken()
            let first = try await transport.send(EnrollRequestBody.make(token: token, node: NodeID.random(), key: alice.key))
            #expect(first.status == 200)
            let again = try await transport.send(EnrollRequestBody.make(token: token, node: NodeID.random(), key: alice.key))
            #expect(again.status == 403 && code(again) == "token_used")
            let bogus = try await transport.send(EnrollRequestBody.make(token: "nope", node: NodeID.random(), key: alice.key))
            #expect(bogus.status == 403 && code(bogus) == "bad_token")
        }
    }

    /// A failure that is not a refusal (here the disk, inside the push transaction) leaves the
    /// route as the sync envelope: a 503 `unavailable` that says nothing was applied.
    @Test func aStoreFailureAnswersTheSyncEnvelope() async throws {
        struct DiskFull: Error {}
        let failing = Mutex(true)
        let hub = try await LoopbackHub(beforeCommit: { if failing.withLock({ $0 }) { throw DiskFull() } })
        let node = try await LoopbackNode(hub: hub, readings: 10)
        try await hub.serve { url in
            do {
                try await node.client(hub: hub, url: url).syncOnce()
                Issue.record("a failing hub store must refuse the push")
            } catch let SyncClientError.refused(refusal) {
                #expect(refusal.status == 503 && refusal.code == "unavailable", "\(refusal)")
                #expect(refusal.message.contains("nothing was applied"))
            }
            failing.withLock { $0 = false }
            try await node.client(hub: hub, url: url).syncOnce()
            #expect(try await hub.hub.database.hubSync.hubMark(origin: node.store.node.hex, stream: .readings) == 10)
        }
    }

    /// A hub speaking another protocol version refuses; the node keeps everything and syncs
    /// once both agree.
    @Test func versionMismatchIsRefusedAndNothingIsLost() async throws {
        struct FutureNode: SyncTransport {
            let inner: HTTPSyncTransport
            func send(_ request: SyncHTTPRequest) async throws -> SyncHTTPResponse {
                var request = request
                if request.headers[SyncProtocol.Header.version] != nil { request.headers[SyncProtocol.Header.version] = "2" }
                return try await inner.send(request)
            }
        }
        let hub = try await LoopbackHub()
        let node = try await LoopbackNode(hub: hub, readings: 100)
        try await hub.serve { url in
            let future = node.client(hub: hub, url: url, transport: FutureNode(inner: HTTPSyncTransport(baseURL: url)))
            do {
                try await future.syncOnce()
                Issue.record("a version mismatch must be refused")
            } catch let SyncClientError.refused(refusal) {
                #expect(refusal.status == 426 && refusal.message.contains("upgrade"))
            }
            #expect(try await node.store.database.readings.readingCount() == 100)
            #expect(try await node.store.database.nodeSync.hubAcknowledgement(stream: .readings) == 0)
            try await node.client(hub: hub, url: url).syncOnce()
            #expect(try await hub.hub.database.hubSync.hubMark(origin: node.store.node.hex, stream: .readings) == 100)
        }
    }
}
