import Foundation
import SmollamaLLM
import SmollamaNode
import SmollamaServer
import SmollamaTesting
import Testing

/// A real MCP client, the official Python SDK (`scripts/testing/mcp_client_check.py`, PyPI `mcp`
/// installed by scripts/setup-llm.sh), against the real `smollama mcp` (stdio) and the real hub
/// daemon's `/mcp` (streamable HTTP), over a node home with a simulated week. Every tool's reply
/// is compared with the CLI's `--json` for the same question: same ids and values (the MCP side
/// writes times as ISO 8601 with the node's offset).
@Suite(.serialized) struct MCPClientTests {
    static let offline = ContractTests.offline
    static let token = "mcp-client-token-0123456789"

    struct Python {
        var python: String
        var script: String

        static func locate() throws -> Python {
            let env = ProcessInfo.processInfo.environment
            let cache = env["SMOLLAMA_CACHE"] ?? FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/smollama"
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().path
            let python = Python(python: env["SMOLLAMA_MCP_PYTHON"] ?? cache + "/venv/bin/python",
                                script: root + "/scripts/testing/mcp_client_check.py")
            for path in [python.python, python.script] where !FileManager.default.fileExists(atPath: path) {
                throw ClientMissing(what: "\(path) does not exist: run scripts/setup-llm.sh with SMOLLAMA_WITH_MEM0=1 "
                                            + "(it installs the mcp client into its venv)")
            }
            return python
        }

        /// Runs the client; its stdout is one JSON object.
        func run(_ arguments: [String], environment: [String: String]) async throws -> JSONValue {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [script] + arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let out = OutputBuffer(), err = OutputBuffer()
            let outPipe = Pipe(), errPipe = Pipe()
            process.standardOutput = outPipe
            process.standardError = errPipe
            out.drain(outPipe.fileHandleForReading)
            err.drain(errPipe.fileHandleForReading)
            try process.run()
            let deadline = ContinuousClock.now + .seconds(120)
            while process.isRunning {
                if ContinuousClock.now > deadline { process.terminate() }
                try await Task.sleep(for: .milliseconds(50))
            }
            _ = try? await eventually { out.ended && err.ended }
            #expect(process.terminationStatus == 0, "the MCP client failed: \(err.text.suffix(3000))")
            return try MCPClientTests.decode(out.text, what: "the MCP client (\(arguments[0])), stderr: \(err.text.suffix(2000))")
        }
    }

    struct ClientMissing: Error, CustomStringConvertible { var what: String; var description: String { what } }

    static func decode(_ text: String, what: String) throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            Issue.record("\(what) did not print JSON: \(text.prefix(500))")
            throw error
        }
    }

    static func millis(_ value: JSONValue?) -> Int64? {
        if let number = value?.doubleValue { return Int64(number) }
        guard let text = value?.stringValue else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        guard let date = formatter.date(from: text) else { return nil }
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func ids(_ values: [JSONValue]?, _ key: String = "id") -> [String] { (values ?? []).compactMap { $0[key]?.stringValue } }

    @Test func theOfficialPythonClientGetsWhatTheCLIGivesOverStdioAndHTTP() async throws {
        try SmollamaBinary.checkBuilt()
        let python = try Python.locate()
        let home = try TemporaryDirectory("mcp-client")
        func cli(_ arguments: [String]) async throws -> JSONValue {
            let output = try await SmollamaBinary.run(arguments + Self.offline, home: home.path)
            #expect(output.status == 0, "\(arguments): \(output.stderr)")
            return try Self.decode(output.stdout, what: "\(arguments)")
        }
        // A hub with a simulated week; the last day observed by the rules (so there are
        // observations, a daily digest and memories).
        #expect(try await SmollamaBinary.run(["init", "--demo", "--role", "llama", "--name", "hub"] + Self.offline,
                                             home: home.path).status == 0)
        #expect(try await SmollamaBinary.run(["simulate", "--days", "7"] + Self.offline, home: home.path).status == 0)
        let formatter = ISO8601DateFormatter()
        let now = Date()
        let observed = try await SmollamaBinary.run(
            ["observe", "--from", formatter.string(from: now.addingTimeInterval(-26 * 3600)), "--rules"] + Self.offline,
            home: home.path)
        #expect(observed.status == 0, "\(observed.stderr)")
        // One fixed range, asked of both: ending 10 minutes ago, so nothing new lands in it, and a
        // whole day long, so it holds observations at any time of day (a night has one summary,
        // which starts at midnight).
        let to = formatter.string(from: now.addingTimeInterval(-600))
        let from = formatter.string(from: now.addingTimeInterval(-24 * 3600 - 600))
        let span = ["MCP_CHECK_FROM": from, "MCP_CHECK_TO": to]

        // The CLI's answers first: the client's remember comes after its recall, these before both.
        let recall = try await cli(["recall", "hallway motion", "--top", "5", "--json"])
        let memories = try await cli(["recall", "hallway", "--kind", "memory", "--top", "10", "--json"])
        let history = try await cli(["history", "living_room.temperature", "--from", from, "--to", to, "--json"])
        let presence = try await cli(["presence", "--from", from, "--to", to, "--json"])
        let state = try await cli(["state", "--json"])
        let logs = try await SmollamaBinary.run(["logs", "--observations", "--tail", "2000", "--json"] + Self.offline,
                                                home: home.path)
        let logged = try logs.stdout.split(separator: "\n").map { try Self.decode(String($0), what: "logs --json") }

        let stdio = try await python.run(["stdio", SmollamaBinary.path, home.path] + Self.offline, environment: span)
        #expect(Set(stdio["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []) == [
            "recall", "history", "current_state", "observations", "memories", "presence", "remember"])
        let resources = stdio["resources"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(resources.contains("smollama://nodes") && resources.contains("smollama://digest/latest")
                && resources.contains { $0.hasSuffix("/sensors") }, "\(resources)")
        let reads = stdio["reads"]
        #expect(reads?["smollama://digest/latest"]?["digest"]?["observation"]?["kind"]?.stringValue == "digest")
        let sensorsRead = resources.first { $0.hasSuffix("/sensors") }.flatMap { reads?[$0]?["sensors"]?.arrayValue } ?? []
        #expect(sensorsRead.contains { $0["sensor"]?.stringValue == "living_room.temperature" && $0["unit"]?.stringValue == "°C" })

        let calls = stdio["calls"]
        // recall: the same hits in the same order, each the CLI's score; cited_ids are the hits.
        let hits = calls?["recall"]?["hits"]?.arrayValue
        #expect(!Self.ids(hits).isEmpty && Self.ids(hits) == Self.ids(recall["hits"]?.arrayValue))
        #expect(calls?["recall"]?["cited_ids"]?.arrayValue?.compactMap(\.stringValue) == Self.ids(hits))
        // memories with a query: `recall --kind memory`'s hits.
        let remembered = calls?["memories"]?["memories"]?.arrayValue?.compactMap { $0["memory"]?["id"]?.stringValue }
        #expect(remembered == Self.ids(memories["hits"]?.arrayValue), "\(String(describing: remembered))")
        // history: the same buckets, counts and means; times as ISO 8601.
        let points = calls?["history"]?["points"]?.arrayValue ?? []
        let cliPoints = history["points"]?.arrayValue ?? []
        #expect(!points.isEmpty && points.count == cliPoints.count)
        for (point, cliPoint) in zip(points, cliPoints) {
            #expect(point["start"]?.stringValue?.contains("T") == true)
            #expect(Self.millis(point["start"]) == Self.millis(cliPoint["start"]) && point["count"] == cliPoint["count"]
                    && point["mean"] == cliPoint["mean"])
        }
        #expect(calls?["history"]?["mean"] == history["mean"] && calls?["history"]?["unit"] == history["unit"])
        // presence: the same windows and states.
        let windows = calls?["presence"]?["windows"]?.arrayValue ?? []
        #expect(!windows.isEmpty && windows.count == presence["windows"]?.arrayValue?.count)
        for (window, cliWindow) in zip(windows, presence["windows"]?.arrayValue ?? []) {
            #expect(Self.millis(window["start"]) == Self.millis(cliWindow["start"]) && window["state"] == cliWindow["state"]
                    && window["confidence"] == cliWindow["confidence"] && window["room"] == cliWindow["room"])
        }
        // current_state: each sensor's latest value and its time (no daemon runs: nothing moves).
        for sensor in calls?["current_state"]?["sensors"]?.arrayValue ?? [] {
            let cliSensor = state["sensors"]?.arrayValue?.first { $0["sensor"] == sensor["sensor"] }
            #expect(sensor["value"] == cliSensor?["value"] && Self.millis(sensor["time"]) == Self.millis(cliSensor?["time"]))
        }
        // observations: each is in the CLI's log with the same text.
        let observations = calls?["observations"]?["observations"]?.arrayValue ?? []
        #expect(!observations.isEmpty)
        for item in observations {
            let id = item["observation"]?["id"]?.stringValue
            let entry = logged.first { $0["observation"]?["id"]?.stringValue == id }
            #expect(entry?["observation"]?["text"] == item["observation"]?["text"], "\(String(describing: id))")
        }
        // remember: written, and the CLI's recall finds it by the cited id.
        let written = try #require(calls?["remember"]?["cited_ids"]?.arrayValue?.first?.stringValue)
        #expect(Self.ids(try await cli(["recall", "coat rack", "--json"])["hits"]?.arrayValue).contains(written))
        try Self.expectBadArgumentsRefused(stdio["errors"])

        // With writes off: remember is neither listed nor done.
        let readOnly = try await python.run(["stdio", SmollamaBinary.path, home.path, "--set", "mcp.allow_writes=false"]
                                                + Self.offline, environment: span)
        #expect(readOnly["tools"]?.arrayValue?.contains { $0["name"]?.stringValue == "remember" } == false)
        #expect(readOnly["errors"]?["remember-refused"]?.stringValue?.contains("mcp.allow_writes: false") == true)
        let refusedRecall = try await cli(["recall", "must not be written", "--json"])["hits"]?.arrayValue ?? []
        #expect(!refusedRecall.contains { $0["text"]?.stringValue?.contains("must not be written") == true })

        try await checkHTTP(home: home, python: python, span: span, stdio: stdio)
    }

    static func expectBadArgumentsRefused(_ errors: JSONValue?) throws {
        for (name, words) in [("recall-missing-query", "argument 'query' is required"),
                              ("recall-top-type", "argument 'top' must be an integer from 1 to 100"),
                              ("history-unknown-argument", "no argument 'hours'"),
                              ("history-bad-time", "argument 'from' must be a time"),
                              ("history-unknown-sensor", "argument 'sensor': no sensor 'attic.temperature'")] {
            #expect(errors?[name]?.stringValue?.contains(words) == true, "\(name): \(String(describing: errors?[name]))")
        }
    }

    /// The hub daemon's `/mcp`: the same client over streamable HTTP, and the refusals.
    func checkHTTP(home: TemporaryDirectory, python: Python, span: [String: String], stdio: JSONValue) async throws {
        let port = freeLoopbackPort()
        let daemon = RunningNode(arguments: ["run", "--set", "mcp.token=\(Self.token)"] + Self.offline, home: home.path,
                                 environment: ["SMOLLAMA_HTTP_PORT": String(port)])
        try daemon.start()
        defer { if daemon.process.isRunning { daemon.signal(SIGKILL) } }
        let url = "http://127.0.0.1:\(port)/mcp"
        #expect(try await eventually(timeout: .seconds(60), poll: .milliseconds(200)) {
            try Mem0ProcessTests.curl(["http://127.0.0.1:\(port)/healthz"]).status == 200
        }, "the hub did not answer: \(daemon.stderr.suffix(2000))")

        let http = try await python.run(["http", url, Self.token], environment: span)
        #expect(http["tools"]?.arrayValue?.count == 7 && http["resources"] == stdio["resources"])
        // A past range reads the same over either transport.
        #expect(http["calls"]?["history"] == stdio["calls"]?["history"])
        #expect(http["calls"]?["presence"] == stdio["calls"]?["presence"],
                "http: \(String(describing: http["calls"]?["presence"]))\nstdio: \(String(describing: stdio["calls"]?["presence"]))")
        #expect(Self.ids(http["calls"]?["recall"]?["hits"]?.arrayValue).count == 5)
        try Self.expectBadArgumentsRefused(http["errors"])

        let ping = #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#
        let bodies = try TemporaryDirectory("mcp-bodies")
        func post(_ body: String, _ headers: [String]) throws -> (status: Int, body: String) {
            let file = try bodies.write("body.json", body)
            return try Mem0ProcessTests.curl(["-X", "POST", "-H", "Content-Type: application/json",
                                              "-H", "Accept: application/json, text/event-stream"]
                                             + headers.flatMap { ["-H", $0] } + [url, "--data-binary", "@" + file])
        }
        let missing = try post(ping, [])
        #expect(missing.status == 401 && missing.body.contains("Authorization: Bearer TOKEN"), "\(missing)")
        let wrong = try post(ping, ["Authorization: Bearer not-the-mcp-token-000"])
        #expect(wrong.status == 401 && wrong.body.contains("does not match mcp.token"), "\(wrong)")
        let config = try ConfigLoader.load(file: home.path + "/config.yaml")
        let dashboard = try post(ping, ["Authorization: Bearer \(config.http.token)"])
        #expect(config.http.token.isEmpty || dashboard.status == 401, "the dashboard token opened /mcp")
        let oversized = try post(String(repeating: "x", count: 300_000), ["Authorization: Bearer \(Self.token)"])
        #expect(oversized.status == 413 && oversized.body.contains("mcp.max_body_bytes"), "\(oversized.status)")
        let malformed = try post(#"{"jsonrpc":"2.0","id":1,"meth"#, ["Authorization: Bearer \(Self.token)"])
        #expect(malformed.status == 400 && malformed.body.contains("-32700"), "\(malformed)")
        let notRPC = try post(#"{"hello":"world"}"#, ["Authorization: Bearer \(Self.token)"])
        #expect(notRPC.status == 400, "\(notRPC)")
        let ok = try post(ping, ["Authorization: Bearer \(Self.token)"])
        #expect(ok.status == 200 && ok.body.contains(#""result":{}"#), "\(ok)")
    }
}
