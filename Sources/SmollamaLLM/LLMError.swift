/// Every failure of the LLM layer, each saying what went wrong and what to do about it.
public enum LLMError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Nothing answers at `url` (connection refused, DNS, connect timeout), after retries.
    case unreachable(url: String, backend: LLMBackend, underlying: String)
    /// The connection dropped while a reply was being read (runtime crashed or was killed).
    case connectionLost(url: String, underlying: String)
    /// The runtime does not know the model.
    case modelNotFound(model: String, backend: LLMBackend)
    /// The runtime is up but still loading the model (HTTP 503), after waiting and retrying.
    case loading(url: String)
    /// The runtime is overloaded (HTTP 503/429 "queue full"), after retries.
    case busy(url: String, status: Int)
    /// The call took longer than its timeout.
    case timeout(url: String, after: Duration)
    /// The runtime answered with an error status.
    case http(url: String, status: Int, message: String)
    /// The runtime sent an error inside a reply that started fine (HTTP 200 stream).
    case streamError(url: String, message: String)
    /// The stream ended before the runtime said it was done.
    case truncatedStream(url: String, received: String)
    /// Generation stopped at the token cap or the context size: the reply is incomplete.
    case truncated(partial: String, maxTokens: Int?, contextLength: Int?)
    /// The reply is not what the API promises (not JSON, a field missing).
    case invalidResponse(url: String, reason: String, body: String)
    /// The model's text does not decode into the requested type / schema. `raw` is what it said.
    case schemaViolation(reason: String, raw: String)
    /// The request cannot be sent as built (e.g. tools on a model without tool support).
    case unsupported(String)
    /// A managed runtime could not be started.
    case runtimeFailed(String)
    /// A local file problem (model import, registry).
    case file(path: String, reason: String)

    public var description: String {
        switch self {
        case .unreachable(let url, let backend, let underlying):
            return "\(backend.runtimeName) at \(url) is unreachable (\(underlying)): start it with `\(backend.startHint)`, "
                + "or set llm.url to where it runs (llm.runtime: managed lets smollama start it)"
        case .connectionLost(let url, let underlying):
            return "the connection to \(url) was lost while reading the reply (\(underlying)): the runtime probably "
                + "crashed or was restarted; check its log, the call can be retried"
        case .modelNotFound(let model, let backend):
            switch backend {
            case .ollama:
                return "model '\(model)' not found: run `smollama models pull \(model)` (or `ollama pull \(model)`), "
                    + "or set llm.chat_model / llm.embedding_model to a model `smollama models list` shows"
            case .openai:
                return "model '\(model)' not found on the server: run `smollama models list` to see what it serves, "
                    + "import a GGUF with `smollama models import FILE.gguf --name \(model)`, or set llm.chat_model"
            }
        case .loading(let url):
            return "the runtime at \(url) is still loading its model: wait and retry, or raise llm.timeouts.startup"
        case .busy(let url, let status):
            return "the runtime at \(url) is busy (HTTP \(status)) after retries: lower concurrent requests or raise "
                + "llama-server --parallel / OLLAMA_NUM_PARALLEL"
        case .timeout(let url, let after):
            return "the call to \(url) took longer than \(after): a small model on a Pi needs short prompts; "
                + "raise llm.timeouts.request if this is expected"
        case .http(let url, let status, let message):
            return "\(url) answered HTTP \(status): \(message)"
        case .streamError(let url, let message):
            return "the runtime at \(url) reported an error while streaming: \(message)"
        case .truncatedStream(let url, let received):
            return "the stream from \(url) ended before the reply was complete (received \(received.count) characters): "
                + "the runtime may have crashed; retry the call"
        case .truncated(let partial, let maxTokens, let contextLength):
            var limit = "the token limit"
            if let maxTokens { limit = "max_tokens=\(maxTokens)" }
            if let contextLength { limit += " / context \(contextLength)" }
            return "the reply was cut off at \(limit) after \(partial.count) characters: raise the token cap "
                + "or llm.num_ctx, or shorten the prompt"
        case .invalidResponse(let url, let reason, let body):
            return "unexpected reply from \(url): \(reason); body: \(body.prefix(300)). Is llm.backend right for this server?"
        case .schemaViolation(let reason, let raw):
            return "the model's reply does not match the requested schema (\(reason)); raw reply: \(raw.prefix(500))"
        case .unsupported(let what):
            return what
        case .runtimeFailed(let what):
            return what
        case .file(let path, let reason):
            return "\(path): \(reason)"
        }
    }

    /// Whether the same call may succeed if retried later.
    public var isTransient: Bool {
        switch self {
        case .unreachable, .connectionLost, .loading, .busy, .timeout, .truncatedStream: true
        default: false
        }
    }
}

/// Which wire API a client speaks.
public enum LLMBackend: String, Sendable, Hashable, Codable, CaseIterable {
    /// Ollama's native API (`/api/...`).
    case ollama
    /// The OpenAI-compatible API (`/v1/...`): llama-server, LM Studio, vLLM, Ollama's compatibility layer.
    case openai

    var runtimeName: String {
        switch self {
        case .ollama: "Ollama"
        case .openai: "the OpenAI-compatible server (llama-server)"
        }
    }

    var startHint: String {
        switch self {
        case .ollama: "ollama serve"
        case .openai: "llama-server -m MODEL.gguf --port 8081, or scripts/setup-llm.sh then `smollama run`"
        }
    }
}
