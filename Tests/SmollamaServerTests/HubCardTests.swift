import Foundation
import Hummingbird
import HummingbirdTesting
import SmollamaCore
@testable import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing

/// The home page's cards: the answering hub is online even with no sensors of its own, `state`
/// still follows a node's sensors when it has some, and every card shows its node's clock quality
/// and its offset from the hub (as `hub nodes` does), also in the nodes API.
@Suite struct HubCardTests {
    @Test func theAnsweringHubIsOnlineAndEachCardShowsItsNodesClock() async throws {
        let store = try await TestStore()
        let database = store.database
        let now = ServerFixture.now
        let node = NodeID.random()
        try await database.hubSync.createToken(hash: "token", createdAt: now - 60_000, expiresAt: now + 60_000)
        try await database.hubSync.enroll(tokenHash: "token", node: node, name: "porch", publicKey: [UInt8](repeating: 7, count: 32),
                                          incarnation: 1, now: now - 60_000)
        _ = try await database.hubSync.handshake(
            node: node, bootID: "porch-boot", monotonicNanoseconds: 0, incarnation: 1, clockQuality: .synced,
            clockOffset: .milliseconds(1_400), reported: [:], streams: [], now: now - 10_000)
        // The hub has no sensors (no clock epoch); its own log dates its clock: its newest stamp,
        // taken under an untrusted clock after an older trusted one.
        _ = try await database.events.appendEvent(
            .clockQuality(.init(quality: .synced, wallMilliseconds: now.rawValue - 20_000, issuedMilliseconds: now.rawValue - 20_000)),
            origin: store.node, stamp: .test(now.rawValue - 20_000))
        _ = try await database.events.appendEvent(
            .sensorFault(.init(sensor: "hub.door", reason: "gone", consecutiveFailures: 3)), origin: store.node,
            stamp: ClockStamp(hlc: HLCTimestamp(milliseconds: now.rawValue - 5_000, counter: 0), bootID: "hub-boot",
                              monotonicNanoseconds: 0, quality: .unsynced))
        let environment = DashboardEnvironment(
            node: NodeInfo(id: store.node, name: "hub", role: "llama"), database: database, databasePath: store.path,
            http: HTTPConfig(), now: { now })
        try await buildApplication(environment: environment, logger: .quiet).test(.router) { client in
            let home = try await client.execute(uri: "/api/v1/home", method: .get) { try $0.json(HomeBody.self) }
            let hub = try #require(home.nodes.first)
            #expect(hub.node.isThisNode && hub.node.state == .online, "the hub answers, so it is online")
            #expect(hub.node.lastSeen == nil && hub.node.sensorCount == 0, "it has no sensors and took no reading")
            let porch = try #require(home.nodes.last)
            #expect(porch.node.clockQuality == .synced && porch.node.clockOffsetMilliseconds == 1_400)
            try await client.execute(uri: "/api/v1/nodes/\(node.hex)", method: .get) { response in
                #expect(response.text.contains("\"clockOffsetMilliseconds\":1400"), "\(response.text)")
                #expect(response.text.contains("\"clockQuality\":\"synced\""))
            }
            try await client.execute(uri: "/", method: .get) { response in
                let page = response.text
                let hubCard = try #require(page.components(separatedBy: "class=\"card nodecard\"").dropFirst().first)
                #expect(hubCard.contains("answering now · no sensors of its own") && !hubCard.contains("last seen"), "\(hubCard)")
                #expect(page.contains("clock <span class=\"synced\">synced</span> <span class=\"offset\">+1.4 s from the hub</span>"))
                #expect(hubCard.contains("clock <span class=\"unsynced\">unsynced</span>"), "its newest stamp's quality")
                #expect(!page.contains("clock <span class=\"unknown\">"))
            }
            try await client.execute(uri: "/nodes/\(node.hex)", method: .get) { response in
                #expect(response.text.contains("clock synced +1.4 s from the hub"))
            }
        }

        // `state` keeps meaning a node's sensors: a hub whose sensors went quiet two hours ago is
        // offline, though it answers.
        var fixture = try await ServerFixture(nodeName: "hub", role: "llama")
        fixture.environment.now = { ServerFixture.now + 7_200_000 }
        try await fixture.test { client in
            let home = try await client.execute(uri: "/api/v1/home", method: .get) { try $0.json(HomeBody.self) }
            #expect(home.nodes.first?.node.state == .offline)
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.text.contains("answering now · last reading 2 h ago"))
            }
        }
    }
}
