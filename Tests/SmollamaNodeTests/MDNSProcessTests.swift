import Foundation
import Logging
import SmollamaCore
import SmollamaSync
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// `smollama enroll --token T` without `--hub` (issue 17, item 8) against a real hub process:
/// on loopback (the query sent unicast to the hub's mDNS port), against spoofed announcers, and
/// across a real link between two network namespaces (`scripts/netns-mdns-test`, root only).
@Suite(.serialized) struct MDNSProcessTests {
    func token(_ hubHome: String) async throws -> String {
        let token = try await SmollamaBinary.run(["hub", "token"], home: hubHome)
        try #require(token.status == 0, "\(token.stderr)")
        return token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func nodeHome(_ name: String) async throws -> TemporaryDirectory {
        let home = try TemporaryDirectory("mdns-\(name)")
        try #require(try await SmollamaBinary.run(["init", "--demo", "--name", name], home: home.path).status == 0)
        return home
    }

    func enroll(_ home: String, token: String, mdnsPort: Int, timeout: String = "2") async throws -> SmollamaBinary.Output {
        try await SmollamaBinary.run(
            ["enroll", "--token", token, "--timeout", timeout, "--mdns-query-address", "127.0.0.1"], home: home,
            environment: ["SMOLLAMA_MDNS_PORT": "\(mdnsPort)"])
    }

    @Test func aNodeEnrollsWithTheHubItFindsAndSaysWhatToDoWhenNoneAnswers() async throws {
        let mdnsPort = freeUDPPort()
        let hubHome = try await daemonTestHome("mdns", name: "hub", role: "llama",
                                               extra: "mdns:\n  port: \(mdnsPort)\n  address: 127.0.0.1")
        let hub = RunningNode(arguments: ["run"], home: hubHome.path, environment: ["SMOLLAMA_MDNS_ANNOUNCE": "true"])
        try hub.start()
        defer { if hub.process.isRunning { hub.signal(SIGKILL) } }
        #expect(try await eventually { hub.stderr.contains("announcing the hub over mDNS") }, "\(hub.stderr)")
        let url = try #require(hub.stderr.firstMatch(of: /smollama\.url=(http:\/\/127\.0\.0\.1:\d+)\//).map { String($0.1) })

        let home = try await nodeHome("shed")
        let started = ContinuousClock.now
        let enrolled = try await enroll(home.path, token: try await token(hubHome.path), mdnsPort: mdnsPort)
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        #expect(enrolled.stdout.contains("Found hub hub at \(url) over mDNS") && enrolled.stdout.contains("Enrolled node"),
                "\(enrolled.stdout)")
        #expect(ContinuousClock.now - started < .seconds(10))
        let info = try #require(try HubInfo.load(path: home.path + "/data/hub.json"))
        #expect(info.url == url)
        // Enrolled for real: a sync round goes through.
        let synced = try await SmollamaBinary.run(["sync"], home: home.path)
        #expect(synced.status == 0, "\(synced.stderr)")

        // The hub stopped: nobody answers, and the message names --hub and what to check there.
        hub.signal(SIGTERM)
        #expect(try await hub.waitForExit() == 0)
        let other = try await nodeHome("barn")
        let alone = try await enroll(other.path, token: "secret@00112233445566778899aabbccddeeff", mdnsPort: mdnsPort,
                                     timeout: "0.5")
        #expect(alone.status == 1)
        #expect(alone.stderr.contains("no hub answered over mDNS") && alone.stderr.contains("smollama enroll --hub")
                    && alone.stderr.contains("mdns.announce"), "\(alone.stderr)")
        #expect(!FileManager.default.fileExists(atPath: other.path + "/data/hub.json"))
    }

    /// Announcers started here, in-process: one announcing its own key (not the token's), one
    /// copying the real hub's fingerprint but answering enrollment with another key.
    @Test func spoofedAnnouncersAreRefused() async throws {
        let hubHome = try await daemonTestHome("mdns-spoof", name: "hub", role: "llama")
        let realToken = try await token(hubHome.path)
        let fingerprint = try #require(EnrollmentToken(realToken).hubFingerprint)
        let stranger = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let impostor = try await StubServer([
            "/sync/v1/enroll": [.json("""
                {"hubNode":"\(NodeID.random().hex)","hubName":"hub","hubPublicKey":"\(stranger.publicKey.hexString)"}
                """)],
        ])
        let port = try #require(URL(string: impostor.url)?.port.flatMap { UInt16(exactly: $0) })
        let node = NodeID.random()

        for (copiesFingerprint, expected) in [(false, "none announces the key this token was made by"),
                                              (true, "is not the one that made this token")] {
            let mdnsPort = freeUDPPort()
            let announced = HubAnnouncement(
                name: "hub", hubNode: node, version: "0.17.0",
                fingerprint: copiesFingerprint ? fingerprint : SyncSigning.fingerprint(publicKey: stranger.publicKey), port: port)
            let responder = MDNSResponder(endpoint: MDNSEndpoint(port: mdnsPort, queryAddress: "127.0.0.1"),
                                          logger: Logger(label: "test")) { announced }
            let home = try await nodeHome("shed")
            let output = try await withThrowingTaskGroup(of: SmollamaBinary.Output?.self) { group in
                group.addTask {
                    try await responder.run()
                    return nil
                }
                let output = try await enroll(home.path, token: realToken, mdnsPort: mdnsPort, timeout: "1")
                group.cancelAll()
                return output
            }
            #expect(output.status == 1, "\(output.stdout)")
            #expect(output.stderr.contains(expected), "\(output.stderr)")
            #expect(!FileManager.default.fileExists(atPath: home.path + "/data/hub.json"), "nothing pinned")
            #expect(try ConfigLoader.load(file: home.path + "/config.yaml").sync.enabled == false, "sync stays off")
        }
    }

    /// A real link: the hub in one network namespace, the node in another, joined by a veth
    /// pair; the query goes to 224.0.0.251:5353 as on a LAN.
    @Test(.enabled(if: getuid() == 0, "needs root: scripts/netns-mdns-test makes network namespaces (CI runs as root)"))
    func aNodeFindsTheHubAcrossARealLink() async throws {
        let hubHome = try await daemonTestHome("mdns-netns", name: "hub", role: "llama", extra: """
            http:
              host: 0.0.0.0
              port: 8080
              token: \(String(repeating: "ab", count: 24))
            """)
        let token = try await token(hubHome.path)
        let home = try await nodeHome("shed")
        let binary = SmollamaBinary.path
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let announcer = "SMOLLAMA_HOME='\(hubHome.path)' SMOLLAMA_LLM_RUNTIME=external exec '\(binary)' run"
        let browser = "SMOLLAMA_HOME='\(home.path)' '\(binary)' enroll --token '\(token)' --timeout 6"
        let output = try TemporaryDirectory("mdns-netns-output")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: root + "/scripts/netns-mdns-test")
        process.arguments = [announcer, browser]
        process.standardOutput = try FileHandle(forWritingTo: output.file("stdout"))
        process.standardError = try FileHandle(forWritingTo: output.file("stderr"))
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { process.terminate() }
        let stdout = try String(contentsOfFile: output.path + "/stdout", encoding: .utf8)
        let stderr = try String(contentsOfFile: output.path + "/stderr", encoding: .utf8)
        if process.terminationStatus == 77 {
            Issue.record("network namespaces cannot be made here, so mDNS across a link was not tested: \(stderr)")
            return
        }
        #expect(process.terminationStatus == 0, "\(stdout)\n\(stderr.suffix(4000))")
        #expect(stdout.contains("Found hub hub at http://10.253.0.1:8080 over mDNS"), "\(stdout)")
        #expect(try HubInfo.load(path: home.path + "/data/hub.json")?.url == "http://10.253.0.1:8080")
    }
}

extension TemporaryDirectory {
    /// An empty file in this directory, for a child process's output.
    func file(_ name: String) throws -> URL {
        let url = URL(fileURLWithPath: path + "/" + name)
        try Data().write(to: url)
        return url
    }
}
