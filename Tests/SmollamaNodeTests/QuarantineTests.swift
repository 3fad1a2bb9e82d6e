import Foundation
import SmollamaCore
import SmollamaNode
import SmollamaStore
import SmollamaTesting
import Testing

/// Issue 18: a damaged store file crash-looped the daemon (every start failed on it).
@Suite struct QuarantineTests {
    @Test func aCorruptStoreIsMovedAsideAndTheNodeStartsAfresh() async throws {
        try SmollamaBinary.checkBuilt()
        let home = try TemporaryDirectory("quarantine")
        #expect(try await SmollamaBinary.run(["init", "--demo", "--name", "shed"], home: home.path).status == 0)
        let first = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: [])
        let incarnation = first.identity.incarnation
        let file = first.paths.databaseFile
        // What a power cut on a failing SD card can leave: the header and pages overwritten.
        let garbage = Data(repeating: 0x5A, count: 16_384)
        try garbage.write(to: URL(fileURLWithPath: file))
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file + suffix) }

        let runtime = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: [])
        #expect(runtime.identity.incarnation == incarnation + 1, "a new history: peers can tell")
        let kept = NodeRuntime.quarantined(paths: runtime.paths)
        #expect(kept.count == 1)
        #expect(try Data(contentsOf: URL(fileURLWithPath: try #require(kept.first))) == garbage, "kept as it was")
        #expect(try await runtime.database.storeStatus().readingCount == 0)

        let status = try await SmollamaBinary.run(["status"], home: home.path)
        #expect(status.status == 0 && status.stdout.contains("DAMAGED"), "\(status.stdout)\(status.stderr)")
        let json = try await SmollamaBinary.run(["status", "--json"], home: home.path)
        #expect(json.stdout.contains("quarantine/smollama-"), "\(json.stdout)")
    }
}
