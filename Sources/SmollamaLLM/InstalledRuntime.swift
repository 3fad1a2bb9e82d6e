import Foundation

/// What `scripts/setup-llm.sh` installed, read from `installed.json` in the cache directory: the
/// pinned runtime version (llama.cpp's sdist build reports "build 0", so its version is known only
/// from the pin) and each model file's SHA-256. `smollama status` shows it.
public struct InstalledRuntime: Sendable, Hashable, Codable {
    public struct Runtime: Sendable, Hashable, Codable {
        public var name: String
        public var package: String
        public var version: String
        public var path: String
    }

    public struct Model: Sendable, Hashable, Codable {
        public var role: String
        public var file: String
        public var package: String
        public var sha256: String
    }

    /// Where the pins live in the source tree (`scripts/pins.sh`).
    public var pins: String
    public var runtime: Runtime
    public var models: [Model]
    /// Other pinned packages and their versions (sqlite-vec, mem0ai).
    public var packages: [String: String]

    public static func path(cacheDirectory: String) -> String { cacheDirectory + "/installed.json" }

    /// The manifest in `cacheDirectory`, or nil when setup has not written one (an Ollama setup,
    /// or a cache from before pinning).
    /// - Throws: `LLMError.file` when the file exists but is not a manifest.
    public static func load(cacheDirectory: String) throws -> InstalledRuntime? {
        let path = path(cacheDirectory: cacheDirectory)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(InstalledRuntime.self, from: data)
        } catch {
            throw LLMError.file(
                path: path, reason: "not a setup manifest (\(error)); run scripts/setup-llm.sh again to rewrite it")
        }
    }

    /// The recorded digest of a model file, when setup installed that very file.
    public func sha256(ofFile file: String) -> String? {
        let wanted = URL(fileURLWithPath: file).standardizedFileURL.path
        return models.first { URL(fileURLWithPath: $0.file).standardizedFileURL.path == wanted }?.sha256
    }
}
