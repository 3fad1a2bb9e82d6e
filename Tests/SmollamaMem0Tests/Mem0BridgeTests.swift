import Foundation
import HTTPTypes
import Hummingbird
import Logging
import ServiceLifecycle
import SmollamaCore
import SmollamaLLM
@testable import SmollamaMem0
import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Synchronization
import Testing

/// A mem0 server for the bridge to talk to over real HTTP on 127.0.0.1: our own mem0 API (the
/// same contract the API tests pin down) over its own store, with a switch that makes it fail.
final class StubMem0Server: Sendable {
    let fixture: Mem0Fixture
    let failing = Mutex(false)
    let posts = Mutex(0)

    struct Switch: RouterMiddleware {
        typealias Context = BasicRequestContext
        let server: StubMem0Server
        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
            async throws -> Response
        {
            if server.failing.withLock({ $0 }) { return Response(status: .serviceUnavailable) }
            if request.method == .post && request.uri.path.hasSuffix("/memories") { server.posts.withLock { $0 += 1 } }
            return try await next(request, context)
        }
    }

    init() async throws { fixture = try await Mem0Fixture() }

    /// Serves until `body` returns; `body` gets the base URL (`http://127.0.0.1:PORT/mem0`).
    func serve<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: Switch(server: self))
        router.addRoutes(Mem0API(memory: fixture.memory, config: Mem0Config(apiKey: Mem0Fixture.apiKey)).routes, atPath: "/mem0")
        let port = Mutex<Int?>(nil)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } },
                              logger: .quiet)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: .quiet)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            #expect(try await eventually(timeout: .seconds(20)) { port.withLock { $0 } != nil })
            let url = "http://127.0.0.1:\(port.withLock { $0 } ?? 0)/mem0"
            let result = try await body(url)
            await group.triggerGracefulShutdown()
            return result
        }
    }

    /// The remote's visible memories, every node.
    func memories() async throws -> [StoredMemory] {
        try await fixture.database.knowledge.memories(currentOnly: true, limit: 1000)
    }
}

@Suite struct Mem0BridgeTests {
    static func bridge(_ hub: Mem0Fixture, url: String, key: String = Mem0Fixture.apiKey) -> Mem0Bridge {
        Mem0Bridge(database: hub.database,
                   config: Mem0BridgeConfig(url: url, apiKey: key, interval: ConfigDuration(milliseconds: 50), maxBackoff: .seconds(1),
                                            batchSize: 2),
                   directory: StaticNodeDirectory(names: [hub.hub: "hub", hub.garage: "garage"]), logger: .quiet)
    }

    @Test func memoriesArriveOnceFollowEditsAndDeletesAndSurviveARestart() async throws {
        let hub = try await Mem0Fixture()
        let cold = try await hub.garageMemory("The garage is cold at night", seq: 1)
        let door = try await hub.garageMemory("The garage door opens at 07:30 on weekdays", seq: 2)
        let gone = try await hub.garageMemory("A temporary note", seq: 3)
        _ = try await hub.memory.json.update(id: cold.id, body: ["text": "The garage is very cold at night"])
        _ = try await hub.memory.delete(id: gone.id)
        _ = try await hub.memory.json.add(["messages": "Alice likes 21 degrees", "user_id": "alice", "infer": false])
        let remote = try await StubMem0Server()
        try await remote.serve { url in
            let pass = try await Self.bridge(hub, url: url).tick()
            #expect(pass.handled == 6)
            var memories = try await remote.memories()
            #expect(Set(memories.map(\.record.text))
                    == ["The garage is very cold at night", "The garage door opens at 07:30 on weekdays",
                        "Alice likes 21 degrees"])
            #expect(remote.posts.withLock { $0 } == 3)
            let door = try #require(memories.first { $0.record.metadata["smollama_id"] == door.id })
            #expect(door.record.metadata["agent_id"] == "garage")
            #expect(door.record.metadata["smollama_node"] == "garage")
            #expect(door.record.metadata["smollama_kind"] == "routine")
            #expect(memories.first { $0.record.text.hasPrefix("Alice") }?.record.metadata["user_id"] == "alice")

            // Nothing new: nothing sent. A new bridge on the same store (a restart) sends nothing either.
            #expect(try await Self.bridge(hub, url: url).tick().handled == 0)
            #expect(remote.posts.withLock { $0 } == 3)

            // Later changes on the hub follow: an edit is a PUT, a delete a DELETE.
            hub.clockSource.advance(milliseconds: 1000)
            _ = try await hub.memory.json.update(id: door.record.metadata["smollama_id"] ?? "", body: ["text": "The garage door opens at 08:00"])
            _ = try await hub.memory.delete(id: cold.id)
            let later = try await Self.bridge(hub, url: url).tick()
            #expect(later.updated == 1 && later.deleted == 1 && later.posted == 0)
            memories = try await remote.memories()
            #expect(Set(memories.map(\.record.text)) == ["The garage door opens at 08:00", "Alice likes 21 degrees"])
            let history = try await remote.fixture.memory.json.history(id: door.record.id)
            #expect(history.arrayValue?.map { $0["event"] } == ["ADD", "UPDATE"])
            #expect(remote.posts.withLock { $0 } == 3)
        }
    }

    @Test func aFailingServerGetsNothingMarkedSentAndTheBridgeRetries() async throws {
        let hub = try await Mem0Fixture()
        try await hub.garageMemory("The garage is cold at night", seq: 1)
        try await hub.garageMemory("The garage door opens at 07:30", seq: 2)
        let remote = try await StubMem0Server()
        try await remote.serve { url in
            remote.failing.withLock { $0 = true }
            await #expect(throws: BridgeError.self) { try await Self.bridge(hub, url: url).tick() }
            #expect(try await hub.database.meta.metaValues(prefix: "mem0.bridge.cursor.").isEmpty)
            #expect(try await hub.database.meta.metaValues(prefix: "mem0.bridge.remote.").isEmpty)
            // A wrong key is a failure too, never "sent".
            await #expect(throws: BridgeError.self) {
                try await Self.bridge(hub, url: url, key: "wrong-key-wrong-key").tick()
            }
            remote.failing.withLock { $0 = false }
            #expect(try await remote.memories().isEmpty)

            // The service retries on its own and everything arrives once.
            let bridge = Self.bridge(hub, url: url)
            let group = ServiceGroup(services: [bridge], gracefulShutdownSignals: [], cancellationSignals: [],
                                     logger: .quiet)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                #expect(try await eventually { try await remote.memories().count == 2 })
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(remote.posts.withLock { $0 } == 2)
        }
    }

    @Test func aCrashBetweenTheServersYesAndOurRecordDoesNotDuplicate() async throws {
        let hub = try await Mem0Fixture()
        let cold = try await hub.garageMemory("The garage is cold at night", seq: 1)
        let remote = try await StubMem0Server()
        try await remote.serve { url in
            try await Self.bridge(hub, url: url).tick()
            let remoteID = try #require(try await hub.database.meta.metaValue(Mem0Bridge.remoteKey(cold.id)))
            // As if the process died after the POST but before recording it: progress lost, in-flight mark left.
            try await hub.database.meta.setMetaValues([
                Mem0Bridge.remoteKey(cold.id): nil, Mem0Bridge.cursorKey(hub.garage): nil,
                Mem0Bridge.inflightKey(cold.id): "\(hub.garage.hex):1",
            ])
            let pass = try await Self.bridge(hub, url: url).tick()
            #expect(pass.handled == 1 && pass.posted == 0)
            #expect(try await remote.memories().count == 1)
            #expect(remote.posts.withLock { $0 } == 1)
            #expect(try await hub.database.meta.metaValue(Mem0Bridge.remoteKey(cold.id)) == remoteID)
            #expect(try await hub.database.meta.metaValue(Mem0Bridge.inflightKey(cold.id)) == nil)
        }
    }
}
