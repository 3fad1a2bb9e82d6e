import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SmollamaCore
import SmollamaLLM
@testable import SmollamaMem0
import SmollamaProcess
import SmollamaStore
import SmollamaTesting
import Testing

/// The bridge against a real mem0: PyPI mem0ai 2.2.1's `Memory` (local Qdrant on disk, our
/// llama-server with all-MiniLM-L6-v2 as its OpenAI-compatible embedder) behind the test-only
/// HTTP wrapper `scripts/testing/mem0_server.py`. The llama-servers are the shared
/// `.liveRuntime` (with a 4096-token chat context for fact extraction); tagged `.live`. Needs
/// `scripts/setup-llm.sh` (it installs mem0ai into its venv); fails, never skips, when that has
/// not been run.
@Suite(.serialized, .tags(.live), .liveRuntime(contextSize: 4096), .timeLimit(.minutes(10)))
struct LiveMem0BridgeTests {
    static let key = "live-mem0-key-0123456789"

    struct Runtime {
        var python: String
        var script: String

        static func locate() throws -> Runtime {
            let env = ProcessInfo.processInfo.environment
            let cache = env["SMOLLAMA_CACHE"] ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/smollama"
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().path
            let runtime = Runtime(
                python: env["SMOLLAMA_MEM0_PYTHON"] ?? cache + "/venv/bin/python",
                script: root + "/scripts/testing/mem0_server.py")
            for path in [runtime.python, runtime.script]
            where !FileManager.default.fileExists(atPath: path) {
                throw Missing(what: "\(path) does not exist: run scripts/setup-llm.sh (it installs llama-server, the "
                              + "models and mem0ai into its venv)")
            }
            return runtime
        }
    }

    struct Missing: Error, CustomStringConvertible { var what: String; var description: String { what } }


    /// GET `url`; the status and JSON body, or nil while nothing answers.
    static func get(_ url: String) async -> (Int, JSONValue)? {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "X-API-Key", value: key)
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(30)),
              let body = try? await response.body.collect(upTo: 8 << 20)
        else { return nil }
        return (Int(response.status.code), (try? JSONValue(parsing: String(buffer: body))) ?? .null)
    }

    /// Starts the mem0 wrapper (embedding with the live runtime's llama-server); runs `body` with
    /// the wrapper's URL.
    static func withRealMem0(_ body: (String) async throws -> Void) async throws {
        let runtime = try Runtime.locate()
        let embedURL = try LiveRuntime.require().config.embeddingURL
        let directory = try TemporaryDirectory("mem0-live")

        let portFile = directory.path + "/mem0.port"
        let wrapper = try ChildProcess("/usr/bin/env", [
            "MEM0_TEST_DIR=\(directory.path)", "MEM0_TEST_EMBED_URL=\(embedURL)", "MEM0_TEST_PORT=0",
            "MEM0_TEST_PORT_FILE=\(portFile)", "MEM0_TEST_API_KEY=\(key)", "MEM0_TELEMETRY=False",
            runtime.python, runtime.script,
        ], output: .file(directory.path + "/mem0.log"))
        defer { wrapper.stop() }
        let started = try await eventually(timeout: .seconds(180), poll: .milliseconds(200)) {
            FileManager.default.fileExists(atPath: portFile) || !wrapper.isRunning
        }
        let port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
        guard started, wrapper.isRunning, let port else {
            let log = (try? String(contentsOfFile: directory.path + "/mem0.log", encoding: .utf8)) ?? ""
            throw Missing(what: "the mem0 wrapper did not start (is mem0ai installed? run scripts/setup-llm.sh): "
                          + String(log.suffix(2000)))
        }
        try await body("http://127.0.0.1:\(port)")
    }

    static func remoteItems(_ url: String, agent: String) async throws -> [JSONValue] {
        let reply = try #require(await get(url + "/memories?agent_id=\(agent)"))
        #expect(reply.0 == 200, "\(reply.1)")
        return reply.1["results"]?.arrayValue ?? []
    }

    @Test func memoriesArriveOnceInARealMem0AndSurviveABridgeRestart() async throws {
        let hub = try await Mem0Fixture()
        let cold = try await hub.garageMemory("The garage is cold at night", seq: 1)
        let door = try await hub.garageMemory("The garage door opens at 07:30 on weekdays", seq: 2)
        let gone = try await hub.garageMemory("A temporary note", seq: 3)
        _ = try await hub.memory.delete(id: gone.id)
        try await Self.withRealMem0 { url in
            let bridge = Mem0BridgeTests.bridge(hub, url: url, key: Self.key)
            let pass = try await bridge.tick()
            #expect(pass.posted == 2 && pass.handled == 4)
            var items = try await Self.remoteItems(url, agent: "garage")
            #expect(Set(items.compactMap { $0["memory"]?.stringValue })
                    == ["The garage is cold at night", "The garage door opens at 07:30 on weekdays"])
            let remoteDoor = try #require(items.first { $0["metadata"]?["smollama_id"]?.stringValue == door.id })
            #expect(remoteDoor["metadata"]?["smollama_node"] == "garage")
            #expect(remoteDoor["metadata"]?["smollama_kind"] == "routine")
            #expect(remoteDoor["metadata"]?["smollama_confidence"] == 0.8)
            #expect(remoteDoor["agent_id"] == "garage")

            // A restart (a new bridge over the same store) sends nothing again.
            #expect(try await Mem0BridgeTests.bridge(hub, url: url, key: Self.key).tick().handled == 0)
            // Even if the process died between mem0's yes and our record of it.
            try await hub.database.meta.setMetaValues([
                Mem0Bridge.remoteKey(cold.id): nil, Mem0Bridge.cursorKey(hub.garage): nil,
                Mem0Bridge.inflightKey(cold.id): "\(hub.garage.hex):1",
            ])
            let replay = try await Mem0BridgeTests.bridge(hub, url: url, key: Self.key).tick()
            #expect(replay.posted == 0)
            #expect(try await Self.remoteItems(url, agent: "garage").count == 2)

            // Edits and deletes on the hub follow: mem0 records them in its own history.
            hub.clockSource.advance(milliseconds: 1000)
            _ = try await hub.memory.json.update(id: door.id, body: ["text": "The garage door opens at 08:00 on weekdays"])
            _ = try await hub.memory.delete(id: cold.id)
            let later = try await Mem0BridgeTests.bridge(hub, url: url, key: Self.key).tick()
            #expect(later.updated == 1 && later.deleted == 1 && later.posted == 0)
            items = try await Self.remoteItems(url, agent: "garage")
            #expect(items.compactMap { $0["memory"]?.stringValue } == ["The garage door opens at 08:00 on weekdays"])
            let remoteID = try #require(remoteDoor["id"]?.stringValue)
            let history = try #require(await Self.get(url + "/memories/\(remoteID)/history"))
            #expect(history.1.arrayValue?.map { $0["event"] } == ["ADD", "UPDATE"])
        }
    }

    /// `infer: true` with the real SmolLM2-135M: the compact prompt fits, the reply is schema-valid,
    /// and every fact kept is grounded in the conversation (no invented numbers).
    @Test func inferExtractsGroundedFactsWithTheRealSmallModel() async throws {
        let model = try LiveRuntime.require().client()
        let extractor = ModelFactExtractor(model: model)
        let messages = [
            ExtractionMessage(role: "user", content: "Hi! I'm Alice. I like the kitchen at 21 degrees in the evening."),
            ExtractionMessage(role: "assistant", content: "Got it, Alice: the kitchen at 21 degrees in the evening."),
            ExtractionMessage(role: "user", content: "Also, the garage door must be closed by 22:00 every night."),
        ]
        let facts = try await extractor.extract(from: messages)
        let conversation = extractor.transcript(messages)
        for fact in facts {
            #expect(ModelFactExtractor.isGrounded(fact.text, in: conversation), "\(fact.text)")
            #expect(fact.provenance.contains("smollm2-135m-instruct"))
        }
        print("infer with SmolLM2-135M: \(facts.count) grounded facts: \(facts.map(\.text))")
    }

    /// The same calls against the real mem0 and against ours: every key mem0 answers with, ours
    /// answers with too (ours may add more: agent_id = node, run_id = day, smollama metadata).
    @Test func ourShapesCarryEveryKeyOfTheRealMem0s() async throws {
        let ours = try await Mem0Fixture()
        try await Self.withRealMem0 { url in
            func send(_ method: HTTPMethod, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
                var request = HTTPClientRequest(url: url + path)
                request.method = method
                request.headers.add(name: "X-API-Key", value: Self.key)
                if let body {
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(string: body.jsonString))
                }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
                let bytes = try await response.body.collect(upTo: 1 << 20)
                #expect(response.status == .ok, "\(method) \(path): \(String(buffer: bytes))")
                return try JSONValue(parsing: String(buffer: bytes))
            }
            func keys(_ value: JSONValue?) -> Set<String> { Set(value?.objectValue?.keys.map { $0 } ?? []) }
            func covers(_ mine: JSONValue?, _ theirs: JSONValue?, _ what: String) {
                let missing = keys(theirs).subtracting(keys(mine))
                #expect(!keys(theirs).isEmpty && missing.isEmpty, "\(what): ours lacks \(missing.sorted())")
            }
            let body: JSONValue = ["messages": [["role": "user", "content": "Alice keeps the bike in the garage"]],
                                   "user_id": "alice", "infer": false, "metadata": ["category": "things"]]
            let theirsAdded = try await send(.POST, "/memories", body)
            let oursAdded = try await ours.memory.json.add(body)
            covers(oursAdded["results"]?.arrayValue?.first, theirsAdded["results"]?.arrayValue?.first, "add result")
            let theirsID = try #require(theirsAdded["results"]?.arrayValue?.first?["id"]?.stringValue)
            let oursID = try #require(oursAdded["results"]?.arrayValue?.first?["id"]?.stringValue)

            covers(try await ours.memory.json.get(id: oursID), try await send(.GET, "/memories/\(theirsID)"), "get")
            let theirsList = try await send(.GET, "/memories?user_id=alice")
            let oursList = try await ours.memory.json.list(scope: Mem0Scope(userID: "alice"), filters: .matchAll, limit: 10,
                                                      showExpired: false)
            covers(oursList["results"]?.arrayValue?.first, theirsList["results"]?.arrayValue?.first, "list item")
            #expect(keys(oursList) == keys(theirsList))
            let theirsFound = try await send(.POST, "/search", ["query": "where is the bike", "user_id": "alice"])
            let oursFound = try await ours.memory.json.search(["query": "bike garage", "user_id": "alice"])
            covers(oursFound["results"]?.arrayValue?.first, theirsFound["results"]?.arrayValue?.first, "search hit")

            let update: JSONValue = ["text": "Alice keeps the bike in the shed"]
            #expect(try await send(.PUT, "/memories/\(theirsID)", update) == (try await ours.memory.json.update(id: oursID, body: update)))
            _ = try await send(.DELETE, "/memories/\(theirsID)")
            _ = try await ours.memory.delete(id: oursID)
            let theirsHistory = try #require(try await send(.GET, "/memories/\(theirsID)/history").arrayValue)
            let oursHistory = try #require(try await ours.memory.json.history(id: oursID).arrayValue)
            #expect(theirsHistory.map { $0["event"] } == oursHistory.map { $0["event"] })
            #expect(theirsHistory.map { $0["old_memory"] } == oursHistory.map { $0["old_memory"] })
            #expect(theirsHistory.map { $0["new_memory"] } == oursHistory.map { $0["new_memory"] })
            #expect(theirsHistory.map { $0["is_deleted"] } == oursHistory.map { $0["is_deleted"] })
            for (mine, theirs) in zip(oursHistory, theirsHistory) { covers(mine, theirs, "history entry") }
        }
    }

    /// mem0's own Python client (`MemoryClient`, PyPI mem0ai 2.2.1) against our API over real HTTP.
    @Test func mem0sOwnPythonClientWorksAgainstTheHub() async throws {
        let runtime = try Runtime.locate()
        let script = URL(fileURLWithPath: runtime.script).deletingLastPathComponent().path + "/mem0_client_check.py"
        let server = try await StubMem0Server()
        let directory = try TemporaryDirectory("mem0-client")
        let output = directory.path + "/out.json"
        try await server.serve { url in
            let child = try ChildProcess("/usr/bin/env", ["MEM0_TELEMETRY=False", runtime.python, script, url,
                                                          Mem0Fixture.apiKey], output: .file(output))
            let status = await child.wait(timeout: .seconds(180))
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            #expect(status == 0, "the mem0 client failed: \(text.suffix(2000))")
            let line = text.split(separator: "\n").last.map(String.init) ?? ""
            let result = try JSONValue(parsing: line)
            #expect(result["add"]?["results"]?.arrayValue?.first?["event"] == "ADD")
            #expect(result["get"]?["memory"] == "Alice keeps the bike in the garage")
            #expect(result["get"]?["user_id"] == "alice")
            #expect(result["get"]?["metadata"]?["category"] == "things")
            #expect(result["all"]?["results"]?.arrayValue?.count == 1)
            // Pages of one that never overlap (the clock stands still here: ties go by id); past
            // the end, nothing; another user's scope is empty.
            let pages = ["page1", "page2", "page3"].map { result[$0]?["results"]?.arrayValue?.compactMap { $0["memory"]?.stringValue } ?? ["?"] }
            #expect(pages.map(\.count) == [1, 1, 0], "\(pages)")
            #expect(Set(pages.joined()) == ["Alice waters the plants on Sunday", "Alice keeps the bike in the garage"], "\(pages)")
            #expect(result["other_user"]?["results"]?.arrayValue?.isEmpty == true)
            #expect(result["search"]?["results"]?.arrayValue?.first?["memory"] == "Alice keeps the bike in the garage")
            #expect(result["update"]?["message"] == "Memory updated successfully!")
            #expect(result["history"]?.arrayValue?.map { $0["event"] } == ["ADD", "UPDATE"])
            #expect(result["delete"]?["message"] == "Memory deleted successfully!")
        }
        #expect(try await server.memories().isEmpty)
    }
}
