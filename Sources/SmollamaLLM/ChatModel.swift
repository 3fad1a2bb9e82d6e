import AsyncHTTPClient
import Foundation

/// A chat-capable model behind some runtime. Every error thrown is an `LLMError` (or
/// `CancellationError` when the calling task is cancelled).
public protocol ChatModel: Sendable {
    /// The model name requests use unless they name another.
    var model: String { get }
    /// The whole reply. `finishReason == .length` is thrown as `LLMError.truncated`.
    func chat(_ request: ChatRequest) async throws -> ChatResponse
    /// The reply as it is generated: `.delta` pieces, `.toolCalls`, then one `.done`.
    func streamChat(_ request: ChatRequest) -> ChatStream
    /// Capabilities and context length of `model` (or the default model).
    func modelInfo(_ model: String?) async throws -> ModelInfo
}

/// A sentence-embedding model.
public protocol Embedder: Sendable {
    var model: String { get }
    /// One unit-length vector per input, in order.
    func embed(_ texts: [String]) async throws -> EmbeddingResult
    /// The vector length (asks the runtime once if needed).
    func dimension() async throws -> Int
}

extension ChatModel {
    /// Capabilities and context length of the client's own model.
    public func modelInfo() async throws -> ModelInfo {
        try await modelInfo(nil)
    }

    /// Throws `unsupported` unless the model can call tools (small models mostly cannot: offer
    /// tools only in interactive use, and only when this passes).
    public func requireTools() async throws {
        let info = try await modelInfo(nil)
        guard info.capabilities.contains(.tools) else {
            throw LLMError.unsupported(
                "model '\(info.name)' has no tool support (its chat template cannot express tool calls): "
                    + "answer without tools, or set llm.chat_model to a tool-capable model such as qwen2.5:0.5b")
        }
    }

    /// Asks for JSON matching `schema` and decodes it into `T`. A reply that is not valid JSON
    /// for `T` throws `LLMError.schemaViolation` with the raw text.
    public func generate<T: Decodable>(
        _ type: T.Type, schema: JSONValue, name: String = "reply", messages: [ChatMessage],
        options: GenerationOptions = .deterministic()
    ) async throws -> T {
        let response = try await chat(ChatRequest(messages: messages, format: .jsonSchema(name: name, schema: schema), options: options))
        return try decodeStructured(type, from: response.text)
    }

    /// Convenience: one user message, text reply.
    public func complete(_ prompt: String, system: String? = nil, options: GenerationOptions = .init()) async throws -> String {
        var messages: [ChatMessage] = []
        if let system { messages.append(.system(system)) }
        messages.append(.user(prompt))
        return try await chat(ChatRequest(messages: messages, options: options)).text
    }
}

/// Decodes a model's JSON text into `T`, reporting the raw text when it does not fit.
public func decodeStructured<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    do {
        return try JSONDecoder().decode(T.self, from: Data(trimmed.utf8))
    } catch let error as DecodingError {
        throw LLMError.schemaViolation(reason: describe(error), raw: text)
    } catch {
        throw LLMError.schemaViolation(reason: "\(error)", raw: text)
    }
}

func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        return keys.isEmpty ? "top level" : keys.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context):
        return "missing field '\(key.stringValue)' at \(path(context))"
    case .typeMismatch(let type, let context):
        return "expected \(type) at \(path(context))"
    case .valueNotFound(let type, let context):
        return "null where \(type) was expected at \(path(context))"
    case .dataCorrupted(let context):
        return "not valid JSON (\(context.debugDescription)) at \(path(context))"
    @unknown default:
        return "\(error)"
    }
}

/// Turns runtime-specific stream lines into `ChatStreamEvent`s.
protocol ChatStreamParser: Sendable {
    /// Events for one line (NDJSON object or SSE `data:` line). Throws on errors inside the stream.
    mutating func consume(_ line: String) throws -> [ChatStreamEvent]
    /// True once the runtime said the reply is complete.
    var isDone: Bool { get }
    /// Called at the end of the body: events still pending, or a truncation error when not done.
    mutating func finish(received: String) throws -> [ChatStreamEvent]
}

/// A streamed reply. Nothing is sent until iteration starts; cancelling the iterating task
/// cancels the request.
public struct ChatStream: AsyncSequence, Sendable {
    public typealias Element = ChatStreamEvent
    let open: @Sendable () async throws -> HTTPClientResponse
    let parser: any ChatStreamParser
    let transport: HTTPTransport
    let path: String

    public func makeAsyncIterator() -> Iterator {
        Iterator(stream: self, parser: parser)
    }

    /// Collects the stream into one response (throws what the stream throws).
    public func collect() async throws -> ChatResponse {
        for try await event in self {
            if case .done(let response) = event { return response }
        }
        throw LLMError.truncatedStream(url: transport.url(path), received: "")
    }

    public struct Iterator: AsyncIteratorProtocol {
        let stream: ChatStream
        var parser: any ChatStreamParser
        var reader: LineReader?
        var pending: [ChatStreamEvent] = []
        var finished = false

        init(stream: ChatStream, parser: any ChatStreamParser) {
            self.stream = stream
            self.parser = parser
        }

        public mutating func next() async throws -> ChatStreamEvent? {
            while true {
                if !pending.isEmpty { return pending.removeFirst() }
                if finished { return nil }
                if reader == nil {
                    reader = LineReader(try await stream.open().body)
                }
                let line: String?
                do {
                    line = try await reader?.nextLine()
                } catch {
                    finished = true
                    if error is CancellationError || Task.isCancelled { throw CancellationError() }
                    throw stream.transport.classify(error, path: stream.path, afterResponseStarted: true, timeout: stream.transport.timeout)
                }
                guard let line else {
                    finished = true
                    pending = try parser.finish(received: reader?.received ?? "")
                    continue
                }
                do {
                    pending = try parser.consume(line)
                } catch {
                    finished = true
                    throw error
                }
                if parser.isDone {
                    finished = true
                }
            }
        }
    }
}
