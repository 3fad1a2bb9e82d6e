import Foundation
import Logging
import ServiceLifecycle
import SmollamaCore
import SmollamaLLM
import SmollamaMind
import SmollamaStore
import SmollamaTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The observation loop against the real llama-server + SmolLM2-135M (and all-MiniLM-L6-v2 for
/// dedup), the shared `.liveRuntime`. Tagged `.live`, so scripts/test runs it in the serialized
/// live step, not with the rest. Fails (never skips) when scripts/setup-llm.sh has not been run.
@Suite(.serialized, .tags(.live), .liveRuntime, .timeLimit(.minutes(10)))
struct ObservationLoopLiveLlamaServerTests {
    typealias T = HouseTime

    /// A compressed Tuesday, sampled: four 2-hour windows (the planted 03:10 motion in the first),
    /// the chat llama-server killed before the third and restarted by the supervisor before the
    /// fourth. Every stored observation is either verified model text or rules; none holds a number
    /// absent from the evidence it cites. (Four windows, not twelve: on this shared 2-core machine
    /// SmolLM2 decodes ~2 tokens/s under load, see BENCHMARKS.md.)
    @Test func compressedDayIsGroundedAndSurvivesARuntimeRestart() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.tuesday - 14 * T.day, to: T.tuesday + T.day)
        let runtime = try LiveRuntime.require()
        let config = runtime.config, supervisor = runtime.supervisor
        let client = OpenAIClient(url: config.url, model: config.chatModel, embeddingURL: config.embeddingURL,
                                  embeddingModel: config.embeddingModel, timeout: .seconds(240), retry: .none,
                                  logger: .quiet)
        let loop = observationLoop(store, narrator: StreamingNarrator(model: client), embedder: client)
        var outcomes: [ObservationOutcome] = []
        var packets: [EvidencePacket] = []
        let builder = EvidenceBuilder(database: store.database)
        for (index, hour) in [2, 8, 12, 18].enumerated() {
            let start = T.tuesday + Int64(hour) * T.hour
            if index == 2 {
                // The runtime dies: this window must still be written, by the rules.
                let pid = try #require(supervisor.pids()["chat"])
                // Observed at once: the supervisor needs its back-off plus a model load to bring it back.
                kill(pid, SIGKILL)
                let outcome = try await loop.observe(windowStart: start, windowEnd: start + 2 * T.hour)
                #expect(outcome.runtimeDown)
                #expect(outcome.attempts.count == 1)
                #expect(outcome.generator == .rules)
                #expect(!outcome.stored.isEmpty)
                outcomes.append(outcome)
                packets.append(try await builder.build(windowStart: start, windowEnd: start + 2 * T.hour))
                #expect(try await eventually(timeout: .seconds(120)) { (supervisor.pids()["chat"] ?? pid) != pid })
                #expect(await supervisor.waitUntilReady(timeout: .seconds(120)))
                continue
            }
            let outcome = try await loop.observe(windowStart: start, windowEnd: start + 2 * T.hour)
            #expect(!outcome.stored.isEmpty, "window \(index) wrote nothing")
            outcomes.append(outcome)
            packets.append(try await builder.build(windowStart: start, windowEnd: start + 2 * T.hour))
        }
        // After the restart the model is asked again and replies: a reply decoded or not, or one
        // cut off at the token cap — whether SmolLM2's reply fits the schema is the model's
        // quality, not the restart's (it did not in 2 of 4 CI runs on 2026-12-07; the same
        // window before a restart usually does), so the restart is judged by the reply arriving.
        let after = outcomes[3...]
        #expect(after.allSatisfy { !$0.runtimeDown && !$0.attempts.isEmpty })
        #expect(after.contains { outcome in
            outcome.attempts.contains { $0.schemaValid || $0.completionTokens != nil || $0.failures.contains { $0.contains("cut off") } }
        }, "\(after.map { $0.attempts.map(\.failures) })")

        // Every stored observation: rules, or model text whose numbers are all in its cited evidence.
        let facts = Dictionary(packets.flatMap(\.facts).map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let windows = packets.flatMap { $0.facts.filter { $0.kind == .window } }
        let sensors = packets.first?.sensors ?? [:]
        let stored = try await store.database.knowledge.recentObservations(limit: 500).map(\.record)
        for record in stored {
            let cited = record.evidenceIDs.compactMap { facts[$0] }
            #expect(cited.count == record.evidenceIDs.count, "unknown evidence keys in \(record.evidenceIDs)")
            let renamed = cited.enumerated().map { offset, fact in
                var fact = fact
                fact.id = "c\(offset)"
                return fact
            }
            let packet = EvidencePacket(windowStart: record.timeStart, windowEnd: record.timeEnd,
                                        facts: renamed + windows, sensors: sensors)
            let draft = ObservationDraft(kind: record.kind, subjects: record.subjects, text: record.text,
                                         evidenceIDs: renamed.map(\.id).isEmpty ? [windows[0].id] : renamed.map(\.id),
                                         importance: record.importance)
            #expect(ObservationVerifier().verify(draft, against: packet) == nil, "\(record.generator): \(record.text)")
        }
        let llm = stored.filter { $0.generator == .llm }.count
        let attempts = outcomes.flatMap(\.attempts)
        let report = """
            live observation loop: \(outcomes.count) windows, \(stored.count) observations stored \
            (\(llm) llm, \(stored.count - llm) rules), \(attempts.count) model attempts, \
            \(attempts.filter(\.schemaValid).count) schema-valid, \
            \(attempts.map(\.verified).reduce(0, +))/\(attempts.map(\.drafts).reduce(0, +)) drafts verified, \
            \(outcomes.map(\.merged).reduce(0, +)) merged as repeats
            """
        print(report)
        // The planted night motion is among what was written.
        #expect(stored.contains { $0.subjects.contains("hallway.motion") && $0.timeStart <= T.tuesday + 3 * T.hour + 10 * T.minute
            && $0.timeEnd > T.tuesday + 3 * T.hour + 10 * T.minute })
    }
}
