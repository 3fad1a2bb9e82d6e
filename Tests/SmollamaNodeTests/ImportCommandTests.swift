import Foundation
import SmollamaTesting
import Testing

/// `smollama import` and `smollama observe` as a user runs them: the real binary, a real file.
@Suite struct ImportCommandTests {
    @Test func importThenObserveFromTheCommandLine() async throws {
        try SmollamaBinary.checkBuilt()
        let home = try TemporaryDirectory("import-cli")
        func run(_ arguments: [String]) async throws -> SmollamaBinary.Output {
            try await SmollamaBinary.run(arguments + ["--set", "llm.url=http://127.0.0.1:9"], home: home.path)
        }
        _ = try await run(["init", "--demo", "--json"])
        var lines = ["Time,Temp (C),Door"]
        for minute in stride(from: 0, to: 2 * 1440, by: 5) {
            let hour = minute / 60 % 24, day = 2 + minute / 1440
            lines.append(String(format: "2026-03-%02d %02d:%02d:00,%.1f,%@", day, hour, minute % 60,
                                19 + Double(minute % 120) / 60, minute % 240 == 0 ? "open" : "closed"))
        }
        lines.insert("2026-03-02 00:02:00,cold,closed", at: 3)
        let file = try home.write("history.csv", lines.joined(separator: "\n"))
        let maps = ["--map", "Temp (C)=kitchen.temperature:°C", "--map", "Door=kitchen.door", "--timezone", "UTC"]

        let strict = try await run(["import", file, "--strict"] + maps)
        #expect(strict.status == 1 && strict.stdout.contains("line 4: column 'Temp (C)': 'cold'"))
        #expect(strict.stdout.contains("nothing was stored"))
        let imported = try await run(["import", file, "--json"] + maps)
        #expect(imported.status == 0, "\(imported.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(imported.stdout.utf8)) as? [String: Any])
        #expect(summary["added"] as? Int == 2 * 576 && summary["bad"] as? Int == 1)
        #expect((summary["badLines"] as? [[String: Any]])?.first?["line"] as? Int == 4)
        let again = try await run(["import", file] + maps)
        #expect(again.status == 0 && again.stdout.contains("nothing added"))
        #expect(again.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 })

        let observed = try await run(["observe", "--from", "2026-03-03T00:00Z", "--to", "2026-03-03T06:00Z", "--rules"])
        #expect(observed.status == 0, "\(observed.stderr)")
        #expect(observed.stdout.contains("Observed 24 windows"))
        let logs = try await run(["logs", "--observations", "--json"])
        #expect(logs.status == 0 && logs.stdout.contains("kitchen.door"))
    }
}
