import Foundation
import SmollamaCore
import SmollamaMem0
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// The real binary: `init --role llama` gives a hub whose daemon serves the mem0 API with the
/// generated key, and `smollama recall --node` finds what was written through it.
@Suite(.serialized) struct Mem0ProcessTests {

    /// One HTTP call with curl-like simplicity (URLSession is not on every Linux toolchain; use the shell's curl).
    static func curl(_ arguments: [String]) throws -> (status: Int, body: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-s", "-m", "20", "-w", "\n%{http_code}"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test func theHubServesMem0AndRecallFindsItByNode() async throws {
        try SmollamaBinary.checkBuilt()
        let home = try TemporaryDirectory("mem0-hub")
        let initialised = try await SmollamaBinary.run(["init", "--demo", "--role", "llama", "--name", "hub"], home: home.path)
        #expect(initialised.status == 0, "\(initialised.stderr)")
        let config = try ConfigLoader.load(file: home.path + "/config.yaml")
        let key = "X-API-Key: \(config.mem0.apiKey)"
        let port = freeLoopbackPort()
        let node = RunningNode(arguments: ["run"], home: home.path, environment: ["SMOLLAMA_HTTP_PORT": String(port)])
        try node.start()
        let base = "http://127.0.0.1:\(port)/mem0"
        let up = try await eventually(timeout: .seconds(60), poll: .milliseconds(200)) {
            try Self.curl(["-H", key, base + "/memories?agent_id=*"]).status == 200
        }
        #expect(up, "the hub's mem0 API did not answer")
        #expect(try Self.curl([base + "/memories?agent_id=*"]).status == 401)
        let added = try Self.curl(["-H", key, "-H", "Content-Type: application/json", base + "/memories", "-d",
                                   #"{"messages":"The kitchen window sticks in winter","user_id":"alice","infer":false}"#])
        #expect(added.status == 200 && added.body.contains("\"event\":\"ADD\""), "\(added)")
        let found = try Self.curl(["-H", key, "-H", "Content-Type: application/json", base + "/search", "-d",
                                   #"{"query":"kitchen window","agent_id":"hub"}"#])
        #expect(found.status == 200 && found.body.contains("The kitchen window sticks in winter"), "\(found)")
        node.signal(SIGTERM)
        #expect(try await node.waitForExit() == 0)

        let recalled = try await SmollamaBinary.run(["recall", "--node", "hub", "--json", "kitchen window"], home: home.path,
                                              environment: ["SMOLLAMA_LLM_EMBEDDING_URL": "http://127.0.0.1:9"])
        #expect(recalled.status == 0, "\(recalled.stderr)")
        #expect(recalled.stdout.contains("The kitchen window sticks in winter"), "\(recalled.stdout)")
        let unknown = try await SmollamaBinary.run(["recall", "--node", "attic", "kitchen"], home: home.path)
        #expect(unknown.status != 0 && unknown.stderr.contains("no node named 'attic'"))
    }
}
