import Foundation
import SmollamaCore
import SmollamaStore
import SmollamaSync
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// A hub and three nodes as separate `smollama` processes on loopback: enroll, sync while
/// sensing, `kill -9` and restart a node, stop everything, and check that the hub holds exactly
/// what each node holds.
@Suite(.serialized) struct SyncProcessTests {
    func makeHome(name: String, role: String, extra: String = "") async throws -> TemporaryDirectory {
        try await daemonTestHome("sync", name: name, role: role, extra: extra)
    }

    func hubMarks(_ hubHome: String) async throws -> [String: [String: Int64]] {
        let database = try SmollamaDatabase.open(path: hubHome + "/data/smollama.sqlite")
        var marks: [String: [String: Int64]] = [:]
        for node in try await database.hubSync.hubNodes() { marks[node.node] = node.marks }
        return marks
    }

    @Test func hubAndThreeNodesConverge() async throws {
        let hubHome = try await makeHome(name: "hub", role: "llama")
        let hub = RunningNode(arguments: ["run"], home: hubHome.path)
        try hub.start()
        defer { if hub.process.isRunning { hub.signal(SIGKILL) } }
        #expect(try await eventually { hub.stderr.contains("smollama dashboard serving") }, "\(hub.stderr)")
        let url = try #require(hub.stderr.firstMatch(of: /smollama\.url=(http:\/\/127\.0\.0\.1:\d+)\//).map { String($0.1) })

        var homes: [TemporaryDirectory] = []
        var nodes: [RunningNode] = []
        defer { for node in nodes where node.process.isRunning { node.signal(SIGKILL) } }
        for index in 0..<3 {
            let home = try await makeHome(name: "node\(index)", role: "alpaca")
            // Issue 18: a config made private (it holds a broker password) stayed 0644 after
            // `enroll` rewrote it; it keeps its mode.
            if index == 0 { chmod(home.path + "/config.yaml", 0o600) }
            let token = try await SmollamaBinary.run(["hub", "token"], home: hubHome.path)
            try #require(token.status == 0, "\(token.stderr)")
            let enrolled = try await SmollamaBinary.run(
                ["enroll", "--hub", url, "--token", token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)], home: home.path)
            try #require(enrolled.status == 0, "enroll: \(enrolled.stderr)")
            let mode = try FileManager.default.attributesOfItem(atPath: home.path + "/config.yaml")[.posixPermissions]
            #expect((mode as? NSNumber)?.intValue == (index == 0 ? 0o600 : 0o644), "config.yaml's mode after enroll")
            // The token was used: a second enrollment with it is refused with a sentence.
            let reused = try await SmollamaBinary.run(
                ["enroll", "--hub", url, "--token", token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)], home: home.path)
            #expect(reused.status == 1 && reused.stderr.contains("already used"), "\(reused.stderr)")
            let node = RunningNode(arguments: ["run"], home: home.path)
            try node.start()
            homes.append(home)
            nodes.append(node)
        }
        let ids = try homes.map { home in
            try JSONDecoder().decode(NodeIdentity.self, from: Data(contentsOf: URL(fileURLWithPath: home.path + "/data/identity.json"))).nodeID.hex
        }
        // Readings flow to the hub while the nodes run.
        #expect(try await eventually(timeout: .seconds(90)) {
            let marks = try await hubMarks(hubHome.path)
            return ids.allSatisfy { (marks[$0]?["readings"] ?? 0) > 20 }
        }, "every node's readings reach the hub: \(nodes.map(\.stderr).joined().suffix(3000))")

        // kill -9 one node mid-sync and start it again: it resumes from the hub's mark.
        nodes[1].signal(SIGKILL)
        _ = try await nodes[1].waitForExit()
        let restarted = RunningNode(arguments: ["run"], home: homes[1].path)
        try restarted.start()
        nodes[1] = restarted
        let before = try await hubMarks(hubHome.path)[ids[1]]?["readings"] ?? 0
        #expect(try await eventually(timeout: .seconds(60)) {
            let now: Int64 = try await hubMarks(hubHome.path)[ids[1]]?["readings"] ?? 0
            return now > before
        })

        // Stop the nodes gracefully, sync once more by hand, and compare.
        for node in nodes {
            node.signal(SIGTERM)
            #expect(try await node.waitForExit() == 0, "graceful stop: \(node.stderr.suffix(2000))")
        }
        for (index, home) in homes.enumerated() {
            let sync = try await SmollamaBinary.run(["sync"], home: home.path)
            #expect(sync.status == 0, "smollama sync: \(sync.stderr)")
            let status = try await SmollamaBinary.run(["sync", "--status", "--json"], home: home.path)
            struct Status: Decodable { var streams: [SyncStreamStatus] }
            let decoded = try JSONDecoder().decode(Status.self, from: Data(status.stdout.utf8))
            #expect(decoded.streams.allSatisfy { $0.backlog == 0 }, "node\(index): \(status.stdout)")
            let database = try SmollamaDatabase.open(path: home.path + "/data/smollama.sqlite")
            let node = try #require(NodeID(hex: ids[index]))
            let marks = try await hubMarks(hubHome.path)[ids[index]] ?? [:]
            for stream in SyncProtocol.pushOrder {
                let local = try await database.nodeSync.localMax(origin: node, stream: stream)
                let hubMark: Int64 = marks[stream.rawValue] ?? 0
                #expect(hubMark == local, "node\(index) \(stream): hub \(hubMark), node \(local)")
            }
            #expect(try await database.readings.readingCount() > 0)
        }
        let listing = try await SmollamaBinary.run(["hub", "nodes", "--json"], home: hubHome.path)
        let summaries = try JSONDecoder().decode([HubNodeSummary].self, from: Data(listing.stdout.utf8))
        #expect(Set(summaries.map(\.node)) == Set(ids))
        #expect(summaries.allSatisfy { $0.collisions == 0 && ($0.foreignReadings ?? 0) > 0 })
        let hubDatabase = try SmollamaDatabase.open(path: hubHome.path + "/data/smollama.sqlite")
        let foreign = try await hubDatabase.hubSync.hubNodes().map { $0.foreignReadings ?? 0 }.reduce(0, +)
        var local = 0
        for home in homes { local += try await SmollamaDatabase.open(path: home.path + "/data/smollama.sqlite").readings.readingCount() }
        #expect(Int(foreign) == local, "the hub holds every node's readings exactly once")

        // Revocation: the node's next sync is refused with a sentence.
        let revoked = try await SmollamaBinary.run(["hub", "revoke", ids[0]], home: hubHome.path)
        #expect(revoked.status == 0, "\(revoked.stderr)")
        let refused = try await SmollamaBinary.run(["sync"], home: homes[0].path)
        let refusal: String = refused.stderr
        #expect(refused.status == 1 && refusal.contains("revoked"), "\(refusal)")
    }
}
