import Foundation
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// `smollama doctor` against real parts: real stores, a real hub process on loopback, and a
/// second hub standing in for a spoofed one (issue 17, "doctor").
@Suite(.serialized) struct DoctorTests {
    struct Report: Decodable {
        struct Check: Decodable {
            var name: String
            var status: String
            var detail: String
            var fix: String?
        }
        var checks: [Check]
        var status: String

        func check(_ name: String) -> Check? { checks.first { $0.name == name } }
    }

    func doctor(_ home: String) async throws -> (SmollamaBinary.Output, Report) {
        let output = try await SmollamaBinary.run(["doctor", "--json", "--hub-timeout", "10"], home: home)
        return (output, try JSONDecoder().decode(Report.self, from: Data(output.stdout.utf8)))
    }

    func startHub(_ name: String) async throws -> (TemporaryDirectory, RunningNode, String) {
        let home = try TemporaryDirectory("doctor-\(name)")
        #expect(try await SmollamaBinary.run(["init", "--demo", "--role", "llama", "--name", name], home: home.path).status == 0)
        let process = RunningNode(arguments: ["run"], home: home.path)
        try process.start()
        #expect(try await eventually { process.stderr.contains("smollama dashboard serving") }, "\(process.stderr)")
        let url = try #require(process.stderr.firstMatch(of: /smollama\.url=(http:\/\/127\.0\.0\.1:\d+)\/ \[SmollamaNode\] smollama dashboard serving/).map { String($0.1) })
        return (home, process, url)
    }

    @Test func aFreshNodeWarnsWithFixesAndExitsOne() async throws {
        let home = try TemporaryDirectory("doctor")
        #expect(try await SmollamaBinary.run(["init", "--demo", "--name", "shed"], home: home.path).status == 0)
        let (output, report) = try await doctor(home.path)
        #expect(output.status == 1, "\(output.stderr)")
        #expect(report.status == "warn")
        #expect(report.check("store")?.status == "ok")
        #expect(report.check("daemon")?.fix == "smollama run")
        #expect(report.check("hub")?.status == "warn" && report.check("hub")?.fix?.contains("smollama enroll") == true)
        #expect(report.check("sensors")?.detail.contains("simulated") == true)
        #expect(report.checks.allSatisfy { $0.status == "ok" || $0.fix != nil }, "every warning names its fix")
        let text = try await SmollamaBinary.run(["doctor"], home: home.path)
        #expect(text.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 }, "\(text.stdout)")
    }

    @Test func aDamagedStoreIsReportedAfterQuarantine() async throws {
        let home = try TemporaryDirectory("doctor-damaged")
        #expect(try await SmollamaBinary.run(["init", "--demo", "--name", "shed"], home: home.path).status == 0)
        try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: home.path + "/data/smollama.sqlite"))
        let (_, report) = try await doctor(home.path)
        let store = try #require(report.check("store"))
        #expect(store.status == "warn" && store.detail.contains("moved aside"), "\(store.detail)")
    }

    @Test func theHubIsReachedAndASpoofedOneFails() async throws {
        let (hubHome, hub, url) = try await startHub("hub")
        defer { if hub.process.isRunning { hub.signal(SIGKILL) } }
        let home = try TemporaryDirectory("doctor-node")
        #expect(try await SmollamaBinary.run(["init", "--demo", "--name", "shed"], home: home.path).status == 0)
        let token = try await SmollamaBinary.run(["hub", "token"], home: hubHome.path)
        let enrolled = try await SmollamaBinary.run(
            ["enroll", "--hub", url, "--token", token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)], home: home.path)
        try #require(enrolled.status == 0, "\(enrolled.stderr)")
        let (_, good) = try await doctor(home.path)
        let reached = try #require(good.check("hub"))
        #expect(reached.status == "ok" && reached.detail.contains("signed, accepts this node; clock offset"), "\(reached.detail)")

        // Reachable, but the hub refuses this node's signed requests: a node it never enrolled
        // (its hub.json copied from an enrolled one), then the enrolled node once revoked.
        let stranger = try TemporaryDirectory("doctor-stranger")
        #expect(try await SmollamaBinary.run(["init", "--demo", "--name", "stranger"], home: stranger.path).status == 0)
        try FileManager.default.copyItem(atPath: home.path + "/data/hub.json", toPath: stranger.path + "/data/hub.json")
        let unknown = try await SmollamaBinary.run(["doctor", "--json", "--set", "sync.enabled=true", "--set", "sync.hub=\(url)"],
                                                   home: stranger.path)
        let unknownHub = try #require(try JSONDecoder().decode(Report.self, from: Data(unknown.stdout.utf8)).check("hub"))
        #expect(unknown.status == 2)
        #expect(unknownHub.status == "fail" && unknownHub.detail.contains("reachable but refuses this node"), "\(unknownHub.detail)")
        #expect(unknownHub.fix?.contains("smollama hub token --node") == true, "\(unknownHub.fix ?? "")")
        let id = try JSONDecoder().decode(NodeIdentity.self, from: Data(contentsOf: URL(fileURLWithPath: home.path + "/data/identity.json"))).nodeID
        #expect(try await SmollamaBinary.run(["hub", "revoke", id.hex], home: hubHome.path).status == 0)
        let (revoked, revokedReport) = try await doctor(home.path)
        let revokedHub = try #require(revokedReport.check("hub"))
        #expect(revoked.status == 2)
        #expect(revokedHub.status == "fail" && revokedHub.detail.contains("refuses this node") && revokedHub.detail.contains("revoked"),
                "\(revokedHub.detail)")
        #expect(revokedHub.fix?.contains("smollama hub token --node \(id.hex)") == true)

        // Another hub at the configured URL: reachable, but not the one this node enrolled with.
        let (_, other, otherURL) = try await startHub("stranger")
        defer { if other.process.isRunning { other.signal(SIGKILL) } }
        let spoofed = try await SmollamaBinary.run(["doctor", "--json", "--set", "sync.hub=\(otherURL)"], home: home.path)
        #expect(spoofed.status == 2, "\(spoofed.stdout)")
        let report = try JSONDecoder().decode(Report.self, from: Data(spoofed.stdout.utf8))
        #expect(report.check("hub")?.status == "fail" && report.check("hub")?.detail.contains("not the hub") == true)

        // Nothing listening: a failure naming the URL, within the timeout.
        hub.signal(SIGTERM)
        _ = try await hub.waitForExit()
        let (down, downReport) = try await doctor(home.path)
        #expect(down.status == 2)
        #expect(downReport.check("hub")?.detail.contains(url) == true, "\(downReport.check("hub")?.detail ?? "")")
    }
}
