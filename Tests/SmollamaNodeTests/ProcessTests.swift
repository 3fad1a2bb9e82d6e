import Foundation
import SmollamaCore
import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// The real binary, as separate processes against a temp home: what a user sees.
@Suite(.serialized) struct ProcessTests {
    /// A node that ingests fast: the simulated house every 50 ms.
    func makeNode(flushInterval: String) async throws -> TemporaryDirectory {
        let home = try TemporaryDirectory("node")
        let initialised = try await SmollamaBinary.run(["init", "--demo", "--name", "testnode"], home: home.path)
        #expect(initialised.status == 0, "init failed: \(initialised.stderr)")
        let config = """
            llm:
              runtime: external  # these tests are about the store; the LLM suites start their own
            store:
              flush_interval: \(flushInterval)
              batch_size: 100000
            sensors:
              drivers:
                - driver: simulated_house
                  interval: 50ms
                  on_change: false
            """
        try config.write(toFile: home.path + "/config.yaml", atomically: true, encoding: .utf8)
        return home
    }

    func readingCount(home: String) async throws -> Int {
        try await SmollamaDatabase.open(path: home + "/data/smollama.sqlite").readings.readingCount()
    }

    /// SIGTERM while readings wait in memory (flush every 60 s, so none were committed yet):
    /// the graceful shutdown commits every accepted reading.
    @Test func sigtermLosesNothingThatWasAccepted() async throws {
        let home = try await makeNode(flushInterval: "60s")
        let node = RunningNode(arguments: ["run"], home: home.path)
        try node.start()
        #expect(try await eventually { node.stderr.contains("sensor scheduler started") })
        try await Task.sleep(for: .seconds(2))
        #expect(try await readingCount(home: home.path) == 0, "nothing committed before the flush interval")
        node.signal(SIGTERM)
        let status = try await node.waitForExit()
        #expect(status == 0, "graceful exit: \(node.stderr)")
        let log = node.stderr
        let accepted = log.firstMatch(of: /smollama\.writer\.accepted=(\d+)/).map { Int($0.1)! }
        let pending = log.firstMatch(of: /smollama\.writer\.pending=(\d+)/).map { Int($0.1)! }
        #expect((accepted ?? 0) > 50, "the node accepted readings: \(log)")
        #expect(pending == 0)
        #expect(try await readingCount(home: home.path) == accepted)
    }

    /// kill -9: at most the unflushed window is lost — readings accepted in the last
    /// `flush_interval` (plus one poll interval). The newest stored reading must be that recent.
    @Test func killNineLosesAtMostTheFlushWindow() async throws {
        let home = try await makeNode(flushInterval: "500ms")
        let node = RunningNode(arguments: ["run"], home: home.path)
        try node.start()
        #expect(try await eventually { node.stderr.contains("sensor scheduler started") })
        #expect(try await eventually { try await readingCount(home: home.path) > 100 })
        try await Task.sleep(for: .seconds(1))
        let killedAt = UTCMillis.now()
        node.signal(SIGKILL)
        _ = try await node.waitForExit()
        let database = try SmollamaDatabase.open(path: home.path + "/data/smollama.sqlite")
        let newest = try #require(try await database.storeStatus().newestReadingTime)
        let bound: Int64 = 500 + 50 + 750  // flush interval + poll interval + scheduling slack on a busy machine
        #expect((killedAt - newest).wholeMilliseconds <= bound,
                "lost \((killedAt - newest).wholeMilliseconds) ms of readings; the bound is \(bound) ms")
        // The store is intact and the node starts again from where it was.
        let restarted = RunningNode(arguments: ["run"], home: home.path)
        try restarted.start()
        #expect(try await eventually { restarted.stderr.contains("sensor scheduler started") })
        // One daemon per node: status names it, a second one is refused (the lock died with kill -9).
        let status = try await SmollamaBinary.run(["status", "--json"], home: home.path)
        let report = try JSONDecoder().decode(StatusReport.self, from: Data(status.stdout.utf8))
        #expect(report.daemonPID == restarted.process.processIdentifier)
        let second = try await SmollamaBinary.run(["run"], home: home.path)
        #expect(second.status == 1 && second.stderr.contains("already running"))
        restarted.signal(SIGTERM)
        #expect(try await restarted.waitForExit() == 0)
    }

    @Test func cliCommandsPrintWhatTheyClaim() async throws {
        let home = try TemporaryDirectory("cli")
        let initialised = try await SmollamaBinary.run(["init", "--demo", "--json"], home: home.path)
        let created = try JSONDecoder().decode(NodeSetup.Result.self, from: Data(initialised.stdout.utf8))
        #expect(created.createdIdentity)
        #expect(try await SmollamaBinary.run(["init", "--demo"], home: home.path).stderr.contains("already exists"))

        let simulated = try await SmollamaBinary.run(["simulate", "--days", "1", "--json"], home: home.path)
        #expect(simulated.status == 0, "\(simulated.stderr)")
        struct Simulated: Decodable { var readings: Int }
        let readings = try JSONDecoder().decode(Simulated.self, from: Data(simulated.stdout.utf8)).readings
        #expect(readings > 50_000)

        let status = try await SmollamaBinary.run(["status", "--json"], home: home.path)
        let report = try JSONDecoder().decode(StatusReport.self, from: Data(status.stdout.utf8))
        #expect(report.nodeID == created.nodeID && report.readingCount == Int64(readings))
        #expect(report.rollupLag == 0 && report.daemonPID == nil && report.sensorCount == 9)
        let text = try await SmollamaBinary.run(["status"], home: home.path, environment: ["COLUMNS": "80"])
        #expect(text.stdout.contains("\(readings) readings") && text.stdout.contains("not running"))
        #expect(text.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 })

        let sensors = try await SmollamaBinary.run(["sensors", "--json"], home: home.path)
        let summaries = try JSONDecoder().decode([SensorSummary].self, from: Data(sensors.stdout.utf8))
        #expect(summaries.count == 9)
        let temperature = try #require(summaries.first { $0.sensor.id == "living_room.temperature" })
        #expect(temperature.lastValue != nil && temperature.hourMean != nil && temperature.sensor.unit == "°C")
        let table = try await SmollamaBinary.run(["sensors"], home: home.path, environment: ["COLUMNS": "80"])
        #expect(table.stdout.contains("living_room.temperature") && table.stdout.contains("°C"))
        #expect(table.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 })

        // Bad input: a clear message naming the key, exit code 1.
        try "store:\n  batch_size: many\n".write(toFile: home.path + "/config.yaml", atomically: true, encoding: .utf8)
        let broken = try await SmollamaBinary.run(["status"], home: home.path)
        #expect(broken.status == 1 && broken.stderr.contains("store.batch_size"))
    }

    @Test func logsFollowBinaryChangesAsTheyAreWritten() async throws {
        let home = try await makeNode(flushInterval: "100ms")
        let node = RunningNode(arguments: ["run"], home: home.path)
        try node.start()
        #expect(try await eventually { node.stderr.contains("sensor scheduler started") })
        let follow = RunningNode(arguments: ["logs", "-f", "--json"], home: home.path)
        try follow.start()
        // The simulated door and motion sensors change within minutes of simulated time; the
        // first reading of each binary sensor is itself a change from "unknown".
        let sawChange = try await eventually(timeout: .seconds(20)) { follow.stdout.contains("\"type\":\"sensor.changed\"") }
        follow.signal(SIGTERM)
        node.signal(SIGTERM)
        _ = try await node.waitForExit()
        _ = try await follow.waitForExit()
        #expect(sawChange, "logs -f shows binary changes as they are written")
        let tail = try await SmollamaBinary.run(["logs", "--tail", "2", "--json"], home: home.path)
        let entries = try tail.stdout.split(separator: "\n").map { try JSONDecoder().decode(LogEntry.self, from: Data($0.utf8)) }
        // Observations (the daemon observes its first window at start) lead, then the 2 newest notices.
        let notices = entries.drop { $0.stream == .observations }
        #expect(entries.count - notices.count <= 2)
        #expect(notices.count == 2)
        for entry in notices {
            #expect(entry.type == "sensor.changed" && ["on", "off"].contains(entry.message))
        }
        let text = try await SmollamaBinary.run(["logs", "--tail", "2"], home: home.path)
        #expect(text.stdout.contains("motion") || text.stdout.contains("door"))
    }
}
