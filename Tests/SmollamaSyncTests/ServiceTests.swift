import Foundation
import ServiceLifecycle
import ServiceLifecycleTestKit
import SmollamaCore
import SmollamaStore
import SmollamaTesting
import Synchronization
import Testing
@testable import SmollamaSync

/// The node's sync service: backs off while the hub is down, syncs within seconds once it is
/// back, and stops promptly on graceful shutdown.
@Suite struct SyncServiceTests {
    /// A link the test switches on and off.
    final class Switchable: SyncTransport {
        let hub: SyncHub
        let up = Mutex(false)
        let attempts = Mutex(0)
        init(hub: SyncHub) { self.hub = hub }
        struct Down: Error {}
        func send(_ request: SyncHTTPRequest) async throws -> SyncHTTPResponse {
            attempts.withLock { $0 += 1 }
            guard up.withLock({ $0 }) else { throw Down() }
            return await InProcessSyncTransport(hub: hub).send(request)
        }
    }

    @Test func backsOffWhileDownSyncsWhenBackAndStopsGracefully() async throws {
        let loopback = try await LoopbackHub()
        let node = try await LoopbackNode(hub: loopback, readings: 300)
        let link = Switchable(hub: loopback.hub)
        let client = node.client(hub: loopback, url: "", transport: link)
        let service = SyncService(client: client, configuration: .init(interval: .seconds(3600), maxBackoff: .seconds(1)),
                                  logger: .quiet)
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                #expect(try await eventually { link.attempts.withLock { $0 } >= 2 }, "retries while the hub is down")
                #expect(try await node.store.database.nodeSync.hubAcknowledgement(stream: .readings) == 0)
                link.up.withLock { $0 = true }
                #expect(try await eventually(timeout: .seconds(30)) {
                    try await loopback.hub.database.hubSync.hubMark(origin: node.store.node.hex, stream: .readings) == 300
                }, "synced within the back-off once the hub is back")
                let started = ContinuousClock.now
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
                #expect(ContinuousClock.now - started < .seconds(10), "the hour-long interval does not delay shutdown")
            }
        }
    }
}
