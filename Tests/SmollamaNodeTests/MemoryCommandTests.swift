import Foundation
import SmollamaTesting
import Testing

/// The memory commands as a user runs them: the real binary over a simulated house, no LLM
/// runtime (recall falls back to words, ask shows what it retrieved).
@Suite struct MemoryCommandTests {
    static let offline = [
        "--set", "memory.embeddings=false", "--set", "llm.url=http://127.0.0.1:9", "--set", "llm.retry.attempts=1",
    ]

    func json(_ output: SmollamaBinary.Output) throws -> [String: Any] {
        #expect(output.status == 0, "\(output.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any])
    }

    @Test func memoryCommandsPrintTheToolShapes() async throws {
        try SmollamaBinary.checkBuilt()
        let home = try TemporaryDirectory("memory-cli")
        func run(_ arguments: [String]) async throws -> SmollamaBinary.Output {
            try await SmollamaBinary.run(arguments + Self.offline, home: home.path)
        }
        _ = try await run(["init", "--demo", "--json"])
        #expect(try await run(["simulate", "--days", "15", "--json"]).status == 0)

        let reflected = try json(try await run(["reflect", "--json"]))
        let patterns = try #require(reflected["patterns"] as? [[String: Any]])
        #expect(patterns.contains { $0["sensor"] as? String == "hallway.motion" && $0["days"] as? String == "weekdays" })
        // Routines, and the rooms' presence schedules and typical ranges: more memories than routines.
        #expect(((reflected["created"] as? [String])?.count ?? 0) > patterns.count)
        let again = try await run(["reflect"])
        #expect(again.status == 0 && again.stdout.contains("The living room is usually occupied on weekdays "))
        #expect(again.stdout.contains("0 new memories, 0 refreshed, 0 closed, 0 superseded."), "\(again.stdout)")

        let remembered = try json(try await run(["remember", "The hallway.motion sensor is behind the coat rack.", "--json"]))
        #expect(remembered["source"] as? String == "user")
        #expect(remembered["subjects"] as? [String] == ["hallway.motion"])
        let id = try #require(remembered["id"] as? String)

        let recalled = try json(try await run(["recall", "coat rack", "--json"]))
        let hits = try #require(recalled["hits"] as? [[String: Any]])
        #expect(hits.first?["id"] as? String == id)
        #expect(recalled["vector_path"] as? String == "none")
        let routines = try json(try await run(
            ["recall", "hallway.motion weekdays", "--kind", "memory", "--record-kind", "routine", "--json"]))
        // Words only: the hallway's routines (door and motion) rank close; the motion one is among
        // the first three (since the simulated house occupies rooms in stretches, its text names
        // three blocks and word scores favour the door's shorter one). Without the record kind the
        // hallway's schedule ("The hallway is usually occupied on weekdays …") ranks among them.
        let top = try #require((routines["hits"] as? [[String: Any]])?.prefix(3))
        #expect(top.allSatisfy { $0["kind"] as? String == "routine" })
        let first = try #require(top.first { ($0["metadata"] as? [String: String])?["pattern"] == "hallway.motion|weekdays" })
        #expect(first["valid_from"] != nil && first["confidence"] != nil && first["signals"] as? [String] == ["text"])

        let history = try json(try await run(["history", "hallway.motion", "--from", "6h", "--json"]))
        #expect(history["resolution"] as? String == "5m")
        #expect((history["points"] as? [Any])?.isEmpty == false)
        #expect(history["on_count"] != nil)

        let state = try json(try await run(["state", "living_room.temperature", "--json"]))
        #expect((state["sensors"] as? [[String: Any]])?.first?["unit"] as? String == "°C")

        // Rules, no model: the answer is composed from the tools and cites the routine it used.
        let reading = try json(try await run(["ask", "--rules", "What is the temperature in the living room?", "--json"]))
        #expect(reading["mode"] as? String == "rules")
        #expect((reading["answer"] as? String)?.hasPrefix("The living room temperature is ") == true)
        let usual = try json(try await run(["ask", "--rules", "When is the hallway usually busy?", "--json"]))
        #expect(usual["mode"] as? String == "rules")
        #expect((usual["citations"] as? [String])?.isEmpty == false)
        #expect((usual["answer"] as? String)?.contains(" is usually active on weekdays") == true)
        #expect((usual["answer"] as? String)?.contains("The hallway ") == true)

        // Bad input: clear messages, exit code 1, nothing written.
        let unknown = try await run(["state", "attic.bats"])
        #expect(unknown.status != 0 && unknown.stderr.contains("known sensors: hallway.door"))
        let badTime = try await run(["history", "hallway.motion", "--from", "yesterdayish"])
        #expect(badTime.status != 0 && badTime.stderr.contains("is not a time"))
        let empty = try await run(["remember", "  "])
        #expect(empty.status != 0 && empty.stderr.contains("nothing to remember"))

        // No LLM runtime: ask still answers with what it retrieved, citing it.
        let asked = try json(try await run(["ask", "Where is the hallway motion sensor?", "--json"]))
        #expect(asked["mode"] as? String == "retrieval")
        #expect((asked["citations"] as? [String])?.contains(id) == true)
    }
}
