import Foundation
import Logging
import SmollamaCore
import SmollamaLLM
import SmollamaStore
import SmollamaTesting
import Synchronization
import Testing
@testable import SmollamaMind

/// A chat model that replays recorded replies and keeps the requests it got.
final class ScriptedChatModel: ChatModel, Sendable {
    let model = "scripted"
    let capabilities: ModelCapabilities
    let replies: Mutex<[ChatResponse]>
    let requests = Mutex<[ChatRequest]>([])

    init(capabilities: ModelCapabilities, replies: [ChatResponse]) {
        self.capabilities = capabilities
        self.replies = Mutex(replies)
    }

    func chat(_ request: ChatRequest) async throws -> ChatResponse {
        requests.withLock { $0.append(request) }
        guard let reply = replies.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else {
            throw LLMError.unsupported("the script has no more replies")
        }
        return reply
    }

    func streamChat(_ request: ChatRequest) -> ChatStream {
        // Nothing is sent until iterated; the mind never streams.
        OpenAIClient(url: "http://127.0.0.1:1", model: model, logger: .quiet).streamChat(request)
    }

    func modelInfo(_ model: String?) async throws -> ModelInfo {
        ModelInfo(name: self.model, capabilities: capabilities)
    }

    static func text(_ text: String) -> ChatResponse {
        ChatResponse(model: "scripted", message: .assistant(text), finishReason: .stop)
    }

    static func calls(_ calls: [ToolCall]) -> ChatResponse {
        ChatResponse(model: "scripted", message: ChatMessage(role: .assistant, content: "", toolCalls: calls), finishReason: .toolCalls)
    }
}

/// A store with the seeded memories, two sensors with readings, and the tools over it.
struct ToolsFixture {
    let store: MindStore
    let tools: MindTools
    let embedder: WordHashEmbedder
    static let now: UTCMillis = RecallFixture.created + 3_600_000

    init() async throws {
        store = try await MindStore()
        try await RecallFixture.seed(store)
        let sensors = try await store.database.readings.registerSensors(
            [SensorDescriptor(id: "hallway.motion", name: "Hallway motion", kind: .binary),
             SensorDescriptor(id: "living_room.temperature", name: "Living room temperature", kind: .numeric, unit: "°C")],
            driver: "test", now: 0)
        let motion = try #require(sensors.first?.rowID)
        let temperature = try #require(sensors.last?.rowID)
        var readings: [PendingReading] = []
        let start = Self.now - 3 * 3_600_000
        for minute in stride(from: 0, to: 180, by: 10) {
            let t = start + Int64(minute) * 60_000
            readings.append(PendingReading(sensorRowID: temperature, value: 20 + Double(minute) / 60, stamp: store.stamp(t)))
            readings.append(PendingReading(sensorRowID: motion, value: minute % 60 == 0 ? 1 : 0, stamp: store.stamp(t)))
        }
        try await store.database.readings.commit(readings: readings, notices: [], origin: store.node)
        try await store.database.readings.rollUpAll()
        embedder = WordHashEmbedder()
        let indexer = EmbeddingIndexer(database: store.database, embedder: embedder, logger: .quiet)
        try await indexer.indexPending()
        let counter = MemoryStampCounter(Self.now)
        tools = MindTools(
            database: store.database,
            recall: Recall(database: store.database, embedder: embedder, logger: .quiet, now: { Self.now }),
            node: store.node, indexer: indexer, logger: .quiet, now: { Self.now }, stamp: { counter.next() })
    }
}

@Suite struct ToolsTests {
    func object(_ json: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
    }

    @Test func recallJSONShape() async throws {
        let fixture = try await ToolsFixture()
        let output = await fixture.tools.execute(ToolCall(name: "recall", arguments: ["query": "When does the post arrive?"]))
        #expect(!output.failed)
        let json = try object(output.content)
        #expect(Set(json.keys) == ["query", "hits", "vector_path"])
        #expect(json["vector_path"] as? String == "in-memory")
        let hits = try #require(json["hits"] as? [[String: Any]])
        let first = try #require(hits.first)
        #expect(first["id"] as? String == "m25")
        #expect(output.citations.first == "m25")
        for key in ["id", "type", "kind", "text", "subjects", "score", "signals", "scores", "origin", "importance",
                    "confidence", "source", "valid_from", "created_at", "metadata", "support"] {
            #expect(first[key] != nil, "missing \(key)")
        }
        #expect(first["type"] as? String == "memory")
        #expect((first["signals"] as? [String])?.contains("vector") == true)
        #expect(first["origin"] as? String == fixture.store.node.hex)
    }

    @Test func rememberStoresAUserMemoryThatRecallFinds() async throws {
        let fixture = try await ToolsFixture()
        let output = await fixture.tools.execute(
            ToolCall(name: "remember", arguments: ["text": "The hallway.motion sensor is blocked by a coat rack."]))
        let json = try object(output.content)
        #expect(json["source"] as? String == "user")
        #expect(json["subjects"] as? [String] == ["hallway.motion"])
        #expect(json["embedded"] as? Bool == true)
        let id = try #require(json["id"] as? String)
        let stored = try #require(try await fixture.store.database.knowledge.memory(id: id))
        #expect(stored.record.source == .user)
        let found = try await fixture.tools.recall(RecallQuery(text: "coat rack blocking the sensor"))
        #expect(found.hits.first?.id == id)

        let empty = await fixture.tools.execute(ToolCall(name: "remember", arguments: ["text": "   "]))
        #expect(empty.failed)
        #expect(try object(empty.content)["error"] as? String == "nothing to remember: the text is empty")
    }

    @Test func historyJSONFromRollups() async throws {
        let fixture = try await ToolsFixture()
        let output = await fixture.tools.execute(ToolCall(name: "history", arguments: ["sensor": "living_room.temperature", "hours": 4]))
        let json = try object(output.content)
        #expect(json["resolution"] as? String == "5m")
        #expect(json["unit"] as? String == "°C")
        let points = try #require(json["points"] as? [[String: Any]])
        #expect(points.count == 18)
        #expect(json["min"] as? Double == 20)
        #expect(json["on_count"] == nil)

        let motion = try await fixture.tools.history(sensor: "hallway.motion", from: ToolsFixture.now - 4 * 3_600_000, to: ToolsFixture.now)
        #expect(motion.onCount == 3)
        #expect(motion.onDurationMs.map { $0 == 1_800_000 } == true, "three 10-minute activations")

        let unknown = await fixture.tools.execute(ToolCall(name: "history", arguments: ["sensor": "attic.bats"]))
        #expect(unknown.failed)
        #expect(unknown.content.contains("known sensors: hallway.motion, living_room.temperature"))
        await #expect(throws: MindToolError.invalidRange(from: 5, to: 5)) {
            try await fixture.tools.history(sensor: "hallway.motion", from: 5, to: 5)
        }
    }

    @Test func currentStateJSON() async throws {
        let fixture = try await ToolsFixture()
        let output = await fixture.tools.execute(ToolCall(name: "current_state", arguments: ["sensors": ["living_room.temperature"]]))
        let json = try object(output.content)
        let sensors = try #require(json["sensors"] as? [[String: Any]])
        #expect(sensors.count == 1)
        let entry = try #require(sensors.first)
        #expect(entry["sensor"] as? String == "living_room.temperature")
        #expect(entry["kind"] as? String == "numeric")
        #expect(entry["status"] as? String == "ok")
        #expect(entry["value"] != nil && entry["age_seconds"] != nil)
        let all = try await fixture.tools.currentState()
        #expect(all.sensors.count == 2)
        await #expect(throws: MindToolError.self) { try await fixture.tools.currentState(sensors: ["nope"]) }
        let bad = await fixture.tools.execute(ToolCall(name: "launch_rockets", arguments: [:]))
        #expect(bad.failed && bad.content.contains("no tool named"))
    }
}
