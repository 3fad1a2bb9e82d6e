import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SmollamaCore
import SmollamaMem0
import SmollamaServer
import SmollamaStore
import SmollamaSync
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// Every route the hub's HTTP server registers (dashboard pages, JSON API, `/metrics`, mem0,
/// sync) refuses a request without credentials, unless it is on a surface's public list.
@Suite struct RouteGuardTests {
    static let token = "route-guard-token-0123456789"

    /// The hub's full router, as the daemon builds it, with a dashboard token set.
    static func hubRouter(store: TestStore) throws -> (Router<BasicRequestContext>, publicRoutes: Set<String>) {
        let environment = DashboardEnvironment(
            node: NodeInfo(id: store.node, name: "hub", role: "llama"), database: store.database, databasePath: nil,
            http: HTTPConfig(host: "0.0.0.0", port: 0, token: token), now: { 1_800_000_000_000 })
        let memory = SharedMemory(
            database: store.database, node: store.node,
            clock: NodeClock(source: TestClockSource(wall: 1_800_000_000_000), persisted: nil),
            directory: StaticNodeDirectory(names: [store.node: "hub"]))
        let hub = SyncHub(database: store.database, hubNode: store.node, hubName: "hub",
                          key: try SyncKey(seed: [UInt8](repeating: 7, count: 32)), logger: .quiet)
        let mounts = [
            Mem0API(memory: memory, config: Mem0Config(apiKey: "mem0-api-key-0123456789", adminKey: "mem0-admin-key-0123456789"))
                .mount,
            SyncWiring.mount(hub: hub),
        ]
        return (buildRouter(environment: environment, mounts: mounts),
                dashboardPublicRoutes.union(mounts.flatMap(\.publicRoutes)))
    }

    /// Routes that answered a request without credentials with anything but 401, 403 or the
    /// login form. A signed sync request's version header is sent (it is not a credential), so
    /// sync answers for the missing signature rather than the protocol version.
    static func unguarded(_ router: Router<BasicRequestContext>, publicRoutes: Set<String>) async throws -> [String] {
        // `/nodes/{id}` → `/nodes/x`
        let routes = router.routes.filter { !publicRoutes.contains($0.description) }
            .map { (method: $0.method, path: "\($0.path)".replacing(/\{[^}]*\}/, with: "x"), name: $0.description) }
        let app = Application(router: router, logger: .quiet)
        return try await app.test(.router) { client in
            var unguarded: [String] = []
            for route in routes {
                let status = try await client.execute(
                    uri: route.path, method: route.method, headers: [HTTPField.Name(SyncProtocol.Header.version)!: "1"],
                    body: ByteBuffer(string: "{}")
                ) { response in
                    [401, 403].contains(response.status.code)
                        || (response.status == .seeOther && response.headers[.location] == "/login")
                        ? nil : response.status.code
                }
                if let status { unguarded.append("\(route.name) answered \(status)") }
            }
            return unguarded
        }
    }

    @Test func everyRouteRefusesARequestWithoutCredentialsUnlessPublic() async throws {
        let store = try await TestStore()
        let (router, publicRoutes) = try Self.hubRouter(store: store)
        let registered = Set(router.routes.map(\.description))
        // Every surface is there, and the public lists name real routes only.
        for route in ["GET /", "GET /api/v1/status", "GET /metrics", "POST /mem0/memories", "GET /mem0/v1/ping",
                      "POST /sync/v1/push", "GET /healthz", "POST /logout", "GET /compare", "GET /memories", "GET /thoughts",
                      "GET /ask", "POST /ask", "GET /api/v1/home", "GET /api/v1/compare", "GET /api/v1/memories/explore",
                      "GET /api/v1/thoughts", "GET /api/v1/live/observations", "POST /api/v1/ask"] {
            #expect(registered.contains(route), "\(route) is registered")
        }
        #expect(publicRoutes.subtracting(registered).isEmpty, "stale public routes: \(publicRoutes.subtracting(registered))")
        #expect(publicRoutes == ["GET /login", "POST /login", "GET /assets/app.css", "GET /assets/app.js",
                                 "POST /sync/v1/time", "POST /sync/v1/enroll"])
        #expect(try await Self.unguarded(router, publicRoutes: publicRoutes) == [])
    }

    @Test func aRouteAddedOutsideTheGuardedGroupsIsCaught() async throws {
        let store = try await TestStore()
        let (router, publicRoutes) = try Self.hubRouter(store: store)
        router.get("/forgotten") { _, _ in "open" }
        router.group("/api/v1").get("/forgotten") { _, _ in "open" }
        #expect(Set(try await Self.unguarded(router, publicRoutes: publicRoutes))
                == ["GET /api/v1/forgotten answered 200", "GET /forgotten answered 200"])
    }
}
