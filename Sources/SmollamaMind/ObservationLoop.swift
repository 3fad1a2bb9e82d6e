// Over 400 lines: one observation pass (narrate → verify → retry → rules → dedup → write) reads
// as one piece; the service that ticks it is at the end.
import Foundation
public import Logging
public import ServiceLifecycle
public import SmollamaCore
public import SmollamaLLM
public import SmollamaStore

/// What the thought stream shows while the model writes: a reset when a window starts, then tokens.
public enum ThoughtEvent: Sendable, Hashable {
    case reset
    case token(String)
}

/// Lines of memory relevant to a window ("motion on weekdays is usually 07:00–09:00"). The recall
/// module fills this in; the default has none.
public protocol MemoryContextProvider: Sendable {
    func memories(for packet: EvidencePacket, limit: Int) async -> [String]
}

/// No memories: the loop's default until recall is wired in.
public struct NoMemories: MemoryContextProvider {
    public init() {}
    public func memories(for packet: EvidencePacket, limit: Int) async -> [String] { [] }
}

/// Sends a prompt to a model and hands each generated piece to `onToken` as it arrives.
public protocol ObservationNarrator: Sendable {
    func narrate(_ request: ChatRequest, onToken: @escaping @Sendable (String) async -> Void) async throws -> ChatResponse
    /// False: the loop writes by rules without asking (the model failed calibration).
    func trusted() async -> Bool
}

extension ObservationNarrator {
    public func trusted() async -> Bool { true }
}

/// The narrator over a `ChatModel`: streams the reply so the dashboard's thought stream shows it live.
public struct StreamingNarrator: ObservationNarrator {
    public let model: any ChatModel

    public init(model: any ChatModel) { self.model = model }

    public func narrate(_ request: ChatRequest, onToken: @escaping @Sendable (String) async -> Void) async throws
        -> ChatResponse
    {
        var final: ChatResponse?
        // Read to the end of the body even after `.done`: leaving a streamed reply unread made the
        // next request fail on a closed pooled connection ("I/O on closed channel", seen in the bench).
        for try await event in model.streamChat(request) {
            switch event {
            case .delta(let piece): await onToken(piece)
            case .toolCalls: continue
            case .done(let response): final = response
            }
        }
        guard let final else { throw LLMError.truncatedStream(url: model.model, received: "") }
        return final
    }
}

/// How one window went: what was asked, what came back, what was stored.
public struct ObservationOutcome: Sendable, Hashable {
    public struct Attempt: Sendable, Hashable {
        /// The reply decoded into the schema.
        public var schemaValid: Bool
        /// Drafts that passed verification / all drafts.
        public var verified: Int
        public var drafts: Int
        /// Why drafts or the call failed.
        public var failures: [String]
        public var promptTokens: Int?
        public var completionTokens: Int?
        public var seconds: Double
    }

    public var windowStart: UTCMillis
    public var windowEnd: UTCMillis
    public var estimatedPromptTokens: Int
    public var attempts: [Attempt] = []
    /// The model could not be reached: rules were written without asking again.
    public var runtimeDown = false
    public var generator: TextGenerator = .rules
    /// Records as stored (after dedup), in the order written.
    public var stored: [ObservationRecord] = []
    /// How many of them raised the support of an earlier observation instead of adding a row.
    public var merged = 0
    /// The day's digest, when this window ended a local day and its digest was not written yet.
    public var digest: ObservationRecord?
    public var seconds: Double = 0
}

/// Settings of the loop, from `observe:`.
public struct ObservationLoopSettings: Sendable, Hashable {
    public var interval: Duration
    public var earlyMinGap: Duration
    public var dedupWindow: Duration
    public var similarity: Double
    public var maxPromptTokens: Int
    public var maxCompletionTokens: Int
    public var recentObservations: Int
    /// Rollups lag readings by up to the rollup interval: a window is observed this long after it ends.
    public var settle: Duration

    public init(config: ObserveConfig = .init(), settle: Duration = .seconds(30)) {
        interval = config.interval.duration
        earlyMinGap = config.earlyMinGap.duration
        dedupWindow = config.dedupWindow.duration
        similarity = config.similarity
        maxPromptTokens = config.maxPromptTokens
        maxCompletionTokens = config.maxCompletionTokens
        recentObservations = config.recentObservations
        self.settle = settle
    }
}

/// Writes observations: evidence → prompt → model (twice at most) → verification → rules fallback
/// → dedup → one knowledge event per stored record. Never goes silent: a model that is down, slow
/// or wrong yields rules sentences instead.
public actor ObservationLoop {
    let database: SmollamaDatabase
    let origin: NodeID
    let builder: EvidenceBuilder
    let narrator: (any ObservationNarrator)?
    let embedder: (any Embedder)?
    let memories: any MemoryContextProvider
    let digest: DailyDigest?
    let settings: ObservationLoopSettings
    let stamp: @Sendable () async -> ClockStamp
    let thoughts: @Sendable (ThoughtEvent) async -> Void
    let published: @Sendable (ObservationRecord) async -> Void
    let logger: Logger
    let verifier = ObservationVerifier()
    let rules = RulesNarrator()

    /// End of the last full window observed.
    private(set) var lastObservedEnd: UTCMillis?
    private var lastEarly: UTCMillis?
    private var reportedEarly: Set<String> = []
    private var embeddings: [String: [Float]] = [:]
    private var embeddingPausedUntil: Duration?
    /// Times the embedding pause (a manual clock in tests).
    let clock: ServiceClock

    public init(
        database: SmollamaDatabase, origin: NodeID, builder: EvidenceBuilder, narrator: (any ObservationNarrator)?,
        embedder: (any Embedder)? = nil, memories: any MemoryContextProvider = NoMemories(),
        digest: DailyDigest? = nil, settings: ObservationLoopSettings = .init(), stamp: @escaping @Sendable () async -> ClockStamp,
        thoughts: @escaping @Sendable (ThoughtEvent) async -> Void = { _ in },
        published: @escaping @Sendable (ObservationRecord) async -> Void = { _ in }, logger: Logger,
        clock: some Clock<Duration> = ContinuousClock()
    ) {
        self.clock = ServiceClock(clock)
        self.database = database
        self.origin = origin
        self.builder = builder
        self.narrator = narrator
        self.embedder = embedder
        self.memories = memories
        self.digest = digest
        self.settings = settings
        self.stamp = stamp
        self.thoughts = thoughts
        self.published = published
        self.logger = logger
    }

    /// One check at node time `now`: observes the last full window if not done yet, else the
    /// current window early when it holds a new strong anomaly (at most once per `earlyMinGap`).
    @discardableResult
    public func tick(now: UTCMillis) async -> ObservationOutcome? {
        let interval = settings.interval
        let settled = now - settings.settle
        let step = interval.wholeMilliseconds
        let windowEnd = UTCMillis(rawValue: settled.rawValue - ((settled.rawValue % step) + step) % step)
        if lastObservedEnd.map({ $0 < windowEnd }) ?? true {
            if let last = lastObservedEnd, windowEnd - last > interval {
                logger.info("observation windows skipped (node was busy or stopped)",
                            metadata: ["smollama.observe.skipped": "\(Int((windowEnd - last) / interval) - 1)"])
            }
            lastObservedEnd = windowEnd
            reportedEarly.removeAll()
            return await observeLogged(windowStart: windowEnd - interval, windowEnd: windowEnd)
        }
        guard settled - windowEnd >= .seconds(60), lastEarly.map({ now - $0 >= settings.earlyMinGap }) ?? true else { return nil }
        do {
            let packet = try await builder.build(windowStart: windowEnd, windowEnd: settled)
            let fresh = packet.facts.filter { $0.level == .strong && !reportedEarly.contains($0.key) }
            guard !fresh.isEmpty else { return nil }
            lastEarly = now
            reportedEarly.formUnion(fresh.map(\.key))
            logger.info("strong anomaly: observing early", metadata: ["smollama.observe.facts": "\(fresh.map(\.key))"])
            return await observeLogged(windowStart: windowEnd, windowEnd: settled, packet: packet)
        } catch {
            logger.warning("early anomaly check failed; will retry", metadata: ["smollama.error": "\(error)"])
            return nil
        }
    }

    private func observeLogged(windowStart: UTCMillis, windowEnd: UTCMillis, packet: EvidencePacket? = nil) async
        -> ObservationOutcome?
    {
        do {
            return try await observe(windowStart: windowStart, windowEnd: windowEnd, packet: packet)
        } catch is CancellationError {
            logger.info("observation interrupted by shutdown", metadata: ["smollama.observe.window_end": "\(windowEnd)"])
            return nil
        } catch {
            logger.error("observation failed; the next window will try again",
                         metadata: ["smollama.error": "\(error)", "smollama.observe.window_end": "\(windowEnd)"])
            return nil
        }
    }

    /// Observes `[windowStart, windowEnd)`: the whole pipeline, once. Throws only store errors
    /// (a model failure falls back to rules).
    public func observe(windowStart: UTCMillis, windowEnd: UTCMillis, packet given: EvidencePacket? = nil) async throws
        -> ObservationOutcome
    {
        let started = ContinuousClock.now
        let packet: EvidencePacket
        if let given { packet = given } else { packet = try await builder.build(windowStart: windowStart, windowEnd: windowEnd) }
        let recent = try await database.knowledge.recentObservations(limit: 50).filter { $0.origin == origin }
        // A digest is a day's summary, not a window's neighbour: it stays out of the prompt.
        let recentLines = recent.filter { $0.record.kind != DailyDigest.kind }.prefix(settings.recentObservations)
            .map(\.record.text)
        let memoryLines = await memories.memories(for: packet, limit: 3)
        let prompt = ObservationPrompt.build(packet: packet, recent: Array(recentLines), memories: memoryLines,
                                             maxTokens: settings.maxPromptTokens)
        var outcome = ObservationOutcome(windowStart: windowStart, windowEnd: windowEnd,
                                         estimatedPromptTokens: prompt.estimatedTokens)
        var accepted: [ObservationDraft] = []
        if let narrator, await narrator.trusted() {
            var messages = prompt.messages
            for _ in 0..<2 {
                let (attempt, drafts, down, rejection) = await ask(narrator, messages: messages, schema: prompt.schema,
                                                                   packet: packet)
                outcome.attempts.append(attempt)
                if down {
                    outcome.runtimeDown = true
                    break
                }
                if !drafts.isEmpty {
                    accepted = drafts
                    break
                }
                // Retry once, telling the model what was wrong.
                // (Its rejected reply goes along when short; a long one would only cost prompt tokens.)
                if let rejection {
                    messages = prompt.messages
                        + (rejection.raw.isEmpty || rejection.raw.count > 600 ? [] : [.assistant(rejection.raw)])
                        + [.user("Rejected: \(rejection.reason). Use only numbers and ids from the evidence lines.")]
                } else {
                    messages = prompt.messages
                }
            }
        }
        if accepted.isEmpty {
            accepted = rules.drafts(for: packet)
            outcome.generator = .rules
        } else {
            outcome.generator = .llm
        }
        for draft in accepted {
            let (record, merged) = try await store(draft, generator: outcome.generator, packet: packet, recent: recent)
            outcome.stored.append(record)
            if merged { outcome.merged += 1 }
            await published(record)
        }
        // The window that ends a local day: that day's digest, once (its id is the day's).
        if let digest, let day = digest.completedDay(windowStart: windowStart, windowEnd: windowEnd),
           let record = try await digest.write(day: day, stamp: await stamp())
        {
            outcome.digest = record
            await published(record)
        }
        outcome.seconds = Self.seconds(ContinuousClock.now - started)
        logger.debug("observed window", metadata: [
            "smollama.observe.generator": "\(outcome.generator.rawValue)",
            "smollama.observe.stored": "\(outcome.stored.count)", "smollama.observe.merged": "\(outcome.merged)",
            "smollama.observe.attempts": "\(outcome.attempts.count)",
        ])
        return outcome
    }

    struct Rejection {
        var reason: String
        var raw: String
    }

    private func ask(_ narrator: any ObservationNarrator, messages: [ChatMessage], schema: JSONValue,
                     packet: EvidencePacket) async -> (ObservationOutcome.Attempt, [ObservationDraft], Bool, Rejection?)
    {
        let started = ContinuousClock.now
        let request = ChatRequest(
            messages: messages, format: .jsonSchema(name: "observations", schema: schema),
            options: .init(temperature: 0, maxTokens: settings.maxCompletionTokens, seed: 1))
        await thoughts(.reset)
        var attempt = ObservationOutcome.Attempt(schemaValid: false, verified: 0, drafts: 0, failures: [],
                                                 promptTokens: nil, completionTokens: nil, seconds: 0)
        let thoughts = self.thoughts
        do {
            let response = try await narrator.narrate(request) { token in await thoughts(.token(token)) }
            attempt.promptTokens = response.usage?.promptTokens
            attempt.completionTokens = response.usage?.completionTokens
            attempt.seconds = Self.seconds(ContinuousClock.now - started)
            let reply: ObservationReply
            do {
                reply = try decodeStructured(ObservationReply.self, from: response.text)
            } catch {
                attempt.failures.append("\(error)")
                logger.info("model reply does not fit the schema; retrying or using rules",
                            metadata: ["smollama.error": "\(error)"])
                return (attempt, [], false, Rejection(reason: "not valid JSON for the schema", raw: response.text))
            }
            attempt.schemaValid = true
            attempt.drafts = reply.observations.count
            var passed: [ObservationDraft] = []
            for (draft, failure) in verifier.verify(reply: reply.observations, against: packet) {
                if let failure {
                    attempt.failures.append(failure.description)
                    logger.info("observation draft rejected", metadata: [
                        "smollama.observe.reason": "\(failure)", "smollama.observe.text": "\(draft.text)",
                    ])
                } else {
                    passed.append(draft)
                }
            }
            attempt.verified = passed.count
            let reason = attempt.failures.first ?? "no observations"
            return (attempt, passed, false, passed.isEmpty ? Rejection(reason: reason, raw: response.text) : nil)
        } catch let error as LLMError {
            attempt.seconds = Self.seconds(ContinuousClock.now - started)
            attempt.failures.append(error.description)
            let down = Self.isRuntimeDown(error)
            logger.warning(down ? "LLM runtime unavailable; writing rules observations" : "LLM call failed",
                           metadata: ["smollama.error": "\(error)"])
            if case .truncated(let partial, _, _) = error {
                return (attempt, [], false, Rejection(reason: "the reply was too long", raw: partial))
            }
            // Anything else (a dropped connection, an error inside the stream): the same prompt once more.
            return (attempt, [], down, nil)
        } catch {
            attempt.seconds = Self.seconds(ContinuousClock.now - started)
            attempt.failures.append("\(error)")
            return (attempt, [], true, nil)
        }
    }

    /// Failures that say "nobody is there" rather than "the answer was bad": no retry, rules now.
    static func isRuntimeDown(_ error: LLMError) -> Bool {
        switch error {
        case .unreachable, .loading, .busy, .timeout, .runtimeFailed, .modelNotFound:
            true
        case .http(_, let status, _):
            status >= 500
        // A dropped connection may be a stale pooled one, or a runtime that was just restarted:
        // worth one more try (a runtime that is really gone then answers `unreachable`).
        case .connectionLost, .truncatedStream, .streamError, .truncated, .invalidResponse, .schemaViolation,
             .unsupported, .file:
            false
        }
    }

    /// Writes a draft as a new observation, or raises the support of the one it repeats.
    private func store(_ draft: ObservationDraft, generator: TextGenerator, packet: EvidencePacket,
                       recent: [StoredObservation]) async throws -> (ObservationRecord, Bool) {
        let cited = draft.evidenceIDs.compactMap(packet.fact(id:))
        let subjects = Array(Set(draft.subjects + cited.compactMap(\.sensor?.rawValue))).sorted()
        let importance = cited.filter { $0.kind != .window }.map(\.importance).max() ?? 0.1
        var record = ObservationRecord(
            id: origin.newRecordID(), kind: draft.kind, subjects: subjects,
            text: draft.text.trimmingCharacters(in: .whitespacesAndNewlines),
            evidenceIDs: cited.map(\.key), importance: importance, generator: generator, support: 1,
            timeStart: packet.windowStart, timeEnd: packet.windowEnd,
            confidence: ObservationConfidence(settings: builder.settings).of(cited))
        var merged = false
        if let existing = await duplicate(of: record, among: recent) {
            var update = existing
            update.support += 1
            update.timeStart = min(existing.timeStart, record.timeStart)
            update.timeEnd = max(existing.timeEnd, record.timeEnd)
            update.importance = max(existing.importance, record.importance)
            update.confidence = max(existing.confidence ?? 0, record.confidence ?? 0)
            update.evidenceIDs = Array((existing.evidenceIDs + record.evidenceIDs).suffix(12))
            record = update
            merged = true
        }
        try await database.knowledge.record(record, origin: origin, stamp: await stamp())
        // After the write: a slow or absent embedding model never delays an observation.
        if !merged, let vector = await embed(record.text) { embeddings[record.id] = vector }
        return (record, merged)
    }

    /// The earlier observation a record repeats: same kind and subjects within the dedup window,
    /// then the same normalised text, then (with an embedder) a similar enough meaning.
    func duplicate(of record: ObservationRecord, among recent: [StoredObservation]) async -> ObservationRecord? {
        // The freshest version of each candidate (this window's earlier drafts may have updated it).
        var candidates: [ObservationRecord] = []
        for stored in recent where stored.record.kind == record.kind && stored.record.subjects == record.subjects
            && stored.record.timeEnd >= record.timeStart - settings.dedupWindow
        {
            let current = (try? await database.knowledge.observation(id: stored.record.id))?.record ?? stored.record
            candidates.append(current)
        }
        let text = ObservationVerifier.normalised(record.text)
        if let same = candidates.first(where: { ObservationVerifier.normalised($0.text) == text }) { return same }
        guard !candidates.isEmpty, embedder != nil, let vector = await embed(record.text) else { return nil }
        var best: (ObservationRecord, Double)?
        for candidate in candidates {
            var other = embeddings[candidate.id]
            if other == nil {
                other = await embed(candidate.text)
                embeddings[candidate.id] = other
            }
            guard let other else { continue }
            let similarity = Double(zip(vector, other).reduce(Float(0)) { $0 + $1.0 * $1.1 })
            if similarity >= settings.similarity, similarity > (best?.1 ?? -1) { best = (candidate, similarity) }
        }
        return best?.0
    }

    private func embed(_ text: String) async -> [Float]? {
        guard let embedder else { return nil }
        // After a failure, dedup runs on keys and text alone for a while instead of waiting on
        // retries against an embedding runtime that is down.
        let now = clock.now
        if let until = embeddingPausedUntil, now < until { return nil }
        do {
            let vector = try await embedder.embed([text]).vectors.first
            embeddingPausedUntil = nil
            return vector
        } catch {
            embeddingPausedUntil = now + .seconds(600)
            logger.info("embedding model unavailable; dedup by text only for 10 minutes",
                        metadata: ["smollama.error": "\(error)"])
            return nil
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// The loop as a Service: checks every `checkInterval` of `clock` until graceful shutdown.
public struct ObservationService: Service {
    let loop: ObservationLoop
    let checkInterval: Duration
    let now: @Sendable () async -> UTCMillis
    let clock: ServiceClock

    public init(loop: ObservationLoop, checkInterval: Duration, now: @escaping @Sendable () async -> UTCMillis,
                clock: some Clock<Duration> = ContinuousClock()) {
        self.clock = ServiceClock(clock)
        self.loop = loop
        self.checkInterval = checkInterval
        self.now = now
    }

    public func run() async throws {
        let loop = self.loop
        let interval = checkInterval
        let now = self.now
        let clock = self.clock
        do {
            try await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    await loop.tick(now: await now())
                    try await clock.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            return
        }
    }
}
