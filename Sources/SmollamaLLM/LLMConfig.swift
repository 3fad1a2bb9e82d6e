import Foundation
public import SmollamaCore
public import Logging

/// The `llm:` section of the node's YAML config. Every key is optional; the defaults run what
/// `scripts/setup-llm.sh` installs: a managed llama-server with SmolLM2-135M-Instruct for chat
/// and a second one with all-MiniLM-L6-v2 for embeddings, under `~/.cache/smollama`.
/// With `backend: ollama` the url and model defaults switch to Ollama's (`qwen2.5:0.5b`, `all-minilm`).
/// Decoded with `ConfigDecoding` (keys laid over `defaults(given:)`), checked by `check()`.
public struct LLMConfig: ConfigSection, Hashable {
    public enum Runtime: String, Sendable, Hashable, Codable, CaseIterable {
        /// Someone else runs the runtime; smollama only health-checks it.
        case external
        /// smollama starts, watches and stops the runtime (`llama-server` or `ollama serve`).
        case managed
    }

    /// `ollama` (native API) or `openai` (OpenAI-compatible: llama-server, LM Studio, vLLM).
    public var backend: LLMBackend
    public var runtime: Runtime
    /// Base URL of the chat runtime (no `/v1`).
    public var url: String
    public var chatModel: String
    public var embeddingModel: String
    /// Base URL of the embedding runtime; llama-server needs a second instance for embeddings.
    /// Same as `url` for Ollama.
    public var embeddingURL: String
    /// Bearer token for OpenAI-compatible servers that want one. Secret: keep it out of logs.
    public var apiKey: String?
    /// Context size each model is served with (`options.num_ctx` / llama-server `-c`).
    public var numCtx: Int
    /// Ollama `keep_alive`: how long a model stays loaded after a call.
    public var keepAlive: String
    /// Where setup puts binaries and models; the managed paths default beneath it.
    public var cacheDirectory: String
    public var managed: Managed
    public var timeouts: Timeouts
    public var retry: Retry

    /// Paths and flags of a managed runtime.
    public struct Managed: Sendable, Hashable, Codable {
        /// The `llama-server` binary (its `.so` files sit beside it).
        public var llamaServer: String?
        /// GGUF served for chat.
        public var chatModelFile: String?
        /// GGUF served for embeddings (a BERT sentence-embedding model).
        public var embeddingModelFile: String?
        /// The `ollama` binary, for `backend: ollama` + `runtime: managed`.
        public var ollama: String
        /// CPU threads per llama-server (0: let it decide).
        public var threads: Int
        /// Concurrent request slots per llama-server.
        public var parallel: Int
        /// Extra arguments appended to every runtime command line.
        public var extraArgs: [String]

        public init(
            llamaServer: String? = nil, chatModelFile: String? = nil, embeddingModelFile: String? = nil, ollama: String = "ollama",
            threads: Int = 0, parallel: Int = 1, extraArgs: [String] = []
        ) {
            self.llamaServer = llamaServer
            self.chatModelFile = chatModelFile
            self.embeddingModelFile = embeddingModelFile
            self.ollama = ollama
            self.threads = threads
            self.parallel = parallel
            self.extraArgs = extraArgs
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case llamaServer = "llama_server"
            case chatModelFile = "chat_model_file"
            case embeddingModelFile = "embedding_model_file"
            case ollama, threads, parallel
            case extraArgs = "extra_args"
        }

    }

    public struct Timeouts: Sendable, Hashable, Codable {
        /// One chat or embedding call, start to end.
        public var request: ConfigDuration
        /// How long a starting runtime may stay unhealthy (loading) before it counts as failed.
        public var startup: ConfigDuration
        /// How often the supervisor health-checks a running runtime.
        public var healthInterval: ConfigDuration

        public init(request: ConfigDuration = .seconds(120), startup: ConfigDuration = .seconds(120), healthInterval: ConfigDuration = .seconds(15)) {
            self.request = request
            self.startup = startup
            self.healthInterval = healthInterval
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case request, startup
            case healthInterval = "health_interval"
        }

    }

    public struct Retry: Sendable, Hashable, Codable {
        /// Attempts per call for connection failures and HTTP 503/429 (1 = no retry).
        public var attempts: Int
        /// First retry delay; doubles per retry, with jitter.
        public var baseDelay: ConfigDuration
        /// Longest delay between retries, and the restart backoff cap of a managed runtime.
        public var maxDelay: ConfigDuration

        public init(attempts: Int = 4, baseDelay: ConfigDuration = .init(milliseconds: 250), maxDelay: ConfigDuration = .seconds(30)) {
            self.attempts = attempts
            self.baseDelay = baseDelay
            self.maxDelay = maxDelay
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case attempts
            case baseDelay = "base_delay"
            case maxDelay = "max_delay"
        }


        public var policy: RetryPolicy {
            RetryPolicy(attempts: attempts, baseDelay: baseDelay.duration, maxDelay: min(maxDelay.duration, .seconds(8)))
        }
    }

    public static let defaultCacheDirectory = "~/.cache/smollama"
    public static let defaultChatModelFile = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    public static let defaultEmbeddingModelFile = "models/all-minilm-l6-v2-f32.gguf"

    /// Defaults for a backend: managed llama-server on 8081/8082, or Ollama on 11434.
    public init(backend: LLMBackend = .openai, runtime: Runtime = .managed) {
        self.backend = backend
        self.runtime = runtime
        switch backend {
        case .openai:
            url = "http://127.0.0.1:8081"
            embeddingURL = "http://127.0.0.1:8082"
            chatModel = "smollm2-135m-instruct"
            embeddingModel = "all-minilm-l6-v2"
        case .ollama:
            url = "http://127.0.0.1:11434"
            embeddingURL = url
            chatModel = "qwen2.5:0.5b"
            embeddingModel = "all-minilm"
        }
        apiKey = nil
        numCtx = 2048
        keepAlive = "30m"
        cacheDirectory = Self.defaultCacheDirectory
        managed = Managed()
        timeouts = Timeouts()
        retry = Retry()
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case backend, runtime, url
        case chatModel = "chat_model"
        case embeddingModel = "embedding_model"
        case embeddingURL = "embedding_url"
        case apiKey = "api_key"
        case numCtx = "num_ctx"
        case keepAlive = "keep_alive"
        case cacheDirectory = "cache_directory"
        case managed, timeouts, retry
    }

    /// The defaults of the backend and runtime given. Ollama, and an external OpenAI-compatible
    /// server (LM Studio, vLLM) given by URL, serve embeddings at the chat URL; a managed
    /// llama-server needs its own embedding instance.
    public static func defaults(given: ConfigGiven) -> LLMConfig {
        let backend = given.text("backend").flatMap(LLMBackend.init(rawValue:)) ?? .openai
        let runtime = given.text("runtime").flatMap(Runtime.init(rawValue:)) ?? .managed
        var defaults = LLMConfig(backend: backend, runtime: runtime)
        if let url = given.text("url") {
            defaults.url = url
            if backend == .ollama || runtime == .external { defaults.embeddingURL = url }
        }
        return defaults
    }

    public func check() throws(ConfigProblem) {
        try ConfigProblem.require(numCtx >= 128, "num_ctx", "num_ctx \(numCtx) is too small; use 512 or more")
        try ConfigProblem.require(
            URL(string: url)?.host != nil, "url", "'\(url)' is not a URL; write e.g. http://127.0.0.1:8081")
    }

    // MARK: resolved paths

    /// `cacheDirectory` with `~` expanded.
    public var resolvedCacheDirectory: String { Self.expandTilde(cacheDirectory) }
    public var llamaServerPath: String {
        Self.expandTilde(managed.llamaServer ?? resolvedCacheDirectory + "/llama.cpp/llama-server")
    }
    /// `managed.chat_model_file`, else a GGUF imported under `chat_model`, else what setup installs.
    public var chatModelPath: String {
        if let file = managed.chatModelFile { return Self.expandTilde(file) }
        if let entry = (try? ModelRegistry.load(from: registryPath))?.entry(named: chatModel) { return entry.path }
        return resolvedCacheDirectory + "/" + Self.defaultChatModelFile
    }
    public var embeddingModelPath: String {
        if let file = managed.embeddingModelFile { return Self.expandTilde(file) }
        if let entry = (try? ModelRegistry.load(from: registryPath))?.entry(named: embeddingModel) { return entry.path }
        return resolvedCacheDirectory + "/" + Self.defaultEmbeddingModelFile
    }
    /// The registry of imported GGUFs for llama-server (`smollama models import`).
    public var registryPath: String { resolvedCacheDirectory + "/models/registry.json" }

    static func expandTilde(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        return home + path.dropFirst()
    }

    // MARK: clients

    /// The chat client this config describes.
    public func makeChatModel(logger: Logger) -> any ChatModel {
        switch backend {
        case .ollama:
            OllamaClient(
                url: url, model: chatModel, embeddingModel: embeddingModel, keepAlive: keepAlive, numCtx: numCtx,
                timeout: timeouts.request.duration, retry: retry.policy, logger: logger)
        case .openai:
            OpenAIClient(
                url: url, model: chatModel, embeddingURL: embeddingURL, embeddingModel: embeddingModel, apiKey: apiKey,
                timeout: timeouts.request.duration, retry: retry.policy, logger: logger)
        }
    }

    /// The embedding client this config describes.
    public func makeEmbedder(logger: Logger) -> any Embedder {
        switch backend {
        case .ollama:
            OllamaClient(
                url: embeddingURL, model: chatModel, embeddingModel: embeddingModel, keepAlive: keepAlive, numCtx: numCtx,
                timeout: timeouts.request.duration, retry: retry.policy, logger: logger)
        case .openai:
            OpenAIClient(
                url: url, model: chatModel, embeddingURL: embeddingURL, embeddingModel: embeddingModel, apiKey: apiKey,
                timeout: timeouts.request.duration, retry: retry.policy, logger: logger)
        }
    }
}

