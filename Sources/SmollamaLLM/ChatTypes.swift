import Foundation

/// Who said a message.
public enum ChatRole: String, Sendable, Hashable, Codable {
    case system, user, assistant, tool
}

/// One message of a conversation.
public struct ChatMessage: Sendable, Hashable, Codable {
    public var role: ChatRole
    public var content: String
    /// Tool calls the assistant asked for (assistant messages only).
    public var toolCalls: [ToolCall]
    /// For `role == .tool`: the id of the call this message answers (OpenAI style; Ollama ignores it).
    public var toolCallID: String?
    /// For `role == .tool`: the tool's name (Ollama's `tool_name`).
    public var toolName: String?

    public init(role: ChatRole, content: String, toolCalls: [ToolCall] = [], toolCallID: String? = nil, toolName: String? = nil) {
        self.role = role
        self.content = content
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.toolName = toolName
    }

    public static func system(_ text: String) -> ChatMessage { .init(role: .system, content: text) }
    public static func user(_ text: String) -> ChatMessage { .init(role: .user, content: text) }
    public static func assistant(_ text: String) -> ChatMessage { .init(role: .assistant, content: text) }
    public static func tool(_ text: String, name: String, callID: String? = nil) -> ChatMessage {
        .init(role: .tool, content: text, toolCallID: callID, toolName: name)
    }
}

/// A tool the model may call: a name, what it does, and a JSON schema of its arguments.
public struct ToolDefinition: Sendable, Hashable, Codable {
    public var name: String
    public var description: String
    public var parameters: JSONValue

    public init(name: String, description: String, parameters: JSONValue) {
        self.name = name
        self.description = description
        self.parameters = parameters
    }
}

/// A call the model asked for. Arguments are always a decoded JSON object here, whatever the
/// wire format was (an object in Ollama, a possibly fragmented JSON string in OpenAI style).
public struct ToolCall: Sendable, Hashable, Codable {
    public var id: String?
    public var name: String
    public var arguments: JSONValue

    public init(id: String? = nil, name: String, arguments: JSONValue) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}

/// How the reply must be shaped.
public enum ResponseFormat: Sendable, Hashable {
    /// Free text.
    case text
    /// Any JSON object.
    case json
    /// JSON that validates against `schema` (grammar-constrained by the runtime).
    case jsonSchema(name: String, schema: JSONValue)
}

/// Sampling and length options. `nil` means the runtime's default.
public struct GenerationOptions: Sendable, Hashable {
    public var temperature: Double?
    public var maxTokens: Int?
    public var stop: [String]
    public var seed: Int?
    public var topP: Double?

    public init(temperature: Double? = nil, maxTokens: Int? = nil, stop: [String] = [], seed: Int? = nil, topP: Double? = nil) {
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.stop = stop
        self.seed = seed
        self.topP = topP
    }

    /// What background loops use: deterministic, capped.
    public static func deterministic(maxTokens: Int = 256) -> GenerationOptions {
        .init(temperature: 0, maxTokens: maxTokens, seed: 42)
    }
}

/// A chat request, independent of the backend.
public struct ChatRequest: Sendable, Hashable {
    public var messages: [ChatMessage]
    public var format: ResponseFormat
    public var tools: [ToolDefinition]
    public var options: GenerationOptions
    /// Overrides the client's model for this request.
    public var model: String?
    /// Overrides the client's per-call timeout for this request.
    public var timeout: Duration?

    public init(
        messages: [ChatMessage], format: ResponseFormat = .text, tools: [ToolDefinition] = [],
        options: GenerationOptions = .init(), model: String? = nil, timeout: Duration? = nil
    ) {
        self.messages = messages
        self.format = format
        self.tools = tools
        self.options = options
        self.model = model
        self.timeout = timeout
    }
}

/// Why generation stopped, normalised across backends.
public enum FinishReason: String, Sendable, Hashable, Codable {
    /// Natural end or a stop sequence.
    case stop
    /// The token cap (`max_tokens` / `num_predict`) or the context ran out.
    case length
    /// The model asked for tools.
    case toolCalls = "tool_calls"
    /// Anything else the runtime reported (kept for logs).
    case other

    init(wire: String?) {
        switch wire {
        case nil, "stop", "eos", "unload": self = .stop
        case "length", "limit": self = .length
        case "tool_calls", "function_call": self = .toolCalls
        default: self = .other
        }
    }
}

/// Token counts.
public struct Usage: Sendable, Hashable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int { promptTokens + completionTokens }

    public init(promptTokens: Int, completionTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }
}

/// Timings, all in milliseconds whatever the runtime reports (Ollama: ns, llama-server: ms).
public struct Timings: Sendable, Hashable, Codable {
    /// Prompt processing (prefill).
    public var promptMilliseconds: Double?
    /// Token generation (decode).
    public var generationMilliseconds: Double?
    /// Model load time, when the runtime says (Ollama).
    public var loadMilliseconds: Double?
    /// The runtime's own total, when it says (Ollama).
    public var totalMilliseconds: Double?

    public init(promptMilliseconds: Double? = nil, generationMilliseconds: Double? = nil, loadMilliseconds: Double? = nil, totalMilliseconds: Double? = nil) {
        self.promptMilliseconds = promptMilliseconds
        self.generationMilliseconds = generationMilliseconds
        self.loadMilliseconds = loadMilliseconds
        self.totalMilliseconds = totalMilliseconds
    }

    /// Decode speed from the runtime's own figures.
    public func tokensPerSecond(completionTokens: Int) -> Double? {
        guard let ms = generationMilliseconds, ms > 0 else { return nil }
        return Double(completionTokens) / (ms / 1000)
    }
}

/// A complete reply.
public struct ChatResponse: Sendable, Hashable {
    public var model: String
    public var message: ChatMessage
    public var finishReason: FinishReason
    public var usage: Usage?
    public var timings: Timings?

    public init(model: String, message: ChatMessage, finishReason: FinishReason, usage: Usage? = nil, timings: Timings? = nil) {
        self.model = model
        self.message = message
        self.finishReason = finishReason
        self.usage = usage
        self.timings = timings
    }

    public var text: String { message.content }
}

/// One event of a streamed reply.
public enum ChatStreamEvent: Sendable, Hashable {
    /// A piece of the reply's text, as soon as the runtime sends it.
    case delta(String)
    /// Complete tool calls (OpenAI fragments are assembled before this is yielded).
    case toolCalls([ToolCall])
    /// The end: the whole reply with usage and timings. Always the last event.
    case done(ChatResponse)
}

/// What a model can do.
public struct ModelCapabilities: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public static let completion = ModelCapabilities(rawValue: 1)
    public static let tools = ModelCapabilities(rawValue: 2)
    public static let embedding = ModelCapabilities(rawValue: 4)
    public static let vision = ModelCapabilities(rawValue: 8)

    public var names: [String] {
        var names: [String] = []
        if contains(.completion) { names.append("completion") }
        if contains(.tools) { names.append("tools") }
        if contains(.embedding) { names.append("embedding") }
        if contains(.vision) { names.append("vision") }
        return names
    }
}

/// What a runtime says about a model.
public struct ModelInfo: Sendable, Hashable {
    public var name: String
    public var capabilities: ModelCapabilities
    /// Context the runtime serves the model with (llama-server `n_ctx`, Ollama `num_ctx` / ps), else the model's trained context.
    public var contextLength: Int?
    public var family: String?
    public var parameterSize: String?
    public var quantization: String?
    public var sizeBytes: Int64?

    public init(
        name: String, capabilities: ModelCapabilities, contextLength: Int? = nil, family: String? = nil,
        parameterSize: String? = nil, quantization: String? = nil, sizeBytes: Int64? = nil
    ) {
        self.name = name
        self.capabilities = capabilities
        self.contextLength = contextLength
        self.family = family
        self.parameterSize = parameterSize
        self.quantization = quantization
        self.sizeBytes = sizeBytes
    }
}

/// A batch of embeddings.
public struct EmbeddingResult: Sendable, Hashable {
    public var model: String
    /// One unit-length vector per input, in input order.
    public var vectors: [[Float]]
    public var dimension: Int
    public var promptTokens: Int?

    public init(model: String, vectors: [[Float]], dimension: Int, promptTokens: Int? = nil) {
        self.model = model
        self.vectors = vectors
        self.dimension = dimension
        self.promptTokens = promptTokens
    }
}

/// Health of a runtime.
public struct RuntimeHealth: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        case ok, loading, unreachable, error
    }
    public var state: State
    public var detail: String?
    public init(state: State, detail: String? = nil) {
        self.state = state
        self.detail = detail
    }
}

/// A reply message as both wire formats send it (Ollama's `message`, OpenAI's `message` and
/// stream `delta`): decoding is lenient, with optional fields checked where required. Only the
/// tool-call shape differs.
struct WireMessage<ToolCall: Decodable>: Decodable {
    var role: String?
    var content: String?
    var toolCalls: [ToolCall]?
    enum CodingKeys: String, CodingKey {
        case role, content
        case toolCalls = "tool_calls"
    }
}
