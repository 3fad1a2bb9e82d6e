import Foundation
import SmollamaCore
import SmollamaLLM
import SmollamaMem0
import SmollamaStore
import SmollamaSync
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// The contracts users and other programs rely on: the shapes (keys and value types, not values)
/// of every `--json` command and of the HTTP APIs (dashboard JSON, mem0, sync). They come from the
/// real binary over a simulated hub and an enrolled node, and are compared with the snapshots in
/// `Tests/Contracts/`; a changed shape fails here. `SMOLLAMA_RECORD_CONTRACTS=1` re-records them.
@Suite(.serialized) struct ContractTests {
    static let snapshots = ContractSnapshots(
        directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Contracts").path)
    static let offline = [
        "--set", "memory.embeddings=false", "--set", "llm.url=http://127.0.0.1:9", "--set", "llm.retry.attempts=1",
    ]

    /// Collects every mismatch, so one run shows all changed shapes.
    final class Checker {
        var failures: [String] = []
        var checked: [String] = []

        func check(_ name: String, _ shape: JSONShape) throws {
            checked.append(name)
            if let mismatch = try ContractTests.snapshots.mismatch(name, shape) { failures.append(mismatch) }
        }

        func check(_ name: String, json text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            do {
                try check(name, try JSONShape(json: text))
            } catch let error as DecodingError {
                Issue.record("\(name) is not JSON (\(error)): \(text.prefix(500))", sourceLocation: sourceLocation)
            }
        }

        func check(_ name: String, _ output: SmollamaBinary.Output, sourceLocation: SourceLocation = #_sourceLocation) throws {
            #expect(output.status == 0, "\(name): \(output.stderr)", sourceLocation: sourceLocation)
            try check(name, json: output.stdout, sourceLocation: sourceLocation)
        }
    }

    @Test func theShapeHelperSeesRenamedKeysAndChangedTypes() throws {
        let base = try JSONShape(json: #"{"a": 1, "b": [{"c": "x"}, {"c": null, "d": true}], "e": {}}"#)
        #expect(base == (try JSONShape(json: #"{"e": {}, "a": 2.5, "b": [{"c": "y"}, {"d": false, "c": null}]}"#)))
        #expect(base != (try JSONShape(json: #"{"a": "1", "b": [{"c": "x"}, {"c": null, "d": true}], "e": {}}"#)))
        #expect(base != (try JSONShape(json: #"{"a": 1, "b": [{"c": "x"}, {"c": null, "dd": true}], "e": {}}"#)))
        #expect(base.rendered.contains(#""d?": "bool""#) && base.rendered.contains(#""null","#))
        let keyed = try JSONShape(json: #"{"0123456789abcdef0123456789abcdef": 1}"#)
        #expect(keyed.rendered.contains("<hex32>"))
        let dir = try TemporaryDirectory("contracts")
        let snapshots = ContractSnapshots(directory: dir.path, recording: false)
        try base.rendered.write(toFile: dir.path + "/x.json", atomically: true, encoding: .utf8)
        #expect(try snapshots.mismatch("x", base) == nil)
        #expect(try snapshots.mismatch("x", keyed)?.contains("changed") == true)
        #expect(try snapshots.mismatch("y", base)?.contains("missing") == true)
    }

    @Test func cliAndHTTPShapesMatchTheSnapshots() async throws {
        try SmollamaBinary.checkBuilt()
        let checker = Checker()
        let hubHome = try TemporaryDirectory("contract-hub")
        func hub(_ arguments: [String]) async throws -> SmollamaBinary.Output {
            try await SmollamaBinary.run(arguments + Self.offline, home: hubHome.path)
        }

        // The CLI's read commands over a simulated hub.
        try checker.check("cli-init", try await hub(["init", "--demo", "--role", "llama", "--name", "hub", "--json"]))
        try checker.check("cli-simulate", try await hub(["simulate", "--days", "3", "--json"]))
        try checker.check("cli-status", try await hub(["status", "--json"]))
        try checker.check("cli-sensors", try await hub(["sensors", "--json"]))
        try checker.check("cli-reflect", try await hub(["reflect", "--json"]))
        try checker.check("cli-remember", try await hub(["remember", "The hallway.motion sensor is behind the coat rack.", "--json"]))
        try checker.check("cli-recall", try await hub(["recall", "coat rack", "--json"]))
        try checker.check("cli-recall-memory", try await hub(["recall", "hallway.motion weekdays", "--kind", "memory", "--json"]))
        try checker.check("cli-history-binary", try await hub(["history", "hallway.motion", "--from", "6h", "--json"]))
        try checker.check("cli-history-numeric", try await hub(["history", "living_room.temperature", "--from", "6h", "--json"]))
        try checker.check("cli-state", try await hub(["state", "--json"]))
        try checker.check("cli-presence", try await hub(["presence", "--from", "6h", "--json"]))
        try checker.check("cli-ask", try await hub(["ask", "Where is the hallway motion sensor?", "--json"]))
        try checker.check("cli-dashboard", try await hub(["dashboard", "--json"]))
        let logs = try await hub(["logs", "--tail", "200", "--json"])
        #expect(logs.status == 0, "\(logs.stderr)")
        try checker.check("cli-logs", try JSONShape(merging: logs.stdout.split(separator: "\n").map(String.init)))

        // The hub daemon: dashboard JSON API, mem0 API, sync endpoints, over loopback.
        let config = try ConfigLoader.load(file: hubHome.path + "/config.yaml")
        let port = freeLoopbackPort()
        let daemon = RunningNode(arguments: ["run"] + Self.offline, home: hubHome.path,
                                 environment: ["SMOLLAMA_HTTP_PORT": String(port)])
        try daemon.start()
        defer { if daemon.process.isRunning { daemon.signal(SIGKILL) } }
        let base = "http://127.0.0.1:\(port)"
        #expect(try await eventually(timeout: .seconds(60), poll: .milliseconds(200)) {
            try Mem0ProcessTests.curl([base + "/healthz"]).status == 200
        }, "the hub did not answer: \(daemon.stderr.suffix(2000))")
        func get(_ name: String, _ path: String, status: Int = 200, headers: [String] = []) throws {
            let answer = try Mem0ProcessTests.curl(headers.flatMap { ["-H", $0] } + [base + path])
            #expect(answer.status == status, "\(path): \(answer.body.prefix(500))")
            try checker.check(name, json: answer.body)
        }
        func send(_ name: String, _ method: String, _ path: String, _ body: String, status: Int = 200,
                  headers: [String] = []) throws -> String {
            let answer = try Mem0ProcessTests.curl(
                ["-X", method, "-H", "Content-Type: application/json"] + headers.flatMap { ["-H", $0] }
                    + [base + path, "--data-binary", body])
            #expect(answer.status == status, "\(method) \(path): \(answer.body.prefix(500))")
            try checker.check(name, json: answer.body)
            return answer.body
        }
        let identity = try JSONDecoder().decode(
            NodeIdentity.self, from: Data(contentsOf: URL(fileURLWithPath: hubHome.path + "/data/identity.json")))
        // The daemon adds sensors of its own (the system's) with no reading yet; their first
        // readings land a flush later. Shapes are taken once every sensor has one, so whether a
        // sensor's `lastTime` is present does not depend on how fast the machine is.
        #expect(try await eventually(timeout: .seconds(60), poll: .milliseconds(200)) {
            let sensors = try JSONDecoder().decode(JSONValue.self, from: Data(
                try Mem0ProcessTests.curl([base + "/api/v1/sensors"]).body.utf8))["sensors"]?.arrayValue ?? []
            return !sensors.isEmpty && sensors.allSatisfy { $0["lastTime"] != nil }
        }, "a sensor never got its first reading: \(daemon.stderr.suffix(2000))")
        try get("api-status", "/api/v1/status")
        try get("api-nodes", "/api/v1/nodes")
        try get("api-node", "/api/v1/nodes/\(identity.nodeID.hex)")
        try get("api-sensors", "/api/v1/sensors")
        try get("api-series-numeric", "/api/v1/series?sensor=living_room.temperature&range=24h")
        try get("api-series-binary", "/api/v1/series?sensor=hallway.motion&range=24h")
        try get("api-log", "/api/v1/log?limit=200")
        try get("api-observations", "/api/v1/observations")
        try get("api-memories", "/api/v1/memories")
        try get("api-error", "/api/v1/series", status: 400)

        let key = "X-API-Key: \(config.mem0.apiKey)"
        let added = try send("mem0-add", "POST", "/mem0/memories",
                             #"{"messages":"The kitchen window sticks in winter","user_id":"alice","infer":false}"#,
                             headers: [key])
        let memoryID = try #require(added.firstMatch(of: /"id":"([^"]+)"/).map { String($0.1) }, "\(added)")
        try get("mem0-list", "/mem0/memories?user_id=alice", headers: [key])
        try get("mem0-get", "/mem0/memories/\(memoryID)", headers: [key])
        _ = try send("mem0-search", "POST", "/mem0/search", #"{"query":"kitchen window","user_id":"alice"}"#,
                     headers: [key])
        _ = try send("mem0-update", "PUT", "/mem0/memories/\(memoryID)", #"{"text":"The kitchen window sticks"}"#,
                     headers: [key])
        try get("mem0-history", "/mem0/memories/\(memoryID)/history", headers: [key])
        try get("mem0-ping", "/mem0/v1/ping", headers: [key])
        _ = try send("mem0-v3-search", "POST", "/mem0/v3/memories/search",
                     #"{"query":"kitchen window","filters":{"user_id":"alice"}}"#, headers: [key])
        try get("mem0-error-unauthorised", "/mem0/memories?user_id=alice", status: 401)
        _ = try send("mem0-error-bad-body", "POST", "/mem0/memories", #"{"messages":42}"#, status: 400, headers: [key])
        _ = try send("mem0-delete", "DELETE", "/mem0/memories/\(memoryID)", "", headers: [key])

        _ = try send("sync-time", "POST", "/sync/v1/time", "{}")
        _ = try send("sync-error-unsigned", "POST", "/sync/v1/handshake", "{}", status: 400)

        // An enrolled node: enrollment, a sync round, its status, a signed handshake by hand.
        let nodeHome = try TemporaryDirectory("contract-node")
        func node(_ arguments: [String]) async throws -> SmollamaBinary.Output {
            try await SmollamaBinary.run(arguments + Self.offline, home: nodeHome.path)
        }
        #expect(try await node(["init", "--demo", "--role", "alpaca", "--name", "node"]).status == 0)
        #expect(try await node(["simulate", "--days", "1"]).status == 0)
        let token = try await hub(["hub", "token"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let enrolled = try await node(["enroll", "--hub", base, "--token", token])
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        try checker.check("cli-sync", try await node(["sync", "--json"]))
        try checker.check("cli-sync-status", try await node(["sync", "--status", "--json"]))
        try checker.check("cli-hub-nodes", try await hub(["hub", "nodes", "--json"]))

        let nodeIdentity = try JSONDecoder().decode(
            NodeIdentity.self, from: Data(contentsOf: URL(fileURLWithPath: nodeHome.path + "/data/identity.json")))
        let handshake = """
            {"version":1,"node":"\(nodeIdentity.nodeID.hex)","incarnation":\(nodeIdentity.incarnation),\
            "bootID":"contract","monotonicNanoseconds":0,"streams":[{"stream":"readings","localMax":1}]}
            """
        let request = try SyncSigning.request(
            path: SyncProtocol.Path.handshake, body: Array(handshake.utf8), node: nodeIdentity.nodeID,
            key: try SyncKey(file: nodeHome.path + "/data/node.key"),
            time: .now(), compress: false)
        let answer = try await HTTPSyncTransport(baseURL: base).send(request)
        #expect(answer.status == 200, "\(String(decoding: answer.body, as: UTF8.self))")
        try checker.check("sync-handshake", json: String(decoding: answer.body, as: UTF8.self))

        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0)
        #expect(checker.failures.isEmpty, "\(checker.failures.joined(separator: "\n\n"))")
        if Self.snapshots.recording { print("recorded \(checker.checked.count) contract snapshots") }
    }
}
