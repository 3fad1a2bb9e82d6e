import Crypto
import Foundation
import SmollamaCore
public import Logging

/// GGUFs imported for llama-server (`smollama models import`), kept as a small JSON file in
/// the cache directory: name → path. A managed llama-server serves `llm.chat_model` from here
/// when `llm.managed.chat_model_file` is not set.
public struct ModelRegistry: Sendable, Hashable, Codable {
    public struct Entry: Sendable, Hashable, Codable {
        public var name: String
        public var path: String
        public var sizeBytes: Int64
        public var sha256: String
        public var addedAt: String

        enum CodingKeys: String, CodingKey {
            case name, path, sha256
            case sizeBytes = "size_bytes"
            case addedAt = "added_at"
        }
    }

    public var models: [Entry] = []

    public init(models: [Entry] = []) { self.models = models }

    /// Reads the registry; a missing file is an empty registry.
    public static func load(from path: String) throws -> ModelRegistry {
        guard FileManager.default.fileExists(atPath: path) else { return ModelRegistry() }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LLMError.file(path: path, reason: "cannot be read; check its permissions")
        }
        do {
            return try JSONDecoder().decode(ModelRegistry.self, from: data)
        } catch {
            throw LLMError.file(path: path, reason: "is not a model registry (\(error)); fix or delete it and re-import")
        }
    }

    public func save(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try encoder.encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw LLMError.file(path: path, reason: "cannot be written (\(error))")
        }
    }

    public func entry(named name: String) -> Entry? { models.first { $0.name == name } }

    public mutating func upsert(_ entry: Entry) {
        models.removeAll { $0.name == entry.name }
        models.append(entry)
        models.sort { $0.name < $1.name }
    }
}

/// The model operations the CLI offers: list, pull (Ollama), import a local GGUF.
public struct ModelManager: Sendable {
    public let config: LLMConfig
    let logger: Logger

    public init(config: LLMConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    var ollama: OllamaClient {
        OllamaClient(
            url: config.url, model: config.chatModel, embeddingModel: config.embeddingModel, keepAlive: config.keepAlive,
            numCtx: config.numCtx, timeout: config.timeouts.request.duration, retry: config.retry.policy, logger: logger)
    }

    var openAI: OpenAIClient {
        OpenAIClient(
            url: config.url, model: config.chatModel, embeddingURL: config.embeddingURL, embeddingModel: config.embeddingModel,
            apiKey: config.apiKey, timeout: config.timeouts.request.duration, retry: config.retry.policy, logger: logger)
    }

    /// Models the runtime has. For llama-server: what it serves now, plus registered GGUFs.
    /// A runtime that is down gives the registry only for llama-server, an error for Ollama.
    public func list() async throws -> [ModelSummary] {
        switch config.backend {
        case .ollama:
            var models = try await ollama.listModels()
            if let running = try? await ollama.runningModels() {
                let loaded = Dictionary(running.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
                for index in models.indices {
                    if let hit = loaded[models[index].name] {
                        models[index].loaded = true
                        models[index].contextLength = hit.contextLength
                    }
                }
            }
            return models
        case .openai:
            var models: [ModelSummary] = []
            var served: (any Error)?
            do { models = try await openAI.listModels() } catch { served = error }
            let registry = try ModelRegistry.load(from: config.registryPath)
            let defaults = [(config.chatModel, config.chatModelPath), (config.embeddingModel, config.embeddingModelPath)]
            for (name, path) in defaults where FileManager.default.fileExists(atPath: path) && !models.contains(where: { $0.name == name }) {
                models.append(ModelSummary(name: name, sizeBytes: Self.fileSize(path), source: path))
            }
            for entry in registry.models where !models.contains(where: { $0.name == entry.name }) {
                models.append(ModelSummary(name: entry.name, sizeBytes: entry.sizeBytes, modifiedAt: entry.addedAt, digest: "sha256:" + entry.sha256, source: entry.path))
            }
            if models.isEmpty, let served { throw served }
            return models
        }
    }

    /// Downloads `name` (Ollama only), calling `progress` for every progress line.
    public func pull(_ name: String, progress: @Sendable (PullProgress) async -> Void) async throws {
        switch config.backend {
        case .ollama:
            try await ollama.pull(name, progress: progress)
        case .openai:
            throw LLMError.unsupported(
                "llama-server cannot download models: import a GGUF with `smollama models import FILE.gguf --name \(name)`, "
                    + "or run scripts/setup-llm.sh for the default models")
        }
    }

    /// Makes a local GGUF usable without internet: for Ollama, creates model `name` from it
    /// (like a Modelfile `FROM FILE.gguf`); for llama-server, records it in the registry.
    @discardableResult
    public func importGGUF(path: String, name: String? = nil) async throws -> ModelSummary {
        let absolute = URL(fileURLWithPath: LLMConfig.expandTilde(path)).standardizedFileURL.path
        try Self.checkGGUF(absolute)
        let modelName = name ?? Self.defaultName(for: absolute)
        let digest = try Self.sha256(of: absolute)
        let size = Self.fileSize(absolute)
        switch config.backend {
        case .ollama:
            try await ollama.create(name: modelName, fromGGUF: absolute, digest: "sha256:" + digest)
            return ModelSummary(name: modelName, sizeBytes: size, digest: "sha256:" + digest, source: "ollama")
        case .openai:
            var registry = try ModelRegistry.load(from: config.registryPath)
            let stamp = ISO8601DateFormatter().string(from: Date())
            registry.upsert(.init(name: modelName, path: absolute, sizeBytes: size ?? 0, sha256: digest, addedAt: stamp))
            try registry.save(to: config.registryPath)
            logger.info("registered gguf", metadata: ["smollama.llm.model": "\(modelName)", "smollama.llm.path": "\(absolute)"])
            return ModelSummary(name: modelName, sizeBytes: size, modifiedAt: stamp, digest: "sha256:" + digest, source: absolute)
        }
    }

    /// `models/Foo-1B.Q4_K_M.gguf` → `foo-1b.q4_k_m`.
    public static func defaultName(for path: String) -> String {
        var base = (path as NSString).lastPathComponent
        if base.lowercased().hasSuffix(".gguf") { base.removeLast(5) }
        return base.lowercased()
    }

    static func fileSize(_ path: String) -> Int64? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value
    }

    /// A GGUF file starts with the bytes "GGUF".
    static func checkGGUF(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LLMError.file(path: path, reason: "does not exist or cannot be read")
        }
        defer { try? handle.close() }
        let magic = handle.readData(ofLength: 4)
        guard magic == Data("GGUF".utf8) else {
            throw LLMError.file(path: path, reason: "is not a GGUF file (it does not start with 'GGUF'); convert it with llama.cpp's converters first")
        }
    }

    static func sha256(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw LLMError.file(path: path, reason: "cannot be read")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while true {
            let chunk = handle.readData(ofLength: 4 << 20)
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
