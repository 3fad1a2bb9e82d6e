// Over 400 lines: one wire API (OpenAI-compatible chat, SSE stream, embeddings, models, props)
// and its error mapping, kept together like OllamaClient.
public import AsyncHTTPClient
import Foundation
public import Logging
import NIOHTTP1

/// The OpenAI-compatible API (`/v1/chat/completions`, `/v1/embeddings`, `/v1/models`) shared by
/// llama-server, LM Studio, vLLM and Ollama's compatibility layer, plus llama-server's `/health`
/// and `/props` where present. Streams are SSE; tool-call arguments arrive as JSON-string
/// fragments; schemas go in `response_format.json_schema.schema`; timings are milliseconds.
public struct OpenAIClient: ChatModel, Embedder {
    public let model: String
    public let embeddingModel: String
    let transport: HTTPTransport
    let embeddingTransport: HTTPTransport

    /// - Parameters:
    ///   - url: base URL of the chat server, without `/v1`.
    ///   - embeddingURL: base URL of the embedding server (llama-server needs a second instance
    ///     started with `--embeddings`); defaults to `url`.
    public init(
        url: String = "http://127.0.0.1:8081", model: String, embeddingURL: String? = nil, embeddingModel: String = "all-minilm",
        apiKey: String? = nil, timeout: Duration = .seconds(120), retry: RetryPolicy = .init(),
        httpClient: HTTPClient = llmHTTPClient, logger: Logger
    ) {
        self.model = model
        self.embeddingModel = embeddingModel
        var base = url
        if base.hasSuffix("/v1") { base.removeLast(3) }
        var embedBase = embeddingURL ?? base
        if embedBase.hasSuffix("/v1") { embedBase.removeLast(3) }
        transport = HTTPTransport(baseURL: base, backend: .openai, client: httpClient, retry: retry, timeout: timeout, logger: logger, apiKey: apiKey)
        embeddingTransport = HTTPTransport(baseURL: embedBase, backend: .openai, client: httpClient, retry: retry, timeout: timeout, logger: logger, apiKey: apiKey)
    }

    public var baseURL: String { transport.baseURL }
    public var embeddingBaseURL: String { embeddingTransport.baseURL }

    // MARK: chat

    public func chat(_ request: ChatRequest) async throws -> ChatResponse {
        let path = "/v1/chat/completions"
        let data = try await transport.send(.POST, path, json: try encode(request, stream: false), timeout: request.timeout)
        let text = String(decoding: data, as: UTF8.self)
        guard let wire = try? JSONDecoder().decode(OpenAIWire.Completion.self, from: data) else {
            throw LLMError.invalidResponse(url: transport.url(path), reason: "not a JSON chat completion", body: text)
        }
        if let error = wire.error {
            throw OpenAIWire.mapError(error, transport: transport, path: path)
        }
        guard let choice = wire.choices?.first else {
            throw LLMError.invalidResponse(url: transport.url(path), reason: "missing field 'choices'", body: text)
        }
        guard let message = choice.message else {
            throw LLMError.invalidResponse(url: transport.url(path), reason: "missing field 'choices[0].message'", body: text)
        }
        var calls: [ToolCall] = []
        for call in message.toolCalls ?? [] {
            calls.append(try OpenAIWire.toolCall(id: call.id, name: call.function?.name, arguments: call.function?.arguments, url: transport.url(path)))
        }
        var reason = FinishReason(wire: choice.finishReason)
        if !calls.isEmpty && reason == .stop { reason = .toolCalls }
        let response = ChatResponse(
            model: wire.model ?? request.model ?? model,
            message: ChatMessage(role: .assistant, content: message.content ?? "", toolCalls: calls),
            finishReason: reason, usage: wire.usage?.usage, timings: wire.timings?.timings)
        if reason == .length {
            throw LLMError.truncated(partial: response.text, maxTokens: request.options.maxTokens, contextLength: nil)
        }
        return response
    }

    public func streamChat(_ request: ChatRequest) -> ChatStream {
        let transport = self.transport
        let body = Result { try encode(request, stream: true) }
        let path = "/v1/chat/completions"
        return ChatStream(
            open: { try await transport.open(.POST, path, json: try body.get(), timeout: request.timeout) },
            parser: OpenAIStreamParser(url: transport.url(path), model: request.model ?? model, maxTokens: request.options.maxTokens, transport: transport),
            transport: transport, path: path)
    }

    func encode(_ request: ChatRequest, stream: Bool) throws -> Data {
        var body: [String: JSONValue] = [
            "model": .string(request.model ?? model),
            "messages": .array(request.messages.map(OpenAIWire.encode)),
            "stream": .bool(stream),
        ]
        if stream { body["stream_options"] = ["include_usage": true] }
        switch request.format {
        case .text: break
        case .json: body["response_format"] = ["type": "json_object"]
        case .jsonSchema(let name, let schema):
            // Nested: llama-server silently ignores a flat `response_format.schema`.
            body["response_format"] = ["type": "json_schema", "json_schema": ["name": .string(name), "schema": schema, "strict": true]]
        }
        if !request.tools.isEmpty {
            body["tools"] = .array(request.tools.map { tool in
                ["type": "function", "function": ["name": .string(tool.name), "description": .string(tool.description), "parameters": tool.parameters]]
            })
        }
        if let value = request.options.temperature { body["temperature"] = .number(value) }
        if let value = request.options.maxTokens { body["max_tokens"] = .number(Double(value)) }
        if let value = request.options.seed { body["seed"] = .number(Double(value)) }
        if let value = request.options.topP { body["top_p"] = .number(value) }
        if !request.options.stop.isEmpty { body["stop"] = .array(request.options.stop.map(JSONValue.string)) }
        return try JSONEncoder().encode(JSONValue.object(body))
    }

    // MARK: embeddings

    public func embed(_ texts: [String]) async throws -> EmbeddingResult {
        let path = "/v1/embeddings"
        let body = try JSONEncoder().encode(JSONValue.object([
            "model": .string(embeddingModel), "input": .array(texts.map(JSONValue.string)), "encoding_format": "float",
        ]))
        let data = try await embeddingTransport.send(.POST, path, json: body)
        let text = String(decoding: data, as: UTF8.self)
        guard let wire = try? JSONDecoder().decode(OpenAIWire.Embeddings.self, from: data) else {
            throw LLMError.invalidResponse(url: embeddingTransport.url(path), reason: "not a JSON embeddings reply", body: text)
        }
        if let error = wire.error { throw OpenAIWire.mapError(error, transport: embeddingTransport, path: path) }
        guard let items = wire.data else {
            throw LLMError.invalidResponse(url: embeddingTransport.url(path), reason: "missing field 'data'", body: text)
        }
        let ordered = items.enumerated().sorted { ($0.element.index ?? $0.offset) < ($1.element.index ?? $1.offset) }.map(\.element.embedding)
        return try makeEmbeddingResult(
            model: wire.model ?? embeddingModel, vectors: ordered, count: texts.count, url: embeddingTransport.url(path),
            promptTokens: wire.usage?.promptTokens)
    }

    public func dimension() async throws -> Int {
        if let meta = try? await servedModels(embeddingTransport).first?.meta, let dimension = meta["n_embd"]?.intValue {
            return dimension
        }
        return try await embed(["dimension probe"]).dimension
    }

    // MARK: models and health

    /// What the server serves (`/v1/models`).
    public func listModels() async throws -> [ModelSummary] {
        var seen = Set<String>()
        var out: [ModelSummary] = []
        for transport in [transport, embeddingTransport] where seen.insert(transport.baseURL).inserted {
            for model in try await servedModels(transport) {
                out.append(ModelSummary(
                    name: model.id, sizeBytes: model.meta?["size"]?.doubleValue.map { Int64($0) },
                    quantization: model.meta?["ftype"]?.stringValue, source: transport.baseURL, loaded: true,
                    contextLength: model.meta?["n_ctx"]?.intValue))
            }
        }
        return out
    }

    func servedModels(_ transport: HTTPTransport) async throws -> [OpenAIWire.Model] {
        let data = try await transport.send(.GET, "/v1/models", timeout: .seconds(30))
        guard let wire = try? JSONDecoder().decode(OpenAIWire.Models.self, from: data) else {
            throw LLMError.invalidResponse(url: transport.url("/v1/models"), reason: "missing field 'data'", body: String(decoding: data, as: UTF8.self))
        }
        return wire.data
    }

    /// llama-server's `/props`, nil when the server has none (LM Studio, vLLM).
    public func props(embedding: Bool = false) async -> JSONValue? {
        let transport = embedding ? embeddingTransport : self.transport
        guard let data = try? await transport.send(.GET, "/props", timeout: .seconds(10)) else { return nil }
        return try? JSONValue(parsing: String(decoding: data, as: UTF8.self))
    }

    public func modelInfo(_ name: String? = nil) async throws -> ModelInfo {
        let name = name ?? model
        let isEmbedding = name == embeddingModel && name != model
        let transport = isEmbedding ? embeddingTransport : self.transport
        let served = try await servedModels(transport)
        let entry = served.first { $0.id == name || ($0.aliases ?? []).contains(name) } ?? (served.count == 1 ? served.first : nil)
        guard let entry else { throw LLMError.modelNotFound(model: name, backend: .openai) }
        var capabilities: ModelCapabilities = isEmbedding ? [.embedding] : [.completion]
        var contextLength = entry.meta?["n_ctx"]?.intValue
        if let props = await props(embedding: isEmbedding) {
            let caps = props["chat_template_caps"]
            if caps?["supports_tools"] == .bool(true) || caps?["supports_tool_calls"] == .bool(true) || props["supports_tools"] == .bool(true) {
                capabilities.insert(.tools)
            }
            contextLength = contextLength ?? props["default_generation_settings"]?["n_ctx"]?.intValue
        }
        return ModelInfo(
            name: entry.id, capabilities: capabilities, contextLength: contextLength,
            quantization: entry.meta?["ftype"]?.stringValue, sizeBytes: entry.meta?["size"]?.doubleValue.map { Int64($0) })
    }

    /// llama-server `/health`: 200 ok, 503 loading. Servers without `/health` are probed with `/v1/models`.
    public func health(embedding: Bool = false) async -> RuntimeHealth {
        let transport = embedding ? embeddingTransport : self.transport
        let quick = HTTPTransport(
            baseURL: transport.baseURL, backend: .openai, client: transport.client, retry: .none, timeout: .seconds(5), logger: transport.logger)
        do {
            _ = try await quick.send(.GET, "/health")
            return RuntimeHealth(state: .ok)
        } catch let error as LLMError {
            switch error {
            case .loading: return RuntimeHealth(state: .loading, detail: error.description)
            case .busy(_, 503): return RuntimeHealth(state: .loading, detail: error.description)
            case .unreachable: return RuntimeHealth(state: .unreachable, detail: error.description)
            case .http(_, 404, _):
                do {
                    _ = try await quick.send(.GET, "/v1/models")
                    return RuntimeHealth(state: .ok)
                } catch { return RuntimeHealth(state: .error, detail: "\(error)") }
            default: return RuntimeHealth(state: .error, detail: error.description)
            }
        } catch {
            return RuntimeHealth(state: .error, detail: "\(error)")
        }
    }
}

enum OpenAIWire {
    struct WireError: Decodable {
        var message: String?
        var code: JSONValue?
        var type: String?
        init(from decoder: any Decoder) throws {
            // `{"error": "text"}` or `{"error": {"message": ..., "code": ..., "type": ...}}`
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                message = text
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            message = try container.decodeIfPresent(String.self, forKey: .message)
            code = try container.decodeIfPresent(JSONValue.self, forKey: .code)
            type = try container.decodeIfPresent(String.self, forKey: .type)
        }
        enum CodingKeys: String, CodingKey { case message, code, type }
    }

    struct FunctionCall: Decodable {
        var name: String?
        var arguments: JSONValue?
    }

    struct WireToolCall: Decodable {
        var index: Int?
        var id: String?
        var function: FunctionCall?
    }

    typealias Message = WireMessage<WireToolCall>

    struct Choice: Decodable {
        var message: Message?
        var delta: Message?
        var finishReason: String?
        enum CodingKeys: String, CodingKey {
            case message, delta
            case finishReason = "finish_reason"
        }
    }

    struct WireUsage: Decodable {
        var promptTokens: Int?
        var completionTokens: Int?
        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
        }
        var usage: Usage { Usage(promptTokens: promptTokens ?? 0, completionTokens: completionTokens ?? 0) }
    }

    /// llama-server's extra `timings` (milliseconds).
    struct WireTimings: Decodable {
        var promptMs: Double?
        var predictedMs: Double?
        enum CodingKeys: String, CodingKey {
            case promptMs = "prompt_ms"
            case predictedMs = "predicted_ms"
        }
        var timings: Timings { Timings(promptMilliseconds: promptMs, generationMilliseconds: predictedMs) }
    }

    struct Completion: Decodable {
        var model: String?
        var choices: [Choice]?
        var usage: WireUsage?
        var timings: WireTimings?
        var error: WireError?
    }

    struct EmbeddingItem: Decodable {
        var index: Int?
        var embedding: [Double]
    }

    struct Embeddings: Decodable {
        var model: String?
        var data: [EmbeddingItem]?
        var usage: WireUsage?
        var error: WireError?
    }

    struct Model: Decodable {
        var id: String
        var aliases: [String]?
        var meta: JSONValue?
    }

    struct Models: Decodable {
        var data: [Model]
    }

    static func encode(_ message: ChatMessage) -> JSONValue {
        var object: [String: JSONValue] = ["role": .string(message.role.rawValue), "content": .string(message.content)]
        if !message.toolCalls.isEmpty {
            object["tool_calls"] = .array(message.toolCalls.enumerated().map { index, call in
                [
                    "id": .string(call.id ?? "call_\(index)"), "type": "function",
                    "function": ["name": .string(call.name), "arguments": .string(call.arguments.jsonString)],
                ]
            })
        }
        if let id = message.toolCallID { object["tool_call_id"] = .string(id) }
        return .object(object)
    }

    /// Arguments are a JSON string in OpenAI style (an object from some servers: accept both).
    static func toolCall(id: String?, name: String?, arguments: JSONValue?, url: String) throws -> ToolCall {
        guard let name, !name.isEmpty else {
            throw LLMError.invalidResponse(url: url, reason: "a tool call has no function name", body: arguments?.jsonString ?? "")
        }
        switch arguments {
        case nil, .null:
            return ToolCall(id: id, name: name, arguments: .object([:]))
        case .string(let text):
            if text.trimmingCharacters(in: .whitespaces).isEmpty { return ToolCall(id: id, name: name, arguments: .object([:])) }
            guard let parsed = try? JSONValue(parsing: text) else {
                throw LLMError.schemaViolation(reason: "tool '\(name)' arguments are not valid JSON", raw: text)
            }
            return ToolCall(id: id, name: name, arguments: parsed)
        case .some(let value):
            return ToolCall(id: id, name: name, arguments: value)
        }
    }

    static func mapError(_ error: WireError, transport: HTTPTransport, path: String) -> LLMError {
        let message = error.message ?? error.type ?? "unknown error"
        let lower = message.lowercased()
        if lower.contains("model") && (lower.contains("not found") || lower.contains("does not exist")) {
            return .modelNotFound(model: HTTPTransport.quotedModel(in: message) ?? "?", backend: .openai)
        }
        return .streamError(url: transport.url(path), message: message)
    }
}

/// Parses OpenAI-style SSE: `data: {json}` lines, `data: [DONE]`, tool-call argument fragments
/// keyed by `index`, usage in a last chunk with no choices, errors as `data: {"error":…}` or
/// `error: …` lines inside a 200 reply.
struct OpenAIStreamParser: ChatStreamParser {
    struct PartialCall {
        var id: String?
        var name = ""
        var arguments = ""
    }

    let url: String
    let model: String
    let maxTokens: Int?
    let transport: HTTPTransport
    var content = ""
    var calls: [Int: PartialCall] = [:]
    var finishReason: String?
    var usage: Usage?
    var timings: Timings?
    var servedModel: String?
    var isDone = false
    var sawEvent = false
    var eventName: String?

    mutating func consume(_ line: String) throws -> [ChatStreamEvent] {
        if line.isEmpty {
            eventName = nil
            return []
        }
        if line.hasPrefix(":") { return [] }  // SSE comment / keep-alive
        if line.hasPrefix("event:") {
            eventName = line.dropFirst(6).trimmingCharacters(in: .whitespaces)
            return []
        }
        if line.hasPrefix("error:") {
            let text = line.dropFirst(6).trimmingCharacters(in: .whitespaces)
            throw LLMError.streamError(url: url, message: HTTPTransport.errorMessage(in: text) ?? text)
        }
        guard line.hasPrefix("data:") else {
            // Some servers answer a failed stream with a bare JSON error body.
            if let message = HTTPTransport.errorMessage(in: line) { throw LLMError.streamError(url: url, message: message) }
            throw LLMError.invalidResponse(url: url, reason: "not an SSE line", body: line)
        }
        let payload = line.dropFirst(5).trimmingCharacters(in: .whitespaces)
        if payload == "[DONE]" {
            isDone = true
            return try complete()
        }
        guard let chunk = try? JSONDecoder().decode(OpenAIWire.Completion.self, from: Data(payload.utf8)) else {
            throw LLMError.invalidResponse(url: url, reason: "an SSE event is not a JSON chunk", body: payload)
        }
        if let error = chunk.error { throw OpenAIWire.mapError(error, transport: transport, path: "/v1/chat/completions") }
        if eventName == "error" { throw LLMError.streamError(url: url, message: payload) }
        guard chunk.choices != nil || chunk.usage != nil else {
            throw LLMError.invalidResponse(url: url, reason: "missing field 'choices'", body: payload)
        }
        sawEvent = true
        servedModel = chunk.model ?? servedModel
        if let value = chunk.usage { usage = value.usage }
        if let value = chunk.timings { timings = value.timings }
        var events: [ChatStreamEvent] = []
        for choice in chunk.choices ?? [] {
            if let piece = choice.delta?.content, !piece.isEmpty {
                content += piece
                events.append(.delta(piece))
            }
            for fragment in choice.delta?.toolCalls ?? [] {
                let index = fragment.index ?? max(0, calls.count - 1)
                var call = calls[index] ?? PartialCall()
                if let id = fragment.id { call.id = id }
                if let name = fragment.function?.name { call.name += name }
                switch fragment.function?.arguments {
                case .string(let text): call.arguments += text
                case .some(let value) where value != .null: call.arguments += value.jsonString
                default: break
                }
                calls[index] = call
            }
            if let reason = choice.finishReason { finishReason = reason }
        }
        return events
    }

    private func complete() throws -> [ChatStreamEvent] {
        var toolCalls: [ToolCall] = []
        for index in calls.keys.sorted() {
            guard let call = calls[index] else { continue }
            toolCalls.append(try OpenAIWire.toolCall(id: call.id, name: call.name, arguments: .string(call.arguments), url: url))
        }
        var reason = FinishReason(wire: finishReason)
        if !toolCalls.isEmpty && reason == .stop { reason = .toolCalls }
        if reason == .length { throw LLMError.truncated(partial: content, maxTokens: maxTokens, contextLength: nil) }
        let response = ChatResponse(
            model: servedModel ?? model, message: ChatMessage(role: .assistant, content: content, toolCalls: toolCalls),
            finishReason: reason, usage: usage, timings: timings)
        var events: [ChatStreamEvent] = []
        if !toolCalls.isEmpty { events.append(.toolCalls(toolCalls)) }
        events.append(.done(response))
        return events
    }

    mutating func finish(received: String) throws -> [ChatStreamEvent] {
        if isDone { return [] }
        // No [DONE]: accept only if the server had already said why it stopped.
        guard finishReason != nil else { throw LLMError.truncatedStream(url: url, received: received) }
        isDone = true
        return try complete()
    }
}
