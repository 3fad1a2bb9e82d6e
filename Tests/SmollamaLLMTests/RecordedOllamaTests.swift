import Foundation
import SmollamaLLM
import SmollamaTesting
import Synchronization
import Testing

/// `OllamaClient` against a recorded Ollama (`RecordedOllama`: Ollama's documented answers,
/// `Tests/Fixtures/ollama`): tags, a streamed pull, a chat with a `format` schema, embeddings.
@Suite struct RecordedOllamaTests {
    func client(_ server: StubServer) -> OllamaClient {
        OllamaClient(url: server.url, model: "qwen2.5:0.5b", embeddingModel: "all-minilm",
                     retry: .init(attempts: 1), logger: testLogger())
    }

    @Test func tagsListTheDefaultModels() async throws {
        let server = try await RecordedOllama.start()
        defer { Task { await server.close() } }
        let models = try await client(server).listModels()
        #expect(models.map(\.name) == ["qwen2.5:0.5b", "all-minilm:latest"])
        #expect(models[0].sizeBytes == 397_821_319 && models[0].parameterSize == "494.03M" && models[0].quantization == "Q4_K_M")
        #expect(models[1].family == "bert" && models.allSatisfy { $0.source == "ollama" })
        #expect(try await client(server).version() == "0.5.7")
    }

    @Test func aPullStreamsItsProgressUntilSuccess() async throws {
        let server = try await RecordedOllama.start()
        defer { Task { await server.close() } }
        let seen = Mutex<[PullProgress]>([])
        try await client(server).pull("qwen2.5:0.5b") { progress in seen.withLock { $0.append(progress) } }
        let lines = seen.withLock { $0 }
        #expect(lines.count == 12 && lines.first?.status == "pulling manifest" && lines.last?.status == "success")
        let layer = lines.filter { $0.status == "pulling c5396e06af29" }
        // The first line of a layer has its size but nothing completed: no fraction yet.
        let expected: [Double] = [99_451_984.0 / 397_807_936, 0.75, 1]
        #expect(layer.count == 4 && layer.compactMap(\.fraction) == expected)
        #expect(layer.allSatisfy { $0.total == 397_807_936 && $0.digest?.hasPrefix("sha256:c5396e06") == true })
        let request = try #require(server.requests.first)
        let body = try JSONValue(parsing: request.body)
        #expect(request.path == "/api/pull" && body["model"]?.stringValue == "qwen2.5:0.5b" && body["stream"] == .bool(true))
    }

    @Test func aPullCutBeforeSuccessFails() async throws {
        let lines = try RecordedOllama.fixture("pull.ndjson").split(separator: "\n").map(String.init).dropLast(3)
        let server = try await RecordedOllama.start(extra: ["/api/pull": [.ndjson(Array(lines))]])
        defer { Task { await server.close() } }
        await #expect(throws: LLMError.self) { try await client(server).pull("qwen2.5:0.5b") { _ in } }
    }

    @Test func aChatWithAFormatSchemaSendsTheSchemaAndDecodesTheAnswer() async throws {
        let server = try await RecordedOllama.start()
        defer { Task { await server.close() } }
        let schema: JSONValue = [
            "type": "object",
            "properties": ["sentence": ["type": "string"], "confidence": ["type": "number"]],
            "required": ["sentence", "confidence"],
        ]
        let response = try await client(server).chat(ChatRequest(
            messages: [ChatMessage(role: .user, content: "Say one sentence about the kitchen.")],
            format: .jsonSchema(name: "observation", schema: schema)))
        let answer = try JSONValue(parsing: response.text)
        #expect(answer["sentence"]?.stringValue == "The kitchen is warmer than usual for this hour.")
        #expect(answer["confidence"]?.doubleValue == 0.7)
        #expect(response.finishReason == .stop && response.usage?.promptTokens == 97 && response.usage?.completionTokens == 26)
        #expect(response.timings?.generationMilliseconds == 354)
        // Ollama takes the schema itself as `format`, at the top level, not OpenAI's wrapper.
        let body = try JSONValue(parsing: try #require(server.requests.first).body)
        #expect(body["format"] == schema && body["stream"] == .bool(false) && body["model"]?.stringValue == "qwen2.5:0.5b")
    }

    @Test func embeddingsAreNormalisedPerText() async throws {
        let server = try await RecordedOllama.start()
        defer { Task { await server.close() } }
        let result = try await client(server).embed(["the kitchen is warm", "someone is in the hallway"])
        #expect(result.vectors.count == 2 && result.dimension == 10 && result.model == "all-minilm" && result.promptTokens == 16)
        for vector in result.vectors {
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-5)
        }
        let body = try JSONValue(parsing: try #require(server.requests.first).body)
        #expect(body["model"]?.stringValue == "all-minilm" && body["input"]?.arrayValue?.count == 2)
    }
}
