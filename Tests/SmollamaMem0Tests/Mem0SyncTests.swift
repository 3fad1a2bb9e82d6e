import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import SmollamaCore
import SmollamaLLM
@testable import SmollamaMem0
import SmollamaServer
import SmollamaStore
@testable import SmollamaSync
import SmollamaTesting
import Synchronization
import Testing

/// The hub serving sync and the mem0 API on one port, and an enrolled node ("garage") talking to
/// it with the real sync client: a memory learned on the garage reaches the hub, is found there by
/// the garage's enrolled name, is edited through mem0, and the edit reaches the garage by pull.
@Suite struct Mem0SyncTests {
    @Test func anEditOnTheHubReachesTheNodeBySyncPull() async throws {
        let hubStore = try await TestStore()
        try await hubStore.database.meta.setHub(hubStore.node)
        let hubKey = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let hub = SyncHub(database: hubStore.database, hubNode: hubStore.node, hubName: "hub", key: hubKey, logger: .quiet)
        // The hub's wall clock is 5 minutes behind the garage's: its edit must still order after
        // the garage's version (a stamp more than 10 minutes ahead would be untrusted: issue 18).
        let hubClock = NodeClock(source: TestClockSource(wall: 1_795_999_700_000), persisted: nil)
        let memory = SharedMemory(
            database: hubStore.database, node: hubStore.node, clock: hubClock,
            directory: DatabaseNodeDirectory(database: hubStore.database, node: hubStore.node, nodeName: "hub"))

        let garage = try await TestStore()
        try await garage.database.meta.setHub(hubStore.node)  // as enrolling does
        let garageKey = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let token = try await hub.createToken()
        let enrolment = try JSONEncoder().encode(EnrollRequest(token: token, node: garage.node, name: "garage",
                                                                publicKey: garageKey.publicKeyHex, incarnation: 1))
        #expect(await InProcessSyncTransport(hub: hub).send(SyncHTTPRequest(path: SyncProtocol.Path.enroll, headers: [:],
                                                 body: [UInt8](enrolment))).status == 200)
        let garageClockSource = TestClockSource(wall: 1_796_000_000_000)
        let garageClock = NodeClock(source: garageClockSource, persisted: nil)
        let learned = MemoryRecord(
            id: garage.node.newRecordID(), kind: "routine", subjects: ["garage.motion"],
            text: "Motion in the garage is usual 07:00-09:00", confidence: 0.8, importance: 0.6,
            validFrom: 1_795_000_000_000, createdAt: 1_796_000_000_000, source: .reflection)
        try await garage.database.knowledge.record(learned, origin: garage.node, stamp: await garageClock.stamp().stamp)

        let router = Router(context: BasicRequestContext.self)
        SyncRoutes(hub: hub).register(on: router)
        router.addRoutes(Mem0API(memory: memory, config: Mem0Config(apiKey: Mem0Fixture.apiKey)).routes, atPath: "/mem0")
        let port = Mutex<Int?>(nil)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } },
                              logger: .quiet)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await app.runService(gracefulShutdownSignals: []) }
            defer { tasks.cancelAll() }
            #expect(try await eventually { port.withLock { $0 } != nil })
            let url = "http://127.0.0.1:\(port.withLock { $0 } ?? 0)"
            let client = SyncClient(
                database: garage.database, node: garage.node, incarnation: 1, key: garageKey,
                hub: HubInfo(url: url, hubNode: hubStore.node, hubName: "hub", hubPublicKey: hubKey.publicKeyHex),
                clockSource: garageClockSource, transport: HTTPSyncTransport(baseURL: url), logger: .quiet)
            _ = try await client.syncOnce()

            // On the hub, through mem0: the garage's memory, under the garage's enrolled name.
            let listed = try await Self.call(.GET, url + "/mem0/memories?agent_id=garage")
            let item = try #require(listed["results"]?.arrayValue?.first)
            #expect(item["id"]?.stringValue == learned.id)
            #expect(item["agent_id"] == "garage")
            let edited = try await Self.call(.PUT, url + "/mem0/memories/\(learned.id)",
                                             body: ["text": "Motion in the garage is usual 07:30-09:00"])
            #expect(edited["message"] == "Memory updated successfully!")

            // The garage pulls shared memories: the hub's edit is now its winning version too.
            let report = try await client.syncOnce()
            #expect(report.pulled >= 1)
            let pulled = try #require(try await garage.database.knowledge.memory(id: learned.id))
            #expect(pulled.record.text == "Motion in the garage is usual 07:30-09:00")
            #expect(pulled.version.origin == hubStore.node)
            #expect(pulled.firstOrigin == garage.node)
            let versions = try await garage.database.knowledge.memoryVersions(id: learned.id)
            #expect(versions.map(\.record.text) == ["Motion in the garage is usual 07:00-09:00",
                                                    "Motion in the garage is usual 07:30-09:00"])
            #expect(versions[1].record.parent == versions[0].version)
        }
    }

    static func call(_ method: HTTPMethod, _ url: String, body: JSONValue? = nil) async throws -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "X-API-Key", value: Mem0Fixture.apiKey)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonString))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        #expect(response.status == .ok, "\(method) \(url): \(String(buffer: bytes))")
        return try JSONValue(parsing: String(buffer: bytes))
    }
}
