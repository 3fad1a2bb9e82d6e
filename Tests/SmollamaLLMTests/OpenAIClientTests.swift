import Foundation
import SmollamaLLM
import SmollamaTesting
import Testing

/// OpenAI-style bodies (llama-server's shapes: `timings` in ms, SSE, fragmented tool arguments).
enum OpenAIFixtures {
    static let streamWithFragmentedToolCall = [
        #"{"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant","content":null}}],"created":1795659251,"id":"chatcmpl-1","model":"llama3.2","object":"chat.completion.chunk"}"#,
        #"{"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Checking"}}],"created":1795659251,"id":"chatcmpl-1","model":"llama3.2","object":"chat.completion.chunk"}"#,
        #"{"choices":[{"finish_reason":null,"index":0,"delta":{"content":" the weather."}}],"created":1795659251,"id":"chatcmpl-1","model":"llama3.2","object":"chat.completion.chunk"}"#,
        #"{"choices":[{"finish_reason":null,"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_current_weather","arguments":""}}]}}],"id":"chatcmpl-1","model":"llama3.2","object":"chat.completion.chunk"}"#,
        #"{"choices":[{"finish_reason":null,"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"format\":\"cel"}}]}}],"id":"chatcmpl-1","model":"llama3.2","object":"chat.completion.chunk"}"#,
        #"{"choices":[{"finish_reason":null,"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"sius\",\"location\":"}}]}}],"id":"chatcmpl-1","model":"llama3.2","object":"chat.completion.chunk"}"#,
        #"{"choices":[{"finish_reason":null,"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris, FR\"}"}}]}}],"id":"chatcmpl-1","model":"llama3.2","object":"chat.completion.chunk"}"#,
        #"{"choices":[{"finish_reason":"tool_calls","index":0,"delta":{}}],"id":"chatcmpl-1","model":"llama3.2","object":"chat.completion.chunk"}"#,
        #"{"choices":[],"id":"chatcmpl-1","model":"llama3.2","object":"chat.completion.chunk","usage":{"completion_tokens":33,"prompt_tokens":122,"total_tokens":155},"timings":{"prompt_n":122,"prompt_ms":328.493,"predicted_n":33,"predicted_ms":552.222}}"#,
        "[DONE]",
    ]

    static let completionWithToolCall = #"""
        {"choices":[{"finish_reason":"tool_calls","index":0,"message":{"role":"assistant","content":"Checking the weather.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_current_weather","arguments":"{\"format\":\"celsius\",\"location\":\"Paris, FR\"}"}}]}}],"created":1795659250,"model":"llama3.2","object":"chat.completion","usage":{"completion_tokens":33,"prompt_tokens":122,"total_tokens":155},"id":"chatcmpl-2","timings":{"prompt_n":122,"prompt_ms":328.493,"predicted_n":33,"predicted_ms":552.222}}
        """#

    static let completionJSON = #"""
        {"choices":[{"finish_reason":"stop","index":0,"message":{"role":"assistant","content":"{\"kind\":\"temperature\",\"value\":24,\"unit\":\"C\"}"}}],"model":"smollm2","object":"chat.completion","usage":{"completion_tokens":16,"prompt_tokens":28,"total_tokens":44}}
        """#
}

func openAI(_ server: StubServer, retry: RetryPolicy = .init(attempts: 3, baseDelay: .milliseconds(10))) -> OpenAIClient {
    OpenAIClient(url: server.url, model: "llama3.2", timeout: .seconds(10), retry: retry, logger: testLogger())
}

@Suite struct OpenAIClientTests {
    @Test func streamAssemblesFragmentedToolArguments() async throws {
        try await StubServer.with(["/v1/chat/completions": [.sse(OpenAIFixtures.streamWithFragmentedToolCall)]]) { server in
            var deltas: [String] = []
            var calls: [ToolCall] = []
            var done: ChatResponse?
            for try await event in openAI(server).streamChat(ChatRequest(messages: [.user("weather?")])) {
                switch event {
                case .delta(let piece): deltas.append(piece)
                case .toolCalls(let list): calls += list
                case .done(let response): done = response
                }
            }
            #expect(deltas == ["Checking", " the weather."])
            #expect(calls == [ToolCall(id: "call_1", name: "get_current_weather", arguments: ["format": "celsius", "location": "Paris, FR"])])
            #expect(done?.finishReason == .toolCalls)
            #expect(done?.usage == Usage(promptTokens: 122, completionTokens: 33))
            #expect(done?.timings?.generationMilliseconds == 552.222)
            let body = try JSONValue(parsing: try #require(server.requests.first).body)
            #expect(body["stream"] == true)
            #expect(body["stream_options"]?["include_usage"] == true)
        }
    }

    @Test func schemaGoesInsideResponseFormatJSONSchema() async throws {
        try await StubServer.with(["/v1/chat/completions": [.json(OpenAIFixtures.completionJSON)]]) { server in
            struct Reading: Decodable, Equatable { var kind: String; var value: Int; var unit: String }
            let schema: JSONValue = ["type": "object", "properties": ["kind": ["type": "string"]]]
            let reading = try await openAI(server).generate(Reading.self, schema: schema, name: "reading", messages: [.user("24 degrees")], options: .deterministic(maxTokens: 64))
            #expect(reading == Reading(kind: "temperature", value: 24, unit: "C"))
            let body = try JSONValue(parsing: try #require(server.requests.first).body)
            #expect(body["response_format"]?["type"] == "json_schema")
            #expect(body["response_format"]?["json_schema"]?["name"] == "reading")
            #expect(body["response_format"]?["json_schema"]?["schema"] == schema)
            #expect(body["response_format"]?["schema"] == nil)  // a flat schema is silently ignored by llama-server
            #expect(body["max_tokens"] == 64)
            #expect(body["temperature"] == 0)
            #expect(body["seed"] == 42)
        }
    }

    @Test func errorEventInsideA200Stream() async throws {
        let events = [
            #"{"choices":[{"finish_reason":null,"index":0,"delta":{"content":"The"}}],"object":"chat.completion.chunk"}"#,
            #"{"error":{"code":500,"message":"Failed to decode the batch","type":"server_error"}}"#,
        ]
        try await StubServer.with(["/v1/chat/completions": [.sse(events)]]) { server in
            await #expect {
                _ = try await openAI(server).streamChat(ChatRequest(messages: [.user("hi")])).collect()
            } throws: { error in
                guard case LLMError.streamError(_, let message) = error else { return false }
                return message.contains("Failed to decode the batch")
            }
        }
    }

    @Test func finishReasonLengthIsTruncation() async throws {
        let body = #"{"choices":[{"finish_reason":"length","index":0,"message":{"role":"assistant","content":"Once upon"}}],"usage":{"completion_tokens":2,"prompt_tokens":5}}"#
        try await StubServer.with(["/v1/chat/completions": [.json(body)]]) { server in
            await #expect {
                _ = try await openAI(server).chat(ChatRequest(messages: [.user("story")], options: .init(maxTokens: 2)))
            } throws: { error in
                guard case LLMError.truncated(let partial, 2, _) = error else { return false }
                return partial == "Once upon"
            }
        }
    }

    @Test func missingModelNamesTheFix() async throws {
        let body = #"{"error":{"code":404,"message":"The model `qwen9` does not exist","type":"invalid_request_error"}}"#
        try await StubServer.with(["/v1/chat/completions": [.json(body, status: 404)]]) { server in
            await #expect {
                _ = try await openAI(server).complete("hi")
            } throws: { error in
                guard case LLMError.modelNotFound("qwen9", .openai) = error else { return false }
                return "\(error)".contains("smollama models import")
            }
        }
    }
}

/// The same reply through both wire formats decodes to the same result.
@Suite struct BackendEquivalenceTests {
    @Test func streamedToolCallReplies() async throws {
        let fromOllama = try await StubServer.with(["/api/chat": [.ndjson(OllamaFixtures.chatStreamWithToolCall)]]) { server in
            try await ollama(server).streamChat(ChatRequest(messages: [.user("weather?")])).collect()
        }
        let fromOpenAI = try await StubServer.with(["/v1/chat/completions": [.sse(OpenAIFixtures.streamWithFragmentedToolCall)]]) { server in
            try await openAI(server).streamChat(ChatRequest(messages: [.user("weather?")])).collect()
        }
        #expect(fromOllama.text == fromOpenAI.text)
        #expect(fromOllama.finishReason == fromOpenAI.finishReason)
        #expect(fromOllama.usage == fromOpenAI.usage)
        #expect(fromOllama.timings?.generationMilliseconds == fromOpenAI.timings?.generationMilliseconds)
        #expect(fromOllama.timings?.promptMilliseconds == fromOpenAI.timings?.promptMilliseconds)
        #expect(fromOllama.message.toolCalls.map(\.name) == fromOpenAI.message.toolCalls.map(\.name))
        #expect(fromOllama.message.toolCalls.map(\.arguments) == fromOpenAI.message.toolCalls.map(\.arguments))
    }

    @Test func plainToolCallReplies() async throws {
        let fromOllama = try await StubServer.with(["/api/chat": [.json(OllamaFixtures.chatWithToolCall)]]) { server in
            try await ollama(server).chat(ChatRequest(messages: [.user("weather?")]))
        }
        let fromOpenAI = try await StubServer.with(["/v1/chat/completions": [.json(OpenAIFixtures.completionWithToolCall)]]) { server in
            try await openAI(server).chat(ChatRequest(messages: [.user("weather?")]))
        }
        #expect(fromOllama.text == fromOpenAI.text)
        #expect(fromOllama.finishReason == .toolCalls && fromOpenAI.finishReason == .toolCalls)
        #expect(fromOllama.usage == fromOpenAI.usage)
        #expect(fromOllama.timings?.generationMilliseconds == fromOpenAI.timings?.generationMilliseconds)
        #expect(fromOllama.message.toolCalls.map(\.arguments) == fromOpenAI.message.toolCalls.map(\.arguments))
    }

    @Test func schemaReplies() async throws {
        struct Reading: Decodable, Equatable { var kind: String; var value: Int; var unit: String }
        let a = try await StubServer.with(["/api/chat": [.json(OllamaFixtures.chatJSON)]]) { server in
            try await ollama(server).generate(Reading.self, schema: ["type": "object"], messages: [.user("x")])
        }
        let b = try await StubServer.with(["/v1/chat/completions": [.json(OpenAIFixtures.completionJSON)]]) { server in
            try await openAI(server).generate(Reading.self, schema: ["type": "object"], messages: [.user("x")])
        }
        #expect(a == b)
    }
}

/// Malformed replies give typed errors, never a crash.
@Suite struct BadInputTests {
    func expectInvalid(_ body: () async throws -> Void) async {
        await #expect {
            try await body()
        } throws: { error in
            if case LLMError.invalidResponse = error { return true }
            return false
        }
    }

    @Test func notJSON() async throws {
        try await StubServer.with([
            "/api/chat": [StubReply(contentType: "text/html", chunks: ["<html>502 Bad Gateway</html>"])],
            "/v1/chat/completions": [StubReply(contentType: "text/html", chunks: ["<html>502 Bad Gateway</html>"])],
            "/api/embed": [.json("not json")], "/v1/embeddings": [.json("[1,2")],
        ]) { server in
            await expectInvalid { _ = try await ollama(server).complete("hi") }
            await expectInvalid { _ = try await openAI(server).complete("hi") }
            await expectInvalid { _ = try await ollama(server).embed(["a"]) }
            await expectInvalid { _ = try await openAI(server).embed(["a"]) }
            await expectInvalid { _ = try await ollama(server).streamChat(ChatRequest(messages: [.user("x")])).collect() }
            await expectInvalid { _ = try await openAI(server).streamChat(ChatRequest(messages: [.user("x")])).collect() }
        }
    }

    @Test func missingRequiredField() async throws {
        try await StubServer.with([
            "/api/chat": [.json(#"{"model":"llama3.2","done":true}"#)],
            "/v1/chat/completions": [.json(#"{"id":"chatcmpl-1","object":"chat.completion"}"#)],
            "/api/embed": [.json(#"{"model":"all-minilm"}"#)],
            "/v1/embeddings": [.json(#"{"object":"list"}"#)],
            "/api/tags": [.json(#"{"nothing":[]}"#)],
        ]) { server in
            await expectInvalid { _ = try await ollama(server).complete("hi") }
            await expectInvalid { _ = try await openAI(server).complete("hi") }
            await expectInvalid { _ = try await ollama(server).embed(["a"]) }
            await expectInvalid { _ = try await openAI(server).embed(["a"]) }
            await expectInvalid { _ = try await ollama(server).listModels() }
        }
    }

    @Test func wrongVectorCount() async throws {
        try await StubServer.with(["/api/embed": [.json(OllamaFixtures.embed)]]) { server in
            await expectInvalid { _ = try await ollama(server).embed(["only one input"]) }
        }
    }

    @Test func truncatedStreams() async throws {
        let ollamaLines = Array(OllamaFixtures.chatStreamWithToolCall.prefix(2))
        let sseLines = Array(OpenAIFixtures.streamWithFragmentedToolCall.prefix(3))
        try await StubServer.with([
            "/api/chat": [.ndjson(ollamaLines)], "/v1/chat/completions": [.sse(sseLines)],
        ]) { server in
            for stream in [ollama(server).streamChat(ChatRequest(messages: [.user("x")])), openAI(server).streamChat(ChatRequest(messages: [.user("x")]))] {
                await #expect {
                    _ = try await stream.collect()
                } throws: { error in
                    if case LLMError.truncatedStream = error { return true }
                    return false
                }
            }
        }
    }

    @Test func connectionDroppedMidStream() async throws {
        var dropped = StubReply.ndjson(Array(OllamaFixtures.chatStreamWithToolCall.prefix(2)))
        dropped.closeEarly = true
        try await StubServer.with(["/api/chat": [dropped]]) { server in
            var deltas = 0
            await #expect {
                for try await event in ollama(server).streamChat(ChatRequest(messages: [.user("x")])) {
                    if case .delta = event { deltas += 1 }
                }
            } throws: { error in
                switch error {
                case LLMError.connectionLost, LLMError.truncatedStream: return true
                default: return false
                }
            }
            // Tokens that arrived before the drop are delivered; the last chunk may race the close
            // inside the HTTP client, so one or both of the two are seen, never more, never none.
            #expect((1...2).contains(deltas))
        }
    }

    @Test func schemaViolationKeepsRawText() async throws {
        let reply = #"{"model":"m","message":{"role":"assistant","content":"{\"kind\": 5}"},"done":true,"done_reason":"stop"}"#
        try await StubServer.with(["/api/chat": [.json(reply)]]) { server in
            struct Reading: Decodable { var kind: String; var value: Int }
            await #expect {
                _ = try await ollama(server).generate(Reading.self, schema: ["type": "object"], messages: [.user("x")])
            } throws: { error in
                guard case LLMError.schemaViolation(_, let raw) = error else { return false }
                return raw == #"{"kind": 5}"#
            }
        }
    }

    @Test func badToolArguments() async throws {
        let body = #"{"choices":[{"finish_reason":"tool_calls","index":0,"message":{"role":"assistant","content":"","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]}}]}"#
        try await StubServer.with(["/v1/chat/completions": [.json(body)]]) { server in
            await #expect {
                _ = try await openAI(server).complete("x")
            } throws: { error in
                guard case LLMError.schemaViolation(_, let raw) = error else { return false }
                return raw == #"{"a":"#
            }
        }
    }
}
