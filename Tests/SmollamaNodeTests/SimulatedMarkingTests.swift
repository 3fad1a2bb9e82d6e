import Foundation
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaServer
@testable import SmollamaStore

/// Issue 17, item 5: simulated sensors are marked as simulated in `sensors` and `status`, and
/// the hub knows (from each node's handshake) which nodes send simulated data.
@Suite(.serialized) struct SimulatedMarkingTests {
    @Test func onlyASimulatedDriversSensorsAreSimulated() async throws {
        let database = try SmollamaDatabase.inMemory()
        _ = try await database.readings.registerSensors([SensorDescriptor(id: "system.load_1m", name: "load")], driver: "system", now: UTCMillis(rawValue: 0))
        #expect(try await database.simulatedSensorKeys().isEmpty)
        _ = try await database.readings.registerSensors([SensorDescriptor(id: "hall.motion", name: "motion", kind: .binary)],
                                                        driver: "house", simulated: true, now: UTCMillis(rawValue: 0))
        #expect(try await database.simulatedSensorKeys() == ["hall.motion"])
        let summaries = try await database.sensorSummaries(now: UTCMillis(rawValue: 0))
        #expect(summaries.filter(\.simulated).map(\.sensor.id.rawValue) == ["hall.motion"])
        // The node dashboard's sensor table and chart panels badge the simulated one alone.
        let table = "\(Pages.sensorTable(summaries, now: UTCMillis(rawValue: 0)))"
        let rows = table.split(separator: "<tr>").filter { $0.contains("<td>") }
        #expect(rows.count == 2)
        #expect(rows.filter { $0.contains("simulated") }.map { $0.contains("hall.motion") } == [true], "\(table)")
    }

    @Test func theCLIAndTheHubMarkSimulatedSensors() async throws {
        let hubHome = try TemporaryDirectory("simulated-hub")
        #expect(try await SmollamaBinary.run(["init", "--role", "llama", "--name", "hub"], home: hubHome.path).status == 0)
        let hub = RunningNode(arguments: ["run", "--set", "llm.runtime=external"], home: hubHome.path)
        try hub.start()
        defer { if hub.process.isRunning { hub.signal(SIGKILL) } }
        #expect(try await eventually { hub.stderr.contains("smollama dashboard serving") }, "\(hub.stderr)")
        let url = try #require(hub.stderr.firstMatch(of: /smollama\.url=(http:\/\/127\.0\.0\.1:\d+)\//).map { String($0.1) })

        let home = try TemporaryDirectory("simulated-node")
        #expect(try await SmollamaBinary.run(["init", "--demo", "--name", "demo"], home: home.path).status == 0)
        #expect(try await SmollamaBinary.run(["simulate", "--days", "1"], home: home.path).status == 0)
        let sensors = try await SmollamaBinary.run(["sensors"], home: home.path)
        #expect(sensors.stdout.contains("hallway.motion (sim)") && sensors.stdout.contains("(sim): made up by the simulated house"),
                "\(sensors.stdout)")
        let status = try await SmollamaBinary.run(["status"], home: home.path)
        #expect(status.stdout.contains("9 SIMULATED, not measured"), "\(status.stdout)")

        // Before the node syncs, the hub marks nothing; after its handshake, it marks the node.
        let before = try await SmollamaBinary.run(["hub", "nodes"], home: hubHome.path)
        #expect(!before.stdout.contains("(sim)"))
        let token = try await SmollamaBinary.run(["hub", "token"], home: hubHome.path).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await SmollamaBinary.run(["enroll", "--hub", url, "--token", token], home: home.path).status == 0)
        let sync = try await SmollamaBinary.run(["sync"], home: home.path)
        #expect(sync.status == 0, "\(sync.stderr)")
        let nodes = try await SmollamaBinary.run(["hub", "nodes"], home: hubHome.path)
        #expect(nodes.stdout.contains("demo (sim)") && nodes.stdout.contains("(sim): the node sends"), "\(nodes.stdout)")
        let remote = try await SmollamaBinary.run(["sensors", "--node", "demo"], home: hubHome.path)
        #expect(remote.stdout.contains("hallway.motion (sim)"), "\(remote.stdout) \(remote.stderr)")
        // The hub's own sensors (system only: no `drivers:` key defaults to no simulated house).
        let own = try await SmollamaBinary.run(["sensors"], home: hubHome.path)
        #expect(!own.stdout.contains("(sim)"), "\(own.stdout)")
        // The hub's home page marks the demo node's card, and only that card.
        let page = try Mem0ProcessTests.curl([url + "/"])
        #expect(page.status == 200, "\(page.body.prefix(500))")
        let cards = page.body.split(separator: "<section class=\"card nodecard\"").dropFirst()
        #expect(cards.count == 2, "\(page.body.prefix(2000))")
        let hubCard = cards.filter { $0.contains("(this hub)") }
        let demoCard = cards.filter { !$0.contains("(this hub)") }
        #expect(hubCard.count == 1 && demoCard.count == 1)
        #expect(demoCard.allSatisfy { $0.contains(">demo</a>") && $0.contains("simulated data: 9 sensors") }, "\(cards)")
        #expect(hubCard.allSatisfy { !$0.contains("simulated data") }, "\(cards)")
        // The hub's page for the demo node badges each simulated sensor's chart.
        let demoID = try #require(demoCard.first?.firstMatch(of: /data-node="([0-9a-f]+)"/).map { String($0.1) })
        let nodePage = try Mem0ProcessTests.curl([url + "/nodes/\(demoID)"])
        #expect(nodePage.status == 200, "\(nodePage.body.prefix(500))")
        let panels = nodePage.body.split(separator: "<section class=\"panel\" id=\"s-").dropFirst()
        let badged = panels.filter { $0.contains("badge simulated") }.map { String($0.prefix { $0 != "\"" }) }
        #expect(badged.count == 9 && badged.contains("hallway.motion"), "\(badged)")
        // The hub's own page: its system sensors are measured, so none is badged.
        let hubID = try #require(hubCard.first?.firstMatch(of: /data-node="([0-9a-f]+)"/).map { String($0.1) })
        let hubPage = try Mem0ProcessTests.curl([url + "/nodes/\(hubID)"])
        let hubPanels = hubPage.body.split(separator: "<section class=\"panel\" id=\"s-").dropFirst()
        #expect(!hubPanels.isEmpty && hubPanels.allSatisfy { !$0.contains("badge simulated") }, "\(hubPage.body.prefix(1500))")
        let api = try Mem0ProcessTests.curl([url + "/api/v1/home"])
        #expect(api.body.contains("\"hallway.motion\""), "\(api.body.prefix(1000))")
    }
}
