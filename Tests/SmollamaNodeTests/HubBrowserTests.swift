import Foundation
import Hummingbird
import SmollamaCore
import SmollamaLLM
import SmollamaMind
@testable import SmollamaNode
import SmollamaServer
import SmollamaStore
@testable import SmollamaSync
import SmollamaTesting
import Synchronization
import Testing

/// The hub's pages in a real browser: a hub (dashboard, sync, recall and rules-only ask on one
/// loopback port, as the daemon composes them) with a node that synced two days of a simulated
/// house, its observations and memories; headless Chromium driven by
/// `scripts/hub_browser_check.py` loads every hub page, searches the memories, asks, and watches
/// Thoughts while the node syncs a new observation. Screenshots go to `artifacts/hub/`, or with
/// `SMOLLAMA_UPDATE_SCREENSHOTS=1` to `docs/hub-*.png` (README's).
@Suite(.serialized) struct HubBrowserTests {
    static let hostileHub = #"hub <img src=x onerror="console.error('xss')"> '"#
    static let hostileNode = #"garage <img src=x onerror="console.error('xss')">"#

    @Test(.timeLimit(.minutes(5)))
    func everyHubPageLoadsSearchesAsksAndShowsASyncedObservationLive() async throws {
        let chromium = try #require(BrowserTests.chromium, "install Debian's chromium (scripts/test does)")
        let now = UTCMillis.now()
        let hubStore = try await TestStore()
        let hubKey = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let sync = SyncHub(database: hubStore.database, hubNode: hubStore.node, hubName: "hub", key: hubKey, logger: .quiet)
        let recall = Recall(database: hubStore.database, embedder: nil, vectorSearch: .off, logger: .quiet)
        let tools = MindTools(database: hubStore.database, recall: recall, node: hubStore.node, indexer: nil, logger: .quiet,
                              stamp: { .test(UTCMillis.now().rawValue) })
        var environment = DashboardEnvironment(
            node: NodeInfo(id: hubStore.node, name: Self.hostileHub, role: "llama"), database: hubStore.database,
            databasePath: hubStore.path, http: HTTPConfig(host: "127.0.0.1", port: 0))
        environment.timeZone = try #require(TimeZone(identifier: "Europe/Berlin"))
        environment.mind = HubPageWiring.mind(recall: recall, asker: {
            Asker(model: LLMConfig().makeChatModel(logger: .quiet), tools: tools, strategy: .rules, logger: .quiet)
        })
        let mount = RouteMount(path: SyncRoutes.prefix, routes: SyncRoutes(hub: sync).routes, publicRoutes: SyncRoutes.publicRoutes)
        let served = Mutex<String?>(nil)
        let app = try buildApplication(environment: environment, logger: .quiet, tailInterval: .milliseconds(250),
                                       mounts: [mount], onServerRunning: { url in served.withLock { $0 = url } })

        // The node: two days of a house, an observation and a memory of its own.
        let node = try await TestStore()
        let nodeKey = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let hour = Rollup.Resolution.hour.bucketStart(now)
        try await node.fillWithSimulatedHouse(seed: 41, from: hour - .seconds(2 * 86_400), to: hour, step: .seconds(300))
        let knowledge = node.database.knowledge
        try await knowledge.record(ObservationRecord(
            id: node.node.newRecordID(), kind: "comfort", subjects: ["living_room.temperature"],
            text: "Living room warm this evening <script>console.error('xss')</script>", evidenceIDs: [], importance: 0.4,
            generator: .rules, timeStart: hour - .seconds(3600), timeEnd: hour), origin: node.node, stamp: .test(hour.rawValue))
        try await knowledge.record(MemoryRecord(
            id: node.node.newRecordID(), kind: "routine", subjects: ["living_room.temperature"],
            text: "The quokka lamp warms the living room most evenings", confidence: 0.8, importance: 0.6,
            validFrom: hour - .seconds(86_400), createdAt: hour, source: .reflection), origin: node.node, stamp: .test(hour.rawValue + 1))

        let marker = "hub-browser-marker-\(UInt32.random(in: 0...UInt32.max))"
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            defer { group.cancelAll() }
            #expect(try await eventually { served.withLock { $0 } != nil }, "the hub started")
            let url = try #require(served.withLock { $0 })
            let transport = HTTPSyncTransport(baseURL: url)
            let token = try await sync.createToken()
            let enrolment = try JSONEncoder().encode(EnrollRequest(
                token: token, node: node.node, name: Self.hostileNode, publicKey: nodeKey.publicKeyHex, incarnation: 1))
            let enrolled = try await transport.send(SyncHTTPRequest(path: SyncProtocol.Path.enroll, headers: [:],
                                                                    body: [UInt8](enrolment)))
            #expect(enrolled.status == 200)
            let client = SyncClient(
                database: node.database, node: node.node, incarnation: 1, key: nodeKey,
                hub: HubInfo(url: url, hubNode: hubStore.node, hubName: "hub", hubPublicKey: hubKey.publicKeyHex),
                clockSource: TestClockSource(wall: now.rawValue), transport: transport, logger: .quiet)
            _ = try await client.syncOnce()

            // README's screenshots are refreshed only on request; other runs leave the tree clean.
            let docs = BrowserTests.root.appendingPathComponent(
                ProcessInfo.processInfo.environment["SMOLLAMA_UPDATE_SCREENSHOTS"] == "1" ? "docs" : "artifacts/hub").path
            let helper = Process()
            helper.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            helper.arguments = ["python3", BrowserTests.root.appendingPathComponent("scripts/hub_browser_check.py").path,
                                "--base", url, "--out", docs, "--node", node.node.hex, "--search", "quokka",
                                "--search-expect", "quokka lamp", "--question", "What happened today?",
                                "--marker", marker, "--chromium", chromium]
            let stdout = Pipe(), stderr = Pipe()
            let output = OutputBuffer(), errors = OutputBuffer()
            helper.standardOutput = stdout
            helper.standardError = stderr
            output.drain(stdout.fileHandleForReading)
            errors.drain(stderr.fileHandleForReading)
            try helper.run()
            defer { if helper.isRunning { helper.terminate() } }

            // With Thoughts open, the node writes an observation and syncs it: it must appear live.
            #expect(try await eventually(timeout: .seconds(180)) { output.text.contains("READY") || !helper.isRunning },
                    "\(errors.text)")
            try await knowledge.record(ObservationRecord(
                id: node.node.newRecordID(), kind: "activity", subjects: ["hallway.motion"], text: "Someone came home \(marker)",
                evidenceIDs: [], importance: 0.5, generator: .rules, timeStart: now - .seconds(60), timeEnd: now),
                origin: node.node, stamp: .test(now.rawValue))
            let report = try await client.syncOnce()
            #expect(report.pushed["observations"] == 1, "\(report.pushed)")
            #expect(try await eventually(timeout: .seconds(120)) { !helper.isRunning }, "\(errors.text)")

            let line = try #require(output.text.split(separator: "\n").first { $0.hasPrefix("SUMMARY ") }, "\(errors.text)")
            let summary = try JSONDecoder().decode(Summary.self, from: Data(line.dropFirst("SUMMARY ".count).utf8))
            #expect(Set(summary.pages.keys) == ["home", "node", "compare", "memories", "ask", "thoughts"])
            for (name, page) in summary.pages {
                #expect(page.status == 200, "\(name)")
                #expect(page.errors.isEmpty, "\(name): \(page.errors)")
                #expect(page.external.isEmpty, "\(name) left 127.0.0.1: \(page.external)")
                #expect(page.failed.isEmpty, "\(name): \(page.failed)")
                #expect(page.nodeName == Self.hostileHub, "\(name) shows the hub's name as text")
                #expect(page.images == 0, "\(name): no markup from a name or a text")
                #expect(FileManager.default.fileExists(atPath: docs + "/" + page.screenshot))
            }
            #expect((summary.pages["home"]?.svg ?? 0) >= 2, "sparklines")
            #expect((summary.pages["node"]?.svg ?? 0) >= 10, "the node's charts")
            #expect((summary.pages["compare"]?.svg ?? 0) >= 2, "a line per temperature sensor")
            #expect(summary.search, "the memory search found the node's memory")
            #expect(summary.ask && summary.askErrors.isEmpty, "\(summary.askErrors)")
            #expect(summary.askLinks.allSatisfy { $0.hasPrefix("/memories?id=") || $0.hasPrefix("/thoughts?id=") })
            #expect(summary.live, "the synced observation appeared on Thoughts without a reload")
        }
    }

    struct Summary: Decodable {
        struct PageResult: Decodable {
            var status: Int?
            var errors: [String]
            var external: [String]
            var failed: [String]
            var nodeName: String
            var images: Int
            var svg: Int
            var screenshot: String
        }
        var pages: [String: PageResult]
        var search: Bool
        var ask: Bool
        var askLinks: [String]
        var askErrors: [String]
        var live: Bool
    }
}
