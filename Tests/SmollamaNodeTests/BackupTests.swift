import Foundation
import GRDB
import Logging
import Synchronization
import SmollamaCore
import SmollamaSync
import SmollamaTesting
import Testing
@testable import SmollamaNode
@testable import SmollamaStore

/// `smollama backup` / `restore` through the real binary (issue 17, item 4): a backup taken
/// while a daemon writes, restores refused over a running node or a damaged file, and a node
/// restored from an old backup that syncs with a real hub without reusing ids.
@Suite(.serialized) struct BackupTests {
    func makeHome(_ name: String, role: String = "alpaca") async throws -> TemporaryDirectory {
        try await daemonTestHome("backup", name: name, role: role)
    }

    func store(_ home: String) throws -> SmollamaDatabase { try SmollamaDatabase.open(path: home + "/data/smollama.sqlite") }

    /// The rows of `table` with `column` ≤ `limit`, as text, in the order `order`.
    func rows(_ database: SmollamaDatabase, _ table: String, upTo limit: Int64, by column: String, order: String) async throws -> [String] {
        try await database.reader.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM \(table) WHERE \(column) <= ? ORDER BY \(order)", arguments: [limit])
                .map(\.description)
        }
    }

    @Test func aBackupTakenWhileTheDaemonWritesRoundTrips() async throws {
        let home = try await makeHome("live")
        let daemon = RunningNode(arguments: ["run"], home: home.path)
        try daemon.start()
        defer { if daemon.process.isRunning { daemon.signal(SIGKILL) } }
        #expect(try await eventually(timeout: .seconds(60)) {
            try await store(home.path).readings.readingCount() > 100
        }, "\(daemon.stderr.suffix(2000))")
        let remembered = try await SmollamaBinary.run(["remember", "the kettle is in the kitchen"], home: home.path)
        #expect(remembered.status == 0, "\(remembered.stderr)")

        let archives = try TemporaryDirectory("backup-files")
        let live = archives.path + "/live.tar.gz"
        let backup = try await SmollamaBinary.run(["backup", live, "--json"], home: home.path)
        try #require(backup.status == 0, "backup while running: \(backup.stderr)")
        let report = try JSONDecoder().decode(NodeBackup.Report.self, from: Data(backup.stdout.utf8))
        #expect(report.members.map(\.name) == ["config.yaml", "data/identity.json", "data/node.key", "data/smollama.sqlite"])
        #expect(report.bytes > 0 && report.bytes < report.storeBytes, "compressed: \(report.bytes) of \(report.storeBytes)")

        // Restore is refused over the running node, naming its pid and what to do.
        let refused = try await SmollamaBinary.run(["restore", live, "--force"], home: home.path)
        #expect(refused.status == 1 && refused.stderr.contains("is running (pid \(daemon.process.processIdentifier))"), "\(refused.stderr)")
        // …and over a stopped node without --force.
        let other = try await makeHome("other")
        let noForce = try await SmollamaBinary.run(["restore", live], home: other.path)
        #expect(noForce.status == 1 && noForce.stderr.contains("add --force"), "\(noForce.stderr)")

        // The daemon keeps writing after the backup; then it stops.
        let atBackup = try await store(home.path).nodeSync.localMax(origin: report.nodeID, stream: .readings)
        #expect(try await eventually { try await store(home.path).nodeSync.localMax(origin: report.nodeID, stream: .readings) > atBackup + 20 })
        daemon.signal(SIGTERM)
        #expect(try await daemon.waitForExit() == 0, "\(daemon.stderr.suffix(2000))")

        // The live backup restores into a fresh home: a consistent store whose readings and
        // events are exactly the original's up to where the backup was taken.
        let fresh = try TemporaryDirectory("backup-fresh")
        let restored = try await SmollamaBinary.run(["restore", live, "--json"], home: fresh.path)
        try #require(restored.status == 0, "restore: \(restored.stderr)")
        let original = try store(home.path), copy = try store(fresh.path)
        #expect(try SmollamaDatabase.inspect(path: fresh.path + "/data/smollama.sqlite").problem == nil)
        let copiedMax = try await copy.nodeSync.localMax(origin: report.nodeID, stream: .readings)
        #expect(copiedMax > 100)
        #expect(try await rows(copy, "readings", upTo: copiedMax, by: "id", order: "id") == rows(original, "readings", upTo: copiedMax, by: "id", order: "id"))
        // Events: the copy holds a subset of the original's (the daemon kept writing notices), each
        // identical, among them the memory written before the backup.
        let copiedEvents = try await rows(copy, "events", upTo: .max, by: "seq", order: "origin, stream, seq")
        #expect(Set(copiedEvents).isSubset(of: Set(try await rows(original, "events", upTo: .max, by: "seq", order: "origin, stream, seq"))))
        #expect(try await copy.events.recentEvents(origin: report.nodeID, stream: .memories, limit: 10).count == 1,
                "the backup holds the memory written before it")
        let status = try await SmollamaBinary.run(["status", "--json"], home: fresh.path)
        #expect(status.status == 0, "\(status.stderr)")

        // A backup of the stopped node restores with nothing lost: every table's rows and hash.
        let still = archives.path + "/still.tar.gz"
        #expect(try await SmollamaBinary.run(["backup", still], home: home.path).status == 0)
        let second = try TemporaryDirectory("backup-second")
        #expect(try await SmollamaBinary.run(["restore", still], home: second.path).status == 0)
        let before = try await original.tableDigests(), after = try await store(second.path).tableDigests()
        #expect(before.count > 10 && before == after, "tables differ: \(before.filter { after[$0.key] != $0.value }.keys.sorted())")
        #expect(try String(contentsOfFile: second.path + "/data/node.key", encoding: .utf8)
                == String(contentsOfFile: home.path + "/data/node.key", encoding: .utf8))
        let mode = try FileManager.default.attributesOfItem(atPath: second.path + "/data/node.key")[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
    }

    @Test func aDamagedOrTruncatedArchiveIsRefusedNamingTheProblem() async throws {
        let home = try TemporaryDirectory("backup-damaged")
        _ = try await NodeSetup.initialise(paths: SmollamaPaths(home: home.path), name: "damaged", role: .alpaca,
                                           sensors: .demo, force: false, now: 1_700_000_000_000)
        let runtime = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: [])
        let file = home.path + "/good.tar.gz"
        _ = try NodeBackup.create(runtime: runtime, to: file, now: 1_700_000_000_000)
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        // `tar` reads it too.
        let listing = Process()
        listing.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        listing.arguments = ["tar", "-tzf", file]
        let pipe = Pipe()
        listing.standardOutput = pipe
        try listing.run()
        listing.waitUntilExit()
        #expect(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).contains("smollama-backup.json"))

        func refusal(_ bytes: [UInt8]) throws -> String {
            let target = try TemporaryDirectory("backup-target")
            let path = target.path + "/archive.tar.gz"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                _ = try NodeBackup.restore(archive: path, home: target.path + "/home", environment: [:], force: false)
                return "restored"
            } catch {
                // Nothing was put in place.
                #expect(!FileManager.default.fileExists(atPath: target.path + "/home/config.yaml"))
                return "\(error)"
            }
        }
        #expect(try refusal(Array(good.prefix(good.count / 2))).contains("truncated"))
        #expect(try refusal(Array(good.dropLast(6))).contains("truncated"))
        var flipped = good
        flipped[good.count / 2] ^= 0x55
        #expect(try refusal(flipped).contains("damaged"))
        #expect(try refusal(Array("just some text, not a backup\n".utf8)).contains("not a smollama backup"))
        #expect(try refusal(good) == "restored")

        // A member that does not match the manifest (written by hand), and a missing store.
        let staged = try TemporaryDirectory("backup-staged")
        let manifest = try NodeBackup.unpack(archive: file, into: staged.path)
        func archive(_ edit: (String) throws -> Void, dropping: String? = nil) throws -> [UInt8] {
            try edit(staged.path)
            let path = staged.path + "/edited.tar.gz"
            let writer = try BackupArchiveWriter(path: path)
            for member in manifest.members where member.name != dropping {
                _ = try writer.add(name: member.name, from: staged.path + "/" + member.name)
            }
            try writer.add(name: BackupManifest.fileName, bytes: [UInt8](try JSONEncoder().encode(manifest)))
            try writer.finish()
            return try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        }
        #expect(try refusal(try archive({ _ in }, dropping: "data/smollama.sqlite")).contains("it lacks data/smollama.sqlite"))
        let edited = try archive { try "name: other\n".write(toFile: $0 + "/config.yaml", atomically: true, encoding: .utf8) }
        #expect(try refusal(edited).contains("config.yaml does not match its SHA-256"))
    }

    @Test func aNodeRestoredFromAnOldBackupSyncsWithoutReusingIds() async throws {
        let hubHome = try await makeHome("hub", role: "llama")
        let hub = RunningNode(arguments: ["run"], home: hubHome.path)
        try hub.start()
        defer { if hub.process.isRunning { hub.signal(SIGKILL) } }
        #expect(try await eventually { hub.stderr.contains("smollama dashboard serving") }, "\(hub.stderr)")
        let url = try #require(hub.stderr.firstMatch(of: /smollama\.url=(http:\/\/127\.0\.0\.1:\d+)\//).map { String($0.1) })

        let home = try await makeHome("kitchen")
        let token = try await SmollamaBinary.run(["hub", "token"], home: hubHome.path)
        let enrolled = try await SmollamaBinary.run(
            ["enroll", "--hub", url, "--token", token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)], home: home.path)
        try #require(enrolled.status == 0, "enroll: \(enrolled.stderr)")
        let node = try JSONDecoder().decode(NodeIdentity.self, from: Data(contentsOf: URL(fileURLWithPath: home.path + "/data/identity.json"))).nodeID

        func runFor(readings: Int64) async throws {
            let daemon = RunningNode(arguments: ["run"], home: home.path)
            try daemon.start()
            defer { if daemon.process.isRunning { daemon.signal(SIGKILL) } }
            let start = try await store(home.path).nodeSync.localMax(origin: node, stream: .readings)
            #expect(try await eventually(timeout: .seconds(60)) {
                try await store(home.path).nodeSync.localMax(origin: node, stream: .readings) > start + readings
            })
            daemon.signal(SIGTERM)
            #expect(try await daemon.waitForExit() == 0, "\(daemon.stderr.suffix(2000))")
            let sync = try await SmollamaBinary.run(["sync"], home: home.path)
            #expect(sync.status == 0, "\(sync.stderr)")
        }
        #expect(try await SmollamaBinary.run(["remember", "the old memory"], home: home.path).status == 0)
        try await runFor(readings: 50)
        let old = home.path + "/../old-\(node.short).tar.gz"
        defer { try? FileManager.default.removeItem(atPath: old) }
        #expect(try await SmollamaBinary.run(["backup", old], home: home.path).status == 0)
        let backedUpReadings = try await store(home.path).nodeSync.localMax(origin: node, stream: .readings)

        // After the backup: more readings and a memory, all synced to the hub.
        #expect(try await SmollamaBinary.run(["remember", "the new memory after the backup"], home: home.path).status == 0)
        try await runFor(readings: 50)
        let hubDatabase = try store(hubHome.path)
        let hubMarks = try #require(try await hubDatabase.hubSync.hubNodes().first { $0.node == node.hex }?.marks)
        let hubReadings = try #require(hubMarks["readings"]), hubMemories = try #require(hubMarks["memories"])
        #expect(hubReadings > backedUpReadings && hubMemories >= 2)

        // Restore the old backup: it syncs at once, numbers past the hub and pulls the new memory back.
        let restored = try await SmollamaBinary.run(["restore", old, "--force", "--json"], home: home.path)
        try #require(restored.status == 0, "restore: \(restored.stderr)")
        #expect(restored.stdout.contains("\"synced\" : true"), "\(restored.stdout)")
        let local = try store(home.path)
        #expect(try await local.nodeSync.localMax(origin: node, stream: .readings) >= hubReadings)
        let memories = try await local.events.recentEvents(origin: node, stream: .memories, limit: 100)
        #expect(Set(memories.map(\.seq)) == Set(1...hubMemories), "this node's memories, pulled back from the hub")

        // The restored node runs and syncs: new ids follow the hub's, the hub sees no collision
        // and holds what the node holds.
        try await runFor(readings: 30)
        let after = try #require(try await hubDatabase.hubSync.hubNodes().first { $0.node == node.hex })
        // The hub notes, once per stream, that the node came back behind it (its handshake); no
        // item arrived under an id the hub held with other content.
        #expect(try await hubDatabase.hubSync.hubCollisions().isEmpty, "no id the hub held was reused")
        #expect(after.collisions == 0, "a restore is not a collision")
        let notices = try await hubDatabase.hubSync.restoreNotices()
        #expect(notices.contains { $0.node == node.hex && $0.stream == "readings" && $0.localMax == backedUpReadings }, "\(notices)")
        for stream in SyncProtocol.pushOrder {
            #expect(after.marks[stream.rawValue] ?? 0 == (try await local.nodeSync.localMax(origin: node, stream: stream)), "\(stream)")
        }
        #expect((after.marks["readings"] ?? 0) > hubReadings)

        // A hub's backup, taken while it runs, restores too: its nodes and their marks.
        let hubArchive = home.path + "/../hub-\(node.short).tar.gz"
        defer { try? FileManager.default.removeItem(atPath: hubArchive) }
        #expect(try await SmollamaBinary.run(["backup", hubArchive], home: hubHome.path).status == 0)
        let restoredHub = try TemporaryDirectory("backup-hub")
        let hubRestore = try await SmollamaBinary.run(["restore", hubArchive], home: restoredHub.path)
        try #require(hubRestore.status == 0, "\(hubRestore.stderr)")
        #expect(hubRestore.stdout.contains("restored hub"), "\(hubRestore.stdout)")
        let copy = try #require(try await store(restoredHub.path).hubSync.hubNodes().first { $0.node == node.hex })
        #expect(copy.marks == after.marks)
        let mode = try FileManager.default.attributesOfItem(atPath: restoredHub.path + "/config.yaml")[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600, "the hub's config holds its mem0 keys")
    }

    /// Restored while the hub is down: the daemon writes nothing (the restore mark holds it)
    /// until the hub is back and a round moved the counters past its marks.
    @Test func aNodeRestoredWhileTheHubIsDownWritesNothingUntilItSynced() async throws {
        let hubPort = freeLoopbackPort()
        let hubHome = try await makeHome("hub", role: "llama")
        var processes: [RunningNode] = []
        defer { for process in processes where process.process.isRunning { process.signal(SIGKILL) } }
        func start(_ home: String, port: Int? = nil) throws -> RunningNode {
            let process = RunningNode(arguments: ["run"], home: home, environment: port.map { ["SMOLLAMA_HTTP_PORT": "\($0)"] } ?? [:])
            try process.start()
            processes.append(process)
            return process
        }
        func stop(_ process: RunningNode) async throws {
            process.signal(SIGTERM)
            #expect(try await process.waitForExit() == 0, "\(process.stderr.suffix(2000))")
        }
        var hub = try start(hubHome.path, port: hubPort)
        #expect(try await eventually { hub.stderr.contains("smollama dashboard serving") }, "\(hub.stderr)")
        let home = try await makeHome("pantry")
        let token = try await SmollamaBinary.run(["hub", "token"], home: hubHome.path)
        let enrolled = try await SmollamaBinary.run(
            ["enroll", "--hub", "http://127.0.0.1:\(hubPort)", "--token", token.stdout.trimmingCharacters(in: .whitespacesAndNewlines)],
            home: home.path)
        try #require(enrolled.status == 0, "enroll: \(enrolled.stderr)")
        let node = try JSONDecoder().decode(NodeIdentity.self, from: Data(contentsOf: URL(fileURLWithPath: home.path + "/data/identity.json"))).nodeID
        func readings() async throws -> Int64 { try await store(home.path).nodeSync.localMax(origin: node, stream: .readings) }
        func runFor(readings count: Int64) async throws {
            let before = try await readings()
            let daemon = try start(home.path)
            #expect(try await eventually(timeout: .seconds(60)) { try await readings() > before + count })
            try await stop(daemon)
            #expect(try await SmollamaBinary.run(["sync"], home: home.path).status == 0)
        }
        try await runFor(readings: 30)
        let old = home.path + "/../old-down-\(node.short).tar.gz"
        defer { try? FileManager.default.removeItem(atPath: old) }
        #expect(try await SmollamaBinary.run(["backup", old], home: home.path).status == 0)
        let backedUp = try await readings()
        try await runFor(readings: 30)
        let hubReadings = try await store(hubHome.path).hubSync.hubMark(origin: node.hex, stream: .readings)
        #expect(hubReadings > backedUp)

        // The hub goes down; the restore cannot sync and says what happens next.
        try await stop(hub)
        let restored = try await SmollamaBinary.run(["restore", old, "--force"], home: home.path)
        try #require(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stdout.contains("could not sync with the hub") && restored.stdout.contains("writes nothing"), "\(restored.stdout)")
        let doctor = try await SmollamaBinary.run(["doctor", "--json", "--hub-timeout", "2"], home: home.path)
        #expect(doctor.stdout.contains("restored from a backup") && doctor.status == 2, "\(doctor.stdout)")
        let notices = try await store(home.path).nodeSync.localMax(origin: node, stream: .notices)

        // The daemon starts but writes nothing while the hub is away.
        let daemon = try start(home.path)
        #expect(try await eventually { daemon.stderr.contains("waiting for the hub") }, "\(daemon.stderr)")
        try await Task.sleep(for: .seconds(2))
        #expect(daemon.process.isRunning)
        #expect(try await readings() == backedUp, "no reading written while the hub is down")
        #expect(try await store(home.path).nodeSync.localMax(origin: node, stream: .notices) == notices)

        // The hub is back: the daemon's first round moves the counters past it, then it writes.
        hub = try start(hubHome.path, port: hubPort)
        #expect(try await eventually(timeout: .seconds(60)) { daemon.stderr.contains("restored store synced with the hub") },
                "\(daemon.stderr.suffix(3000))")
        #expect(try await eventually(timeout: .seconds(60)) { try await readings() > hubReadings + 10 })
        try await stop(daemon)
        #expect(try await SmollamaBinary.run(["sync"], home: home.path).status == 0)
        #expect(try await store(home.path).meta.restorePending() == nil)
        let hubStore = try store(hubHome.path)
        #expect(try await hubStore.hubSync.hubCollisions().isEmpty, "no id the hub held was reused")
        #expect(try await hubStore.hubSync.hubMark(origin: node.hex, stream: .readings) == (try await readings()))
        let listing = try await SmollamaBinary.run(["hub", "nodes"], home: hubHome.path)
        #expect(listing.stdout.contains("restored: \(node.short)") && !listing.stdout.contains("collision:"), "\(listing.stdout)")
        try await stop(hub)
    }

    @Test func scheduledBackupsRunOnTheirIntervalAndKeepTheNewest() async throws {
        let home = try TemporaryDirectory("backup-scheduled")
        _ = try await NodeSetup.initialise(paths: SmollamaPaths(home: home.path), name: "scheduled", role: .alpaca,
                                           sensors: .demo, force: false, now: 1_700_000_000_000)
        let runtime = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:],
                                                 overrides: ["backup.interval=1h", "backup.keep=2", "backup.dir=kept"])
        let clock = ManualClock()
        let wall = Mutex<Int64>(1_700_000_000_000)
        let service = BackupService(runtime: runtime, clock: ServiceClock(clock),
                                    wallMilliseconds: { wall.withLock { $0 } }, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await service.run() }
        defer { task.cancel() }
        let directory = home.path + "/kept"
        func backups() -> [String] { BackupService.backups(in: directory, node: runtime.identity.nodeID) }
        #expect(try await clock.waitForSleepers())
        clock.advance(by: .seconds(3599))
        try await Task.sleep(for: .milliseconds(200))
        #expect(backups().isEmpty, "nothing before the interval has passed")
        for hour in 1...3 {
            wall.withLock { $0 = 1_700_000_000_000 + Int64(hour) * 3_600_000 }
            clock.advance(by: .seconds(hour == 1 ? 1 : 3600))
            #expect(try await eventually { backups().count == min(hour, 2) && clock.sleepers == 1 }, "after hour \(hour): \(backups())")
        }
        // The two newest are kept, and each restores.
        #expect(backups().map { String($0.suffix(23)) } == ["20231115T001320Z.tar.gz", "20231115T011320Z.tar.gz"])
        let target = try TemporaryDirectory("backup-scheduled-restore")
        let restored = try NodeBackup.restore(archive: backups()[1], home: target.path, environment: [:], force: false)
        #expect(restored.nodeID == runtime.identity.nodeID)
    }
}
