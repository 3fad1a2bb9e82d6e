import Foundation
import SmollamaCore
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// The dashboard in a real browser: headless Chromium (Debian `chromium`) driven over the
/// DevTools protocol by `scripts/browser_check.py`, against the real `smollama` daemon seeded
/// with a simulated week. Screenshots land in `artifacts/dashboard/` (gitignored).
@Suite(.serialized) struct BrowserTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static var chromium: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    struct Summary: Decodable {
        struct PageResult: Decodable {
            var status: Int?
            var errors: [String]
            var external: [String]
            var failed: [String]
            var svgPaths: Int
            var screenshot: String
            var nodeName: String
            var images: Int
        }
        var pages: [String: PageResult]
        var live: Bool
        var liveErrors: [String]?
    }

    @Test(.timeLimit(.minutes(5)))
    func everyPageLoadsCleanlyAndTheLogIsLive() async throws {
        let chromium = try #require(Self.chromium, "install Debian's chromium (scripts/test does)")
        let home = try TemporaryDirectory("browser")
        let initialised = try await SmollamaBinary.run(["init", "--demo", "--name", "browser-node"], home: home.path)
        #expect(initialised.status == 0, "\(initialised.stderr)")
        let simulated = try await SmollamaBinary.run(["simulate", "--days", "7"], home: home.path)
        #expect(simulated.status == 0, "\(simulated.stderr)")

        // A hostile display name: if it became markup, the image's handler would log an error
        // (and the Content-Security-Policy would report a violation).
        let hostileName = #"browser-node <img src=x onerror="console.error('xss')"> '"#
        let node = RunningNode(arguments: ["run"], home: home.path, environment: ["SMOLLAMA_NODE_NAME": hostileName])
        try node.start()
        defer { if node.process.isRunning { node.signal(SIGKILL) } }
        #expect(try await eventually { node.stderr.contains("smollama dashboard serving") }, "\(node.stderr)")
        let base = try #require(node.stderr.firstMatch(of: /smollama\.url=(http:\/\/127\.0\.0\.1:\d+)\//).map { String($0.1) })

        let marker = "browser-marker-\(UInt32.random(in: 0...UInt32.max))"
        let out = Self.root.appendingPathComponent("artifacts/dashboard").path
        let helper = Process()
        helper.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        helper.arguments = ["python3", Self.root.appendingPathComponent("scripts/browser_check.py").path,
                            "--base", base, "--out", out, "--marker", marker, "--chromium", chromium]
        let stdout = Pipe(), stderr = Pipe()
        let output = OutputBuffer(), errors = OutputBuffer()
        helper.standardOutput = stdout
        helper.standardError = stderr
        output.drain(stdout.fileHandleForReading)
        errors.drain(stderr.fileHandleForReading)
        try helper.run()
        defer { if helper.isRunning { helper.terminate() } }

        // After the pages are checked the helper sits on the live log page: write an entry to the
        // store (as the daemon would) and let the helper watch for it.
        #expect(try await eventually(timeout: .seconds(180)) { output.text.contains("READY") || !helper.isRunning },
                "\(errors.text)")
        let runtime = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: [])
        let fault = Notice.SensorFault(sensor: "hallway.temperature", reason: marker, consecutiveFailures: 3)
        let now = Int64(Date().timeIntervalSince1970 * 1000) + 1000
        try await runtime.database.events.appendEvent(
            .sensorFault(fault), origin: runtime.identity.nodeID, stamp: .test(now, bootID: "browser-test"))
        #expect(try await eventually(timeout: .seconds(60)) { !helper.isRunning }, "\(errors.text)")

        let line = try #require(output.text.split(separator: "\n").first { $0.hasPrefix("SUMMARY ") }, "\(errors.text)")
        let summary = try JSONDecoder().decode(Summary.self, from: Data(line.dropFirst("SUMMARY ".count).utf8))
        #expect(summary.pages.count == 8)
        for (path, page) in summary.pages {
            #expect(page.status == 200, "\(path)")
            #expect(page.errors.isEmpty, "\(path): \(page.errors)")
            #expect(page.external.isEmpty, "\(path) left 127.0.0.1: \(page.external)")
            #expect(page.failed.isEmpty, "\(path): \(page.failed)")
            #expect(FileManager.default.fileExists(atPath: out + "/" + page.screenshot))
            if path.hasPrefix("/sensors") { #expect(page.svgPaths >= 10, "\(path) draws charts") }
            #expect(page.nodeName == hostileName, "\(path) shows the name as text")
            #expect(page.images == 0, "\(path): no markup from the name")
        }
        #expect(summary.live, "the new log entry appeared without a reload")
        #expect(summary.liveErrors?.isEmpty == true, "\(summary.liveErrors ?? [])")

        node.signal(SIGTERM)
        #expect(try await node.waitForExit() == 0, "graceful exit with open pages: \(node.stderr)")
    }
}

/// `smollama dashboard` prints the URL and opens nothing; `status` shows it; a public bind
/// without a token refuses to start with a message naming the fix.
@Suite struct DashboardCommandTests {
    @Test func dashboardAndStatusPrintTheURL() async throws {
        let home = try TemporaryDirectory("dash")
        #expect(try await SmollamaBinary.run(["init", "--demo"], home: home.path).status == 0)
        let env = ["SMOLLAMA_HTTP_PORT": "8181"]
        let dashboard = try await SmollamaBinary.run(["dashboard"], home: home.path, environment: env)
        #expect(dashboard.status == 0)
        #expect(dashboard.stdout == "http://127.0.0.1:8181/\n")
        #expect(dashboard.stderr.contains("not running"))
        let json = try await SmollamaBinary.run(["dashboard", "--json"], home: home.path, environment: env)
        #expect(json.stdout.contains("\"url\" : \"http://127.0.0.1:8181/\""))
        let status = try await SmollamaBinary.run(["status"], home: home.path, environment: env)
        #expect(status.stdout.contains("dashboard http://127.0.0.1:8181/"))
    }

    @Test func publicBindWithoutTokenStopsTheDaemon() async throws {
        let home = try TemporaryDirectory("dash")
        #expect(try await SmollamaBinary.run(["init", "--demo"], home: home.path).status == 0)
        let run = try await SmollamaBinary.run(["run"], home: home.path, environment: ["SMOLLAMA_HTTP_HOST": "0.0.0.0"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("http.token is empty"), "\(run.stderr)")
    }
}
