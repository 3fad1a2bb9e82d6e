import Foundation
import Logging
import SmollamaCore
import SmollamaLLM
import SmollamaMind
import SmollamaStore
import SmollamaTesting
import Synchronization
import Testing

@Suite struct ObservationTests {
    typealias T = HouseTime

    /// Windows of 15 minutes from `start`.
    static func windows(from start: UTCMillis, count: Int) -> [(UTCMillis, UTCMillis)] {
        (0..<count).map { (start + Int64($0) * 15 * T.minute, start + Int64($0 + 1) * 15 * T.minute) }
    }

    @Test func sameSituationOverTwentyFourWindowsIsOneObservationWithSupportTwentyFour() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.wednesday - 7 * T.day, to: T.wednesday + 7 * T.hour)
        let quiet = ObservationDraft(kind: "summary", subjects: ["hallway.motion"],
                                     text: "Hallway motion stayed quiet in this window.", evidenceIDs: ["f0"], importance: 0.1)
        let llm = observationLoop(store, narrator: ScriptedNarrator(otherwise: .text(replyJSON([quiet]))))
        // The night of an ordinary Wednesday: 00:00–06:00 is 24 quiet windows.
        for (start, end) in Self.windows(from: T.wednesday, count: 24) {
            let outcome = try await llm.observe(windowStart: start, windowEnd: end)
            #expect(outcome.generator == .llm)
        }
        let stored = try await store.database.knowledge.recentObservations(limit: 100)
        #expect(stored.count == 1)
        let record = try #require(stored.first?.record)
        #expect(record.support == 24)
        #expect(record.timeStart == T.wednesday)
        #expect(record.timeEnd == T.wednesday + 6 * T.hour)
        #expect(record.generator == .llm)
        // Every repeat is an event: the history of the support count stays in the log.
        #expect(try await store.database.events.eventCounts(streams: [.observations])[.observations] == 24)

        // The rules fallback folds quiet windows the same way.
        let rulesStore = try await TestStore()
        try await seedSimulatedHouse(rulesStore, from: T.wednesday - 7 * T.day, to: T.wednesday + 7 * T.hour)
        let rules = observationLoop(rulesStore, narrator: nil)
        for (start, end) in Self.windows(from: T.wednesday, count: 24) {
            _ = try await rules.observe(windowStart: start, windowEnd: end)
        }
        let rulesStored = try await rulesStore.database.knowledge.recentObservations(limit: 100)
        #expect(rulesStored.count == 1)
        #expect(rulesStored.first?.record.support == 24)
        #expect(rulesStored.first?.record.generator == .rules)
    }

    @Test func similarMeaningMergesAndADifferentOneAddsARow() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.wednesday - 7 * T.day, to: T.wednesday + 2 * T.hour)
        let texts = ["Hallway motion stayed quiet in this window.", "No movement was seen in the hallway.",
                     "The hallway saw no motion at all, nothing stirred."]
        func draft(_ text: String) -> ObservationDraft {
            ObservationDraft(kind: "summary", subjects: ["hallway.motion"], text: text, evidenceIDs: ["f0"], importance: 0.1)
        }
        let narrator = ScriptedNarrator(texts.map { .text(replyJSON([draft($0)])) }, otherwise: .text(replyJSON([draft(texts[0])])))
        let loop = observationLoop(store, narrator: narrator, embedder: GroupEmbedder(groups: [[texts[0], texts[1]]]))
        var merged = 0
        for (start, end) in Self.windows(from: T.wednesday, count: 3) {
            merged += try await loop.observe(windowStart: start, windowEnd: end).merged
        }
        #expect(merged == 1)
        let stored = try await store.database.knowledge.recentObservations(limit: 10).map(\.record)
        #expect(stored.count == 2)
        #expect(stored.first { $0.text == texts[0] }?.support == 2)
        #expect(stored.first { $0.text == texts[2] }?.support == 1)
    }

    @Test func rejectedDraftsAreRetriedOnceThenRulesAreWritten() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.tuesday - 21 * T.day, to: T.tuesday + 4 * T.hour)
        let fabricated = ObservationDraft(kind: "anomaly", subjects: ["hallway.motion"],
                                          text: "Hallway motion fired 7 times at 03:40.", evidenceIDs: ["f0"], importance: 1)
        let narrator = ScriptedNarrator(otherwise: .text(replyJSON([fabricated])))
        let thoughts = Mutex<[ThoughtEvent]>([])
        let loop = observationLoop(store, narrator: narrator, thoughts: { event in thoughts.withLock { $0.append(event) } })
        let outcome = try await loop.observe(windowStart: T.tuesday + 3 * T.hour, windowEnd: T.tuesday + 3 * T.hour + 15 * T.minute)
        #expect(outcome.attempts.count == 2)
        #expect(outcome.attempts.allSatisfy { $0.schemaValid && $0.verified == 0 })
        #expect(outcome.generator == .rules)
        #expect(outcome.attempts[0].failures.first?.contains("7") == true)
        // The retry tells the model what was wrong.
        #expect(narrator.requests.count == 2)
        #expect(narrator.requests[1].messages.last?.content.contains("Rejected") == true)
        // The planted night motion is what the rules write first, grounded in its fact.
        let first = try #require(outcome.stored.first)
        #expect(first.kind == "anomaly")
        #expect(first.text.contains("03:10"))
        #expect(first.subjects == ["hallway.motion"])
        #expect(first.importance >= 0.9)
        #expect(first.evidenceIDs.contains { $0.hasPrefix("hallway.motion/quiet-ended@") })
        // The thought stream saw both attempts: reset, tokens, reset, tokens.
        let events = thoughts.withLock { $0 }
        #expect(events.filter { $0 == .reset }.count == 2)
        #expect(events.contains { if case .token = $0 { true } else { false } })
    }

    @Test func malformedReplyIsRetriedAndLosesNothing() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.wednesday - 7 * T.day, to: T.wednesday + 2 * T.hour)
        let good = ObservationDraft(kind: "summary", subjects: ["hallway.motion"],
                                    text: "Hallway motion stayed quiet in this window.", evidenceIDs: ["f0"], importance: 0.1)
        let narrator = ScriptedNarrator([.text("{\"observations\": [{\"kind\": \"summ"), .text(replyJSON([good]))],
                                        otherwise: .text(replyJSON([good])))
        let loop = observationLoop(store, narrator: narrator)
        let outcome = try await loop.observe(windowStart: T.wednesday, windowEnd: T.wednesday + 15 * T.minute)
        #expect(outcome.attempts.map(\.schemaValid) == [false, true])
        #expect(outcome.attempts[0].failures.first?.contains("schema") == true || outcome.attempts[0].failures.first?.contains("JSON") == true)
        #expect(outcome.generator == .llm)
        #expect(outcome.stored.map(\.text) == [good.text])
    }

    /// The runtime's stop and restart: a real OpenAI client against a port nothing listens on
    /// (connection refused → `unreachable`), swapped back for a working narrator. The live suite
    /// does the same with a real llama-server that is killed and restarted.
    @Test func runtimeStoppedMidRunKeepsWritingRulesAndLLMResumesAfterRestart() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.wednesday - 7 * T.day, to: T.wednesday + 4 * T.hour)
        let good = ObservationDraft(kind: "summary", subjects: ["hallway.motion"],
                                    text: "Hallway motion stayed quiet in this window.", evidenceIDs: ["f0"], importance: 0.1)
        let dead = StreamingNarrator(model: OpenAIClient(url: "http://127.0.0.1:9", model: "smollm2", timeout: .seconds(5),
                                                         retry: .none, logger: .quiet))
        let switchable = SwitchableNarrator(ScriptedNarrator(otherwise: .text(replyJSON([good]))))
        let loop = observationLoop(store, narrator: switchable)
        var generators: [TextGenerator] = []
        for (index, (start, end)) in Self.windows(from: T.wednesday, count: 9).enumerated() {
            if index == 3 { switchable.use(dead) }
            if index == 6 { switchable.use(ScriptedNarrator(otherwise: .text(replyJSON([good])))) }
            let outcome = try await loop.observe(windowStart: start, windowEnd: end)
            #expect(!outcome.stored.isEmpty, "window \(index) wrote nothing")
            if (3..<6).contains(index) {
                #expect(outcome.runtimeDown)
                #expect(outcome.attempts.count == 1)  // no retry against a runtime that is down
            }
            generators.append(outcome.generator)
        }
        #expect(generators == [.llm, .llm, .llm, .rules, .rules, .rules, .llm, .llm, .llm])
    }

    @Test func tickObservesEachFullWindowOnceAndStrongAnomaliesEarly() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.tuesday - 21 * T.day, to: T.tuesday + 4 * T.hour)
        let loop = observationLoop(store, narrator: nil)
        let settle: Int64 = 30_000
        // 02:59:50 + settle: the last full window is 02:30–02:45.
        let first = await loop.tick(now: T.tuesday + 3 * T.hour - 10_000)
        #expect(first?.windowEnd == T.tuesday + 2 * T.hour + 45 * T.minute)
        // 03:00:40: 02:45–03:00 is now complete.
        let second = await loop.tick(now: T.tuesday + 3 * T.hour + settle + 10_000)
        #expect(second?.windowEnd == T.tuesday + 3 * T.hour)
        // 03:05: nothing unusual yet in the running window.
        #expect(await loop.tick(now: T.tuesday + 3 * T.hour + 5 * T.minute + settle) == nil)
        // 03:13: the planted motion at 03:10 is a strong anomaly: observed before the window ends.
        let early = try #require(await loop.tick(now: T.tuesday + 3 * T.hour + 13 * T.minute + settle))
        #expect(early.windowStart == T.tuesday + 3 * T.hour)
        #expect(early.windowEnd == T.tuesday + 3 * T.hour + 13 * T.minute)
        #expect(early.stored.first?.kind == "anomaly")
        // 03:14: already reported, and rate-limited anyway.
        #expect(await loop.tick(now: T.tuesday + 3 * T.hour + 14 * T.minute + settle) == nil)
        // 03:15:40: the full window is observed; the same anomaly sentence raises the early one's support.
        let full = try #require(await loop.tick(now: T.tuesday + 3 * T.hour + 15 * T.minute + settle + 10_000))
        #expect(full.windowEnd == T.tuesday + 3 * T.hour + 15 * T.minute)
        let anomaly = try #require(try await store.database.knowledge.recentObservations(limit: 20).first { $0.record.kind == "anomaly" })
        #expect(anomaly.record.support == 2)
        #expect(anomaly.record.timeEnd == T.tuesday + 3 * T.hour + 15 * T.minute)
    }

    @Test func promptStaysWithinItsBudget() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.tuesday - 21 * T.day, to: T.tuesday + 4 * T.hour)
        let packet = try await EvidenceBuilder(database: store.database)
            .build(windowStart: T.tuesday + 3 * T.hour, windowEnd: T.tuesday + 3 * T.hour + 15 * T.minute)
        let recent = Array(repeating: "Hallway motion stayed quiet in this window, as it does every night here.", count: 3)
        let memories = Array(repeating: "Motion on weekdays is usually between 07:00 and 09:00 in the hallway.", count: 3)
        let bare = ObservationPrompt.build(packet: packet, recent: [], memories: [], maxTokens: 600)
        #expect(bare.estimatedTokens <= 600)
        #expect(bare.trimmed == 0)
        // Memories and earlier observations go first; every evidence line stays.
        let full = ObservationPrompt.build(packet: packet, recent: recent, memories: memories, maxTokens: 600)
        #expect(full.estimatedTokens <= 600)
        for fact in packet.facts {
            #expect(full.messages.last?.content.contains(fact.line) == true, "\(fact.line) was dropped")
        }
        let tight = ObservationPrompt.build(packet: packet, recent: recent, memories: memories, maxTokens: 300)
        #expect(tight.estimatedTokens <= 300)
        #expect(tight.trimmed > 0)
        // The anomaly survives trimming: the most important evidence is kept longest.
        #expect(tight.messages.last?.content.contains("VERY UNUSUAL") == true)
    }

    @Test func observeConfigRefusesUnknownKeysAndBadValues() throws {
        func decode(_ json: String) throws -> ObserveConfig {
            try ConfigDecoding.decode(ObserveConfig.self, from: json)
        }
        #expect(try decode("{}") == ObserveConfig())
        let custom = try decode(#"{"interval": "5m", "similarity": 0.8, "max_prompt_tokens": 400}"#)
        #expect(custom.interval == .minutes(5))
        #expect(custom.maxPromptTokens == 400)
        #expect(throws: (any Error).self) { try decode(#"{"intervall": "5m"}"#) }
        #expect(throws: (any Error).self) { try decode(#"{"interval": "10s"}"#) }
        #expect(throws: (any Error).self) { try decode(#"{"similarity": 1.5}"#) }
        #expect(throws: (any Error).self) { try decode(#"{"max_prompt_tokens": 50}"#) }
    }

    /// One check at start, then one per `checkInterval` of the service's clock; cancelling stops it.
    @Test func serviceChecksEveryIntervalOfItsClockAndStopsWhenCancelled() async throws {
        let store = try await TestStore()
        let loop = observationLoop(store, narrator: nil)
        let ticks = Mutex(0)
        let clock = ManualClock()
        let service = ObservationService(loop: loop, checkInterval: .seconds(60), now: {
            ticks.withLock { $0 += 1 }
            return T.wednesday
        }, clock: clock)
        let task = Task { try await service.run() }
        for expected in 1...3 {
            #expect(try await clock.waitForSleepers(1))
            #expect(ticks.withLock { $0 } == expected)
            clock.advance(by: .seconds(59))
            #expect(clock.sleepers == 1, "not due yet")
            clock.advance(by: .seconds(1))
        }
        #expect(try await clock.waitForSleepers(1))
        task.cancel()
        try await task.value
        #expect(ticks.withLock { $0 } == 4)
    }
}

/// A narrator whose backend the test swaps (runtime stopped, runtime back).
final class SwitchableNarrator: ObservationNarrator, Sendable {
    private let current: Mutex<any ObservationNarrator>
    init(_ narrator: any ObservationNarrator) { current = Mutex(narrator) }
    func use(_ narrator: any ObservationNarrator) { current.withLock { $0 = narrator } }
    func narrate(_ request: ChatRequest, onToken: @escaping @Sendable (String) async -> Void) async throws -> ChatResponse {
        let narrator = current.withLock { $0 }
        return try await narrator.narrate(request, onToken: onToken)
    }
}
