import Foundation
import Hummingbird
import HummingbirdTesting
import SmollamaCore
import SmollamaServer
import SmollamaStore
@testable import SmollamaSync
import SmollamaTesting
import Synchronization
import Testing

/// A hub (dashboard and sync on one real HTTP port on loopback, as the daemon composes them) and
/// two nodes with simulated houses of different seeds, syncing with the real client over HTTP. The
/// hub's node pages then show each node's own sensors, with hourly means equal to the node's own
/// rollups; hub retention deletes their old raw readings and the charts still show those days.
@Suite struct HubNodesTests {
    /// An hour boundary; the houses run the five days before it.
    static let end = UTCMillis(rawValue: 1_796_000_000_000 - 1_796_000_000_000 % 3_600_000)
    static let day: Duration = .seconds(86_400)

    struct Node {
        let name: String
        let store: TestStore
        let key: SyncKey
        let clock = TestClockSource(wall: HubNodesTests.end.rawValue)
    }

    @Test func nodePagesChartEachNodesOwnRollupsAndSurviveHubRetention() async throws {
        let hubStore = try await TestStore()
        let hubKey = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        // The hub's own sensor, which no node page may show.
        try await hubStore.database.readings.registerSensors([SensorDescriptor(id: "hub.only", name: "Hub only")],
                                                              driver: "test", now: Self.end)
        let hubClock = TestClockSource(wall: Self.end.rawValue)
        let sync = SyncHub(database: hubStore.database, hubNode: hubStore.node, hubName: "hub", key: hubKey, logger: .quiet)
        let environment = DashboardEnvironment(
            node: NodeInfo(id: hubStore.node, name: "hub", role: "llama"), database: hubStore.database,
            databasePath: hubStore.path, http: HTTPConfig(host: "127.0.0.1", port: 0),
            now: { UTCMillis(rawValue: hubClock.wallMilliseconds()) })
        let mount = RouteMount(path: SyncRoutes.prefix, routes: SyncRoutes(hub: sync).routes, publicRoutes: SyncRoutes.publicRoutes)
        let served = Mutex<String?>(nil)
        let app = try buildApplication(environment: environment, logger: .quiet, mounts: [mount],
                                       onServerRunning: { url in served.withLock { $0 = url } })

        // Two houses, five days each (one sample a sensor every 5 minutes: one push batch, one rollup batch).
        var nodes: [Node] = []
        for (index, seed) in [UInt64(31), 32].enumerated() {
            let node = Node(name: "node\(index)", store: try await TestStore(),
                            key: try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) }))
            try await node.store.fillWithSimulatedHouse(seed: seed, from: Self.end - Self.day * 5, to: Self.end, step: .seconds(300))
            nodes.append(node)
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            #expect(try await eventually { served.withLock { $0 } != nil }, "the hub started")
            let url = try #require(served.withLock { $0 })
            let transport = HTTPSyncTransport(baseURL: url)
            for node in nodes {
                let token = try await sync.createToken()
                let enrolment = try JSONEncoder().encode(EnrollRequest(
                    token: token, node: node.store.node, name: node.name, publicKey: node.key.publicKeyHex, incarnation: 1))
                let enrolled = try await transport.send(SyncHTTPRequest(path: SyncProtocol.Path.enroll, headers: [:],
                                                                        body: [UInt8](enrolment)))
                #expect(enrolled.status == 200)
                let client = SyncClient(
                    database: node.store.database, node: node.store.node, incarnation: 1, key: node.key,
                    hub: HubInfo(url: url, hubNode: hubStore.node, hubName: "hub", hubPublicKey: hubKey.publicKeyHex),
                    clockSource: node.clock, transport: transport, logger: .quiet)
                let report = try await client.syncOnce()
                #expect(report.pushed["readings"] == (try await node.store.database.readings.readingCount()).int64)
            }
        }

        // The hub's pages and API, read in process from the same store.
        try await Self.checkPages(environment: environment, nodes: nodes)

        // Hub retention with the hub's clock: raw readings older than two days go; charts stay.
        let maintenance = MaintenanceService(
            database: hubStore.database, clock: NodeClock(source: hubClock, persisted: nil),
            configuration: .init(hub: .init(rawRetention: Self.day * 2, rollupRetention: Self.day * 90)), logger: .quiet)
        await maintenance.tick(retentionDue: true)
        for node in nodes {
            let held = try await hubStore.database.hubSync.hubNodes().first { $0.node == node.store.node.hex }
            let own = try await node.store.database.readings.readingCount()
            let kept = try #require(held?.foreignReadings)
            #expect(kept > 0 && kept < Int64(own) / 2, "\(node.name): \(kept) of \(own) raw readings kept")
        }
        #expect(try await hubStore.database.hubReadings.rollUpAll() == 0)
        try await Self.checkPages(environment: environment, nodes: nodes)

        // Two days later every raw reading of the nodes is past the limit; the hourly rollups remain.
        hubClock.advance(milliseconds: 2 * 86_400_000)
        await maintenance.tick(retentionDue: true)
        for node in nodes {
            let held = try await hubStore.database.hubSync.hubNodes().first { $0.node == node.store.node.hex }
            #expect(held?.foreignReadings == 0, "\(node.name): every raw reading is older than two days now")
            let hours = try await hubStore.database.hubReadings.rollups(
                node: node.store.node, sensor: "living_room.temperature", resolution: .hour)
            #expect(hours.count == 5 * 24)
        }
    }

    /// Each node's page and API: its own sensors (not the hub's), and for every sensor the hourly
    /// means of the last 7 days equal, exactly, the node's own hourly rollups of the same hours.
    static func checkPages(environment: DashboardEnvironment, nodes: [Node]) async throws {
        let app = Application(router: buildRouter(environment: environment))
        try await app.test(.router) { client in
            for node in nodes {
                let own = try await node.store.database.readings.registeredSensors().map(\.descriptor.id.rawValue).sorted()
                try await client.execute(uri: "/api/v1/nodes/\(node.store.node.hex)", method: .get) { response in
                    let detail = try JSONDecoder().decode(NodeDetail.self, from: Data(String(buffer: response.body).utf8))
                    #expect(detail.node.name == node.name)
                    #expect(detail.sensors.map(\.sensor.id.rawValue) == own, "\(node.name)'s own sensors, not the hub's")
                }
                var comparedHours = 0
                for sensor in own {
                    let uri = "/api/v1/nodes/\(node.store.node.hex)/series?sensor=\(sensor)&range=7d"
                    let series = try await client.execute(uri: uri, method: .get) { response in
                        try JSONDecoder().decode(Series.self, from: Data(String(buffer: response.body).utf8))
                    }
                    let rollups = try await node.store.database.readings.rollups(
                        sensor: SensorID(sensor), resolution: .hour, from: series.from, to: series.to + .milliseconds(1))
                    let expected = rollups.filter { $0.count > 0 }.map { "\($0.bucketStart.rawValue) \($0.count) \($0.mean)" }
                    let got = series.points.filter { $0.count > 0 }.map { "\($0.start.rawValue) \($0.count) \($0.mean ?? .nan)" }
                    #expect(got == expected, "\(node.name) \(sensor): \(Set(got).symmetricDifference(expected).sorted().prefix(3))")
                    #expect(got.count == 5 * 24, "\(node.name) \(sensor): five days of hours")
                    comparedHours += got.count
                }
                #expect(comparedHours > 0)
                try await client.execute(uri: "/nodes/\(node.store.node.hex)?range=30d", method: .get) { response in
                    let page = String(buffer: response.body)
                    #expect(page.components(separatedBy: "<svg class=\"chart\"").count == own.count + 1)
                    #expect(!page.contains("hub.only"))
                }
            }
            // The two houses differ (different seeds), so equal charts are not a coincidence.
            let keys = nodes.map { "/api/v1/nodes/\($0.store.node.hex)/series?sensor=living_room.temperature&range=24h" }
            var means: [[Double?]] = []
            for key in keys {
                means.append(try await client.execute(uri: key, method: .get) { response in
                    try JSONDecoder().decode(Series.self, from: Data(String(buffer: response.body).utf8)).points.map(\.mean)
                })
            }
            #expect(means.count == 2 && means[0] != means[1])
        }
    }
}

extension Int {
    fileprivate var int64: Int64 { Int64(self) }
}
