import Foundation
import SmollamaCore
import SmollamaServer
import SmollamaStore
import SmollamaSync
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// Issue 16's household: a hub (`smollama run`) and three nodes as real processes on loopback,
/// simulated houses with different seeds. node0 sends raw readings, node1 only rollups
/// (`sync.raw_readings: false`), node2 is seen once, is away for a simulated week, then comes
/// back with it. After sync, the hub's API series of every node equal, hour by hour and exactly,
/// the node's own hourly rollups; then hub retention deletes only old, rolled-up raw readings and
/// the hours stay.
@Suite(.serialized) struct HubHouseholdTests {
    func makeHome(name: String, role: String, seed: Int, sync: String = "") async throws -> TemporaryDirectory {
        let home = try TemporaryDirectory("household-\(name)")
        let initialised = try await SmollamaBinary.run(["init", "--name", name, "--role", role], home: home.path)
        #expect(initialised.status == 0, "init failed: \(initialised.stderr)")
        let config = """
            node:
              name: \(name)
              role: \(role)
            llm:
              runtime: external
            store:
              flush_interval: 200ms
            sync:
              interval: 1s
              max_backoff: 2s
            \(sync)
            sensors:
              drivers:
                - driver: simulated_house
                  interval: 60s
                  seed: \(seed)
                  on_change: false
            """
        try config.write(toFile: home.path + "/config.yaml", atomically: true, encoding: .utf8)
        return home
    }

    func run(_ arguments: [String], _ home: TemporaryDirectory) async throws -> String {
        let result = try await SmollamaBinary.run(arguments, home: home.path)
        try #require(result.status == 0, "smollama \(arguments.joined(separator: " ")): \(result.stderr)")
        return result.stdout
    }

    func get<T: Decodable>(_ url: String, as type: T.Type) async throws -> T {
        let answer = try Mem0ProcessTests.curl([url])
        try #require(answer.status == 200, "\(url): \(answer.body)")
        return try JSONDecoder().decode(T.self, from: Data(answer.body.utf8))
    }

    @Test func everyNodesSeriesOnTheHubEqualsItsOwnRollups() async throws {
        try SmollamaBinary.checkBuilt()
        let hubHome = try await makeHome(name: "hub", role: "llama", seed: 1)
        let hub = RunningNode(arguments: ["run"], home: hubHome.path)
        try hub.start()
        defer { if hub.process.isRunning { hub.signal(SIGKILL) } }
        #expect(try await eventually { hub.stderr.contains("smollama dashboard serving") }, "\(hub.stderr)")
        let url = try #require(hub.stderr.firstMatch(of: /smollama\.url=(http:\/\/127\.0\.0\.1:\d+)\//).map { String($0.1) })

        let settings = ["", "  raw_readings: false", ""]
        var homes: [TemporaryDirectory] = []
        for index in 0..<3 {
            let home = try await makeHome(name: "node\(index)", role: "alpaca", seed: 101 + index, sync: settings[index])
            let token = try await run(["hub", "token"], hubHome).trimmingCharacters(in: .whitespacesAndNewlines)
            _ = try await run(["enroll", "--hub", url, "--token", token], home)
            homes.append(home)
        }
        // node0 and node1: three days each. node2 syncs once with nothing, is away for a week,
        // then comes back with the week.
        _ = try await run(["simulate", "--days", "3", "--json"], homes[0])
        _ = try await run(["simulate", "--days", "3", "--json"], homes[1])
        _ = try await run(["sync"], homes[2])
        _ = try await run(["simulate", "--days", "7", "--json"], homes[2])
        for home in homes { _ = try await run(["sync"], home) }

        let ids = try homes.map { home in
            try JSONDecoder().decode(NodeIdentity.self, from: Data(contentsOf: URL(fileURLWithPath: home.path + "/data/identity.json"))).nodeID
        }
        let stores = try homes.map { try SmollamaDatabase.open(path: $0.path + "/data/smollama.sqlite") }
        var means: [[Double?]] = []
        for (index, id) in ids.enumerated() {
            let own = try await stores[index].readings.registeredSensors().map(\.descriptor.id.rawValue).sorted()
            let detail = try await get("\(url)/api/v1/nodes/\(id.hex)", as: NodeDetail.self)
            #expect(detail.sensors.map(\.sensor.id.rawValue) == own, "node\(index)'s own sensors")
            var hours = 0
            for sensor in own {
                let series = try await get("\(url)/api/v1/nodes/\(id.hex)/series?sensor=\(sensor)&range=7d", as: Series.self)
                let rollups = try await stores[index].readings.rollups(
                    sensor: SensorID(sensor), resolution: .hour, from: series.from, to: series.to + .milliseconds(1))
                let expected = rollups.filter { $0.count > 0 }.map { "\($0.bucketStart.rawValue) \($0.count) \($0.mean)" }
                let got = series.points.filter { $0.count > 0 }.map { "\($0.start.rawValue) \($0.count) \($0.mean ?? .nan)" }
                #expect(got == expected, "node\(index) \(sensor): \(Set(got).symmetricDifference(expected).sorted().prefix(3))")
                hours += got.count
                if sensor == "living_room.temperature" { means.append(series.points.suffix(48).map(\.mean)) }
            }
            #expect(hours >= own.count * (index == 2 ? 6 * 24 : 3 * 24 - 2), "node\(index): \(hours) hours compared")
        }
        #expect(Set(means.map { $0.map { $0.map(\.bitPattern) } }).count == 3, "three different houses")

        // `hub nodes` shows what the hub holds of each; node1 sent no raw readings.
        let listing = try await run(["hub", "nodes", "--json"], hubHome)
        let summaries = try JSONDecoder().decode([HubNodeSummary].self, from: Data(listing.utf8))
        let byID = Dictionary(uniqueKeysWithValues: summaries.map { ($0.node, $0) })
        for (index, id) in ids.enumerated() {
            let use = try #require(byID[id.hex]?.diskUse)
            #expect(use.rollups > 0 && use.bytes > 0, "node\(index): \(use)")
            #expect((use.rawReadings == 0) == (index == 1), "node\(index): \(use)")
            let offset = try #require(byID[id.hex]?.clockOffsetMilliseconds, "node\(index) reported its wall clock")
            #expect(abs(offset) < 5_000, "node\(index): \(offset) ms from the hub")
        }
        // Each node measured its clock against the hub's at the handshake (`smollama sync` adopts
        // nothing: its wall clock is trusted anyway).
        struct Status: Decodable { var hubClock: HubClockReading? }
        let status = try JSONDecoder().decode(Status.self, from: Data(try await run(["status", "--json"], homes[0]).utf8))
        let measured = try #require(status.hubClock)
        #expect(abs(measured.offsetMilliseconds) < 5_000 && !measured.followsHub, "\(measured)")
        // Other nodes' data from the hub's CLI.
        _ = try await run(["logs", "--node", "node2", "--json"], hubHome)
        let sensors = try await run(["sensors", "show", "--node", "node1", "--json"], hubHome)
        let node1Sensors = try await stores[1].readings.registeredSensors().map(\.descriptor.id).sorted()
        #expect(try JSONDecoder().decode([SensorSummary].self, from: Data(sensors.utf8)).map(\.sensor.id) == node1Sensors)
        let history = try await run(["history", "living_room.temperature", "--node", ids[2].hex, "--from", "48h"], hubHome)
        #expect(history.contains("living_room.temperature"))
        let refused = try await SmollamaBinary.run(["sensors", "show", "--node", "nobody"], home: hubHome.path)
        #expect(refused.status == 1 && refused.stderr.contains("node0"), "\(refused.stderr)")

        // Hub retention (two days) on the stopped hub's store: node0's and node2's raw readings
        // older than the cut go, only those, and every hour stays.
        hub.signal(SIGTERM)
        #expect(try await hub.waitForExit() == 0, "\(hub.stderr.suffix(2000))")
        let hubStore = try SmollamaDatabase.open(path: hubHome.path + "/data/smollama.sqlite")
        let before = try await hubStore.hubReadings.rollups(node: ids[2], sensor: "living_room.temperature", resolution: .hour)
        let now = UTCMillis.now()
        let deleted = try await hubStore.hubReadings.deleteExpired(rawOlderThan: now - .seconds(2 * 86_400),
                                                                   fiveMinuteRollupsOlderThan: now - .seconds(90 * 86_400))
        #expect(deleted.readings > 0 && deleted.fiveMinuteRollups == 0)
        let kept = try await hubStore.hubSync.hubNodes()
        for (index, id) in ids.enumerated() {
            let summary = try #require(kept.first { $0.node == id.hex })
            let own = try await stores[index].readings.readingCount()
            if index == 1 { #expect(summary.foreignReadings == 0); continue }
            let held = try #require(summary.foreignReadings)
            #expect(held > 0 && held < Int64(own), "node\(index): \(held) of \(own) raw readings kept")
            #expect(summary.diskUse.rawReadings == held, "node\(index): usage follows the deletions")
        }
        #expect(try await hubStore.hubReadings.rollups(node: ids[2], sensor: "living_room.temperature", resolution: .hour) == before)
        #expect(before.count >= 6 * 24)
    }
}
