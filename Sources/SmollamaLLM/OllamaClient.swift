// Over 400 lines: one wire API (Ollama's native chat, stream, embed, pull, show) and its error
// mapping, kept together so every difference from the OpenAI API is in one place.
public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1

/// Ollama's native API: `/api/chat`, `/api/embed`, `/api/tags`, `/api/ps`, `/api/show`,
/// `/api/pull`, `/api/version`, `/api/create`. Streams are NDJSON; tool-call arguments are
/// objects; `format` takes the JSON schema itself; durations are nanoseconds.
public struct OllamaClient: ChatModel, Embedder {
    public let model: String
    public let embeddingModel: String
    /// Sent as `keep_alive` on every generate/embed call (e.g. "5m", "-1" for forever).
    public let keepAlive: String?
    /// Sent as `options.num_ctx`, so a model keeps one context size (a changed size reloads it).
    public let numCtx: Int?
    let transport: HTTPTransport

    public init(
        url: String = "http://127.0.0.1:11434", model: String, embeddingModel: String = "all-minilm",
        keepAlive: String? = "30m", numCtx: Int? = 2048, timeout: Duration = .seconds(120),
        retry: RetryPolicy = .init(), httpClient: HTTPClient = llmHTTPClient, logger: Logger
    ) {
        self.model = model
        self.embeddingModel = embeddingModel
        self.keepAlive = keepAlive
        self.numCtx = numCtx
        self.transport = HTTPTransport(baseURL: url, backend: .ollama, client: httpClient, retry: retry, timeout: timeout, logger: logger)
    }

    public var baseURL: String { transport.baseURL }

    // MARK: chat

    public func chat(_ request: ChatRequest) async throws -> ChatResponse {
        let body = try encode(request, stream: false)
        let data = try await transport.send(.POST, "/api/chat", json: body, timeout: request.timeout)
        let text = String(decoding: data, as: UTF8.self)
        guard let wire = try? JSONDecoder().decode(OllamaWire.ChatChunk.self, from: data) else {
            throw LLMError.invalidResponse(url: transport.url("/api/chat"), reason: "not a JSON chat reply", body: text)
        }
        if let error = wire.error {
            throw OllamaWire.mapError(error, transport: transport, path: "/api/chat", model: request.model ?? model)
        }
        guard let message = wire.message else {
            throw LLMError.invalidResponse(url: transport.url("/api/chat"), reason: "missing field 'message'", body: text)
        }
        let response = try wire.response(content: message.content ?? "", toolCalls: message.toolCalls ?? [], fallbackModel: request.model ?? model)
        return try checkFinish(response, request: request)
    }

    public func streamChat(_ request: ChatRequest) -> ChatStream {
        let transport = self.transport
        let body = Result { try encode(request, stream: true) }
        return ChatStream(
            open: { try await transport.open(.POST, "/api/chat", json: try body.get(), timeout: request.timeout) },
            parser: OllamaStreamParser(url: transport.url("/api/chat"), model: request.model ?? model, maxTokens: request.options.maxTokens, numCtx: numCtx, transport: transport),
            transport: transport, path: "/api/chat")
    }

    func checkFinish(_ response: ChatResponse, request: ChatRequest) throws -> ChatResponse {
        if response.finishReason == .length {
            throw LLMError.truncated(partial: response.text, maxTokens: request.options.maxTokens, contextLength: numCtx)
        }
        return response
    }

    func encode(_ request: ChatRequest, stream: Bool) throws -> Data {
        var body: [String: JSONValue] = [
            "model": .string(request.model ?? model),
            "stream": .bool(stream),
            "messages": .array(request.messages.map(OllamaWire.encode)),
        ]
        switch request.format {
        case .text: break
        case .json: body["format"] = "json"
        case .jsonSchema(_, let schema): body["format"] = schema
        }
        if !request.tools.isEmpty {
            body["tools"] = .array(request.tools.map { tool in
                ["type": "function", "function": ["name": .string(tool.name), "description": .string(tool.description), "parameters": tool.parameters]]
            })
        }
        var options: [String: JSONValue] = [:]
        if let value = request.options.temperature { options["temperature"] = .number(value) }
        if let value = request.options.maxTokens { options["num_predict"] = .number(Double(value)) }
        if let value = request.options.seed { options["seed"] = .number(Double(value)) }
        if let value = request.options.topP { options["top_p"] = .number(value) }
        if !request.options.stop.isEmpty { options["stop"] = .array(request.options.stop.map(JSONValue.string)) }
        if let numCtx { options["num_ctx"] = .number(Double(numCtx)) }
        if !options.isEmpty { body["options"] = .object(options) }
        if let keepAlive { body["keep_alive"] = .string(keepAlive) }
        return try JSONEncoder().encode(JSONValue.object(body))
    }

    // MARK: embeddings

    public func embed(_ texts: [String]) async throws -> EmbeddingResult {
        var body: [String: JSONValue] = [
            "model": .string(embeddingModel), "input": .array(texts.map(JSONValue.string)), "truncate": true,
        ]
        if let keepAlive { body["keep_alive"] = .string(keepAlive) }
        let data = try await transport.send(.POST, "/api/embed", json: try JSONEncoder().encode(JSONValue.object(body)))
        let text = String(decoding: data, as: UTF8.self)
        guard let wire = try? JSONDecoder().decode(OllamaWire.EmbedResponse.self, from: data) else {
            throw LLMError.invalidResponse(url: transport.url("/api/embed"), reason: "not a JSON embed reply", body: text)
        }
        if let error = wire.error {
            throw OllamaWire.mapError(error, transport: transport, path: "/api/embed", model: embeddingModel)
        }
        guard let embeddings = wire.embeddings else {
            throw LLMError.invalidResponse(url: transport.url("/api/embed"), reason: "missing field 'embeddings'", body: text)
        }
        return try makeEmbeddingResult(model: wire.model ?? embeddingModel, vectors: embeddings, count: texts.count, url: transport.url("/api/embed"), promptTokens: wire.promptEvalCount)
    }

    public func dimension() async throws -> Int {
        try await embed(["dimension probe"]).dimension
    }

    // MARK: models

    public func version() async throws -> String {
        let data = try await transport.send(.GET, "/api/version", timeout: .seconds(10))
        guard let version = (try? JSONValue(parsing: String(decoding: data, as: UTF8.self)))?["version"]?.stringValue else {
            throw LLMError.invalidResponse(url: transport.url("/api/version"), reason: "missing field 'version'", body: String(decoding: data, as: UTF8.self))
        }
        return version
    }

    /// Installed models (`/api/tags`).
    public func listModels() async throws -> [ModelSummary] {
        let data = try await transport.send(.GET, "/api/tags", timeout: .seconds(30))
        guard let wire = try? JSONDecoder().decode(OllamaWire.Tags.self, from: data) else {
            throw LLMError.invalidResponse(url: transport.url("/api/tags"), reason: "missing field 'models'", body: String(decoding: data, as: UTF8.self))
        }
        return wire.models.map { $0.summary(loaded: false) }
    }

    /// Models loaded in memory now (`/api/ps`).
    public func runningModels() async throws -> [ModelSummary] {
        let data = try await transport.send(.GET, "/api/ps", timeout: .seconds(30))
        guard let wire = try? JSONDecoder().decode(OllamaWire.Tags.self, from: data) else {
            throw LLMError.invalidResponse(url: transport.url("/api/ps"), reason: "missing field 'models'", body: String(decoding: data, as: UTF8.self))
        }
        return wire.models.map { $0.summary(loaded: true) }
    }

    public func modelInfo(_ name: String? = nil) async throws -> ModelInfo {
        let name = name ?? model
        let data = try await transport.send(.POST, "/api/show", json: try JSONEncoder().encode(JSONValue.object(["model": .string(name)])), timeout: .seconds(30))
        let text = String(decoding: data, as: UTF8.self)
        guard let value = try? JSONValue(parsing: text), value.objectValue != nil else {
            throw LLMError.invalidResponse(url: transport.url("/api/show"), reason: "not a JSON object", body: text)
        }
        var capabilities: ModelCapabilities = []
        for capability in value["capabilities"]?.arrayValue ?? [] {
            switch capability.stringValue {
            case "completion": capabilities.insert(.completion)
            case "tools": capabilities.insert(.tools)
            case "embedding": capabilities.insert(.embedding)
            case "vision": capabilities.insert(.vision)
            default: break
            }
        }
        var trained: Int?
        if let info = value["model_info"]?.objectValue {
            trained = info.first(where: { $0.key.hasSuffix(".context_length") })?.value.intValue
        }
        let details = value["details"]
        return ModelInfo(
            name: name, capabilities: capabilities, contextLength: numCtx.map { min($0, trained ?? $0) } ?? trained,
            family: details?["family"]?.stringValue, parameterSize: details?["parameter_size"]?.stringValue,
            quantization: details?["quantization_level"]?.stringValue)
    }

    /// Downloads a model, reporting progress as Ollama streams it.
    public func pull(_ name: String, progress: @Sendable (PullProgress) async -> Void) async throws {
        let body = try JSONEncoder().encode(JSONValue.object(["model": .string(name), "stream": true]))
        let response = try await transport.open(.POST, "/api/pull", json: body, timeout: .seconds(24 * 3600))
        var reader = LineReader(response.body)
        var succeeded = false
        while true {
            let line: String?
            do { line = try await reader.nextLine() } catch {
                throw transport.classify(error, path: "/api/pull", afterResponseStarted: true, timeout: .seconds(24 * 3600))
            }
            guard let line else { break }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let wire = try? JSONDecoder().decode(OllamaWire.PullLine.self, from: Data(line.utf8)) else {
                throw LLMError.invalidResponse(url: transport.url("/api/pull"), reason: "a progress line is not JSON", body: line)
            }
            if let error = wire.error {
                throw OllamaWire.mapError(error, transport: transport, path: "/api/pull", model: name)
            }
            let status = wire.status ?? ""
            await progress(PullProgress(status: status, digest: wire.digest, completed: wire.completed, total: wire.total))
            if status == "success" { succeeded = true }
        }
        if !succeeded {
            throw LLMError.truncatedStream(url: transport.url("/api/pull"), received: reader.received)
        }
    }

    /// Creates model `name` from a GGUF already on the Ollama host's disk, like a Modelfile
    /// `FROM /path/file.gguf`: uploads the file as a blob, then `/api/create` with `files`.
    public func create(name: String, fromGGUF path: String, digest: String) async throws {
        let blobPath = "/api/blobs/\(digest)"
        let exists: Bool
        do {
            _ = try await transport.send(.HEAD, blobPath, timeout: .seconds(30))
            exists = true
        } catch LLMError.http(_, 404, _) {
            exists = false
        }
        if !exists {
            // Streamed from disk in 1 MB chunks: a multi-GB GGUF never sits in memory.
            guard FileManager.default.isReadableFile(atPath: path),
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
            else {
                throw LLMError.file(path: path, reason: "cannot be read")
            }
            var request = HTTPClientRequest(url: transport.url(blobPath))
            request.method = .POST
            request.body = .stream(FileChunks(path: path), length: .known(size))
            let response: HTTPClientResponse
            do {
                response = try await transport.client.execute(request, timeout: .minutes(60), logger: transport.logger)
            } catch {
                throw transport.classify(error, path: blobPath, afterResponseStarted: false, timeout: .seconds(3600))
            }
            guard (200..<300).contains(Int(response.status.code)) else {
                let text = (try? await response.body.collect(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
                throw transport.mapStatus(Int(response.status.code), body: text, path: blobPath)
            }
        }
        let fileName = URL(fileURLWithPath: path).lastPathComponent
        let body = try JSONEncoder().encode(JSONValue.object([
            "model": .string(name), "files": .object([fileName: .string(digest)]), "stream": false,
        ]))
        let data = try await transport.send(.POST, "/api/create", json: body, timeout: .seconds(600))
        let value = try? JSONValue(parsing: String(decoding: data, as: UTF8.self))
        if let error = value?["error"]?.stringValue {
            throw LLMError.http(url: transport.url("/api/create"), status: 200, message: error)
        }
    }

    public func health() async -> RuntimeHealth {
        do {
            let version = try await self.version()
            return RuntimeHealth(state: .ok, detail: "ollama \(version)")
        } catch let error as LLMError {
            if case .unreachable = error { return RuntimeHealth(state: .unreachable, detail: error.description) }
            return RuntimeHealth(state: .error, detail: error.description)
        } catch {
            return RuntimeHealth(state: .error, detail: "\(error)")
        }
    }
}

/// One progress line of a pull.
public struct PullProgress: Sendable, Hashable, Codable {
    public var status: String
    public var digest: String?
    public var completed: Int64?
    public var total: Int64?

    public init(status: String, digest: String? = nil, completed: Int64? = nil, total: Int64? = nil) {
        self.status = status
        self.digest = digest
        self.completed = completed
        self.total = total
    }

    /// 0...1 when the line carries byte counts.
    public var fraction: Double? {
        guard let completed, let total, total > 0 else { return nil }
        return min(1, Double(completed) / Double(total))
    }
}

/// A model a runtime has (or a registered GGUF).
public struct ModelSummary: Sendable, Hashable, Codable {
    public var name: String
    public var sizeBytes: Int64?
    public var modifiedAt: String?
    public var family: String?
    public var parameterSize: String?
    public var quantization: String?
    public var digest: String?
    /// Where the model lives: "ollama", "server" (what llama-server serves), or a GGUF path (registry).
    public var source: String
    public var loaded: Bool
    public var contextLength: Int?

    public init(
        name: String, sizeBytes: Int64? = nil, modifiedAt: String? = nil, family: String? = nil, parameterSize: String? = nil,
        quantization: String? = nil, digest: String? = nil, source: String, loaded: Bool = false, contextLength: Int? = nil
    ) {
        self.name = name
        self.sizeBytes = sizeBytes
        self.modifiedAt = modifiedAt
        self.family = family
        self.parameterSize = parameterSize
        self.quantization = quantization
        self.digest = digest
        self.source = source
        self.loaded = loaded
        self.contextLength = contextLength
    }
}

/// Normalises vectors and checks their shape.
func makeEmbeddingResult(model: String, vectors: [[Double]], count: Int, url: String, promptTokens: Int?) throws -> EmbeddingResult {
    guard vectors.count == count else {
        throw LLMError.invalidResponse(url: url, reason: "asked for \(count) embeddings, got \(vectors.count)", body: "")
    }
    let dimension = vectors.first?.count ?? 0
    var out: [[Float]] = []
    out.reserveCapacity(vectors.count)
    for vector in vectors {
        guard vector.count == dimension, dimension > 0 else {
            throw LLMError.invalidResponse(url: url, reason: "embeddings of different or zero length", body: "")
        }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        out.append(norm > 0 ? vector.map { Float($0 / norm) } : vector.map { Float($0) })
    }
    return EmbeddingResult(model: model, vectors: out, dimension: dimension, promptTokens: promptTokens)
}

/// Ollama wire types (decoding is lenient: optional fields, checked where required).
enum OllamaWire {
    typealias Message = WireMessage<WireToolCall>

    struct WireToolCall: Decodable {
        struct Function: Decodable {
            var name: String
            var arguments: JSONValue?
        }
        var id: String?
        var function: Function

        var toolCall: ToolCall {
            // Ollama sends an object; tolerate a JSON string too.
            var arguments = function.arguments ?? .object([:])
            if case .string(let text) = arguments, let parsed = try? JSONValue(parsing: text) { arguments = parsed }
            return ToolCall(id: id, name: function.name, arguments: arguments)
        }
    }

    struct ChatChunk: Decodable {
        var model: String?
        var message: Message?
        var done: Bool?
        var doneReason: String?
        var totalDuration: Double?
        var loadDuration: Double?
        var promptEvalCount: Int?
        var promptEvalDuration: Double?
        var evalCount: Int?
        var evalDuration: Double?
        var error: String?

        enum CodingKeys: String, CodingKey {
            case model, message, done, error
            case doneReason = "done_reason"
            case totalDuration = "total_duration"
            case loadDuration = "load_duration"
            case promptEvalCount = "prompt_eval_count"
            case promptEvalDuration = "prompt_eval_duration"
            case evalCount = "eval_count"
            case evalDuration = "eval_duration"
        }

        func response(content: String, toolCalls: [WireToolCall], fallbackModel: String) throws -> ChatResponse {
            let calls = toolCalls.map(\.toolCall)
            var reason = FinishReason(wire: doneReason)
            if !calls.isEmpty && reason == .stop { reason = .toolCalls }
            let usage = (promptEvalCount != nil || evalCount != nil) ? Usage(promptTokens: promptEvalCount ?? 0, completionTokens: evalCount ?? 0) : nil
            let ns = 1_000_000.0
            let timings = Timings(
                promptMilliseconds: promptEvalDuration.map { $0 / ns }, generationMilliseconds: evalDuration.map { $0 / ns },
                loadMilliseconds: loadDuration.map { $0 / ns }, totalMilliseconds: totalDuration.map { $0 / ns })
            return ChatResponse(
                model: model ?? fallbackModel, message: ChatMessage(role: .assistant, content: content, toolCalls: calls),
                finishReason: reason, usage: usage, timings: timings)
        }
    }

    struct EmbedResponse: Decodable {
        var model: String?
        var embeddings: [[Double]]?
        var promptEvalCount: Int?
        var error: String?
        enum CodingKeys: String, CodingKey {
            case model, embeddings, error
            case promptEvalCount = "prompt_eval_count"
        }
    }

    struct Tags: Decodable {
        struct Model: Decodable {
            struct Details: Decodable {
                var family: String?
                var parameterSize: String?
                var quantizationLevel: String?
                enum CodingKeys: String, CodingKey {
                    case family
                    case parameterSize = "parameter_size"
                    case quantizationLevel = "quantization_level"
                }
            }
            var name: String
            var size: Int64?
            var modifiedAt: String?
            var digest: String?
            var details: Details?
            var contextLength: Int?
            enum CodingKeys: String, CodingKey {
                case name, size, digest, details
                case modifiedAt = "modified_at"
                case contextLength = "context_length"
            }

            func summary(loaded: Bool) -> ModelSummary {
                ModelSummary(
                    name: name, sizeBytes: size, modifiedAt: modifiedAt, family: details?.family, parameterSize: details?.parameterSize,
                    quantization: details?.quantizationLevel, digest: digest, source: "ollama", loaded: loaded, contextLength: contextLength)
            }
        }
        var models: [Model]
    }

    struct PullLine: Decodable {
        var status: String?
        var digest: String?
        var total: Int64?
        var completed: Int64?
        var error: String?
    }

    static func encode(_ message: ChatMessage) -> JSONValue {
        var object: [String: JSONValue] = ["role": .string(message.role.rawValue), "content": .string(message.content)]
        if !message.toolCalls.isEmpty {
            object["tool_calls"] = .array(message.toolCalls.map { ["function": ["name": .string($0.name), "arguments": $0.arguments]] })
        }
        if let name = message.toolName { object["tool_name"] = .string(name) }
        return .object(object)
    }

    /// An `{"error": ...}` body: model missing or a runtime failure.
    static func mapError(_ message: String, transport: HTTPTransport, path: String, model: String) -> LLMError {
        let lower = message.lowercased()
        if lower.contains("not found") && lower.contains("model") {
            return .modelNotFound(model: HTTPTransport.quotedModel(in: message) ?? model, backend: .ollama)
        }
        return .streamError(url: transport.url(path), message: message)
    }
}

/// Parses Ollama's NDJSON chat stream.
struct OllamaStreamParser: ChatStreamParser {
    let url: String
    let model: String
    let maxTokens: Int?
    let numCtx: Int?
    let transport: HTTPTransport
    var content = ""
    var toolCalls: [OllamaWire.WireToolCall] = []
    var isDone = false

    mutating func consume(_ line: String) throws -> [ChatStreamEvent] {
        if line.trimmingCharacters(in: .whitespaces).isEmpty { return [] }
        guard let chunk = try? JSONDecoder().decode(OllamaWire.ChatChunk.self, from: Data(line.utf8)) else {
            throw LLMError.invalidResponse(url: url, reason: "a stream line is not JSON", body: line)
        }
        if let error = chunk.error {
            throw OllamaWire.mapError(error, transport: transport, path: "/api/chat", model: model)
        }
        var events: [ChatStreamEvent] = []
        if let piece = chunk.message?.content, !piece.isEmpty {
            content += piece
            events.append(.delta(piece))
        }
        if let calls = chunk.message?.toolCalls, !calls.isEmpty {
            toolCalls += calls
            events.append(.toolCalls(calls.map(\.toolCall)))
        }
        if chunk.done == true {
            isDone = true
            let response = try chunk.response(content: content, toolCalls: toolCalls, fallbackModel: model)
            if response.finishReason == .length {
                throw LLMError.truncated(partial: content, maxTokens: maxTokens, contextLength: numCtx)
            }
            events.append(.done(response))
        } else if chunk.done == nil && chunk.message == nil {
            throw LLMError.invalidResponse(url: url, reason: "a stream line has neither 'message' nor 'done'", body: line)
        }
        return events
    }

    mutating func finish(received: String) throws -> [ChatStreamEvent] {
        guard isDone else { throw LLMError.truncatedStream(url: url, received: received) }
        return []
    }
}

/// A file as a sequence of 1 MB buffers, for streaming uploads.
struct FileChunks: AsyncSequence, Sendable {
    let path: String

    func makeAsyncIterator() -> Iterator { Iterator(handle: FileHandle(forReadingAtPath: path)) }

    struct Iterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        mutating func next() async throws -> ByteBuffer? {
            guard let handle else { throw LLMError.file(path: "", reason: "cannot be read") }
            let data = handle.readData(ofLength: 1 << 20)
            if data.isEmpty {
                try? handle.close()
                return nil
            }
            return ByteBuffer(bytes: data)
        }
    }
}
