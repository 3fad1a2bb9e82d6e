import Foundation

/// Ollama as recorded: a `StubServer` on loopback answering Ollama's endpoints with the shapes
/// in `Tests/Fixtures/ollama` (its README names where they come from). `/api/pull` streams its
/// lines one by one, as Ollama does. Tests run `OllamaClient` and the `smollama models` CLI
/// against it, so the client is checked against Ollama's real answers, not our own guesses.
public enum RecordedOllama {
    /// `Tests/Fixtures/ollama` of this package.
    public static var fixtures: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tests/Fixtures/ollama").path
    }

    /// The text of one fixture file.
    public static func fixture(_ name: String) throws -> String {
        try String(contentsOfFile: fixtures + "/" + name, encoding: .utf8)
    }

    /// Starts the server; `extra` routes are added (or replace recorded ones).
    public static func start(extra: [String: [StubReply]] = [:]) async throws -> StubServer {
        let pull = try fixture("pull.ndjson").split(separator: "\n").map(String.init)
        var routes: [String: [StubReply]] = [
            "/api/version": [.json(try fixture("version.json"))],
            "/api/tags": [.json(try fixture("tags.json"))],
            "/api/pull": [.ndjson(pull)],
            "/api/chat": [.json(try fixture("chat-format.json"))],
            "/api/embed": [.json(try fixture("embed.json"))],
        ]
        routes.merge(extra) { $1 }
        return try await StubServer(routes)
    }
}
