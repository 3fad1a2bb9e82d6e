import Foundation
import SmollamaCore
import SmollamaNode
import SmollamaStore
import SmollamaSync
import SmollamaTesting
import Testing

/// Issue 18: other nodes' text printed by `hub nodes` (their names) and `recall` (their memories)
/// reaches the terminal inert — no escape sequences, no bidi overrides.
@Suite struct TerminalInertTests {
    static let hostile = "evil\u{1B}]2;owned\u{07}\u{1B}[2J\u{202E}txt"

    static func isInert(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{202E}" }
    }

    @Test func otherNodesTextIsInertInTablesAndRecall() async throws {
        try SmollamaBinary.checkBuilt()
        let home = try TemporaryDirectory("inert-cli")
        #expect(try await SmollamaBinary.run(["init", "--role", "llama", "--name", "hub"], home: home.path).status == 0)
        let runtime = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: [])
        let hub = SyncHub(database: runtime.database, hubNode: runtime.identity.nodeID, hubName: "hub",
                          key: try SyncKey(file: runtime.paths.keyFile), logger: .quiet)
        let key = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        let other = NodeID.random()
        let body = try JSONEncoder().encode(EnrollRequest(token: try await hub.createToken(), node: other, name: Self.hostile,
                                                          publicKey: key.publicKeyHex, incarnation: 1))
        let enrolled = await InProcessSyncTransport(hub: hub).send(SyncHTTPRequest(path: SyncProtocol.Path.enroll, headers: [:],
                                                                                   body: [UInt8](body)))
        #expect(enrolled.status == 200)
        let nodes = try await SmollamaBinary.run(["hub", "nodes"], home: home.path)
        #expect(nodes.status == 0, "\(nodes.stderr)")
        #expect(nodes.stdout.contains("evil") && Self.isInert(nodes.stdout), "\(nodes.stdout)")

        // A memory another node wrote, found by `recall`.
        let now = UTCMillis.now()
        let memory = MemoryRecord(id: other.newRecordID(), kind: "fact", subjects: ["kitchen"],
                                  text: "The kitchen window \(Self.hostile) sticks", confidence: 0.9, importance: 0.5,
                                  validFrom: now, createdAt: now, source: .api)
        let stamp = ClockStamp(hlc: HLCTimestamp(milliseconds: now.rawValue, counter: 0), bootID: "b", monotonicNanoseconds: 1,
                               quality: .synced)
        _ = try await runtime.database.events.apply(try Event(origin: other, seq: 1, stamp: stamp, body: .memoryVersion(memory)))
        let recall = try await SmollamaBinary.run(["recall", "kitchen window"], home: home.path)
        #expect(recall.status == 0, "\(recall.stderr)")
        #expect(recall.stdout.contains("kitchen window") && Self.isInert(recall.stdout), "\(recall.stdout)")
    }
}
