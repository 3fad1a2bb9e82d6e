import Foundation
public import Logging
public import ServiceLifecycle
public import SmollamaCore
public import SmollamaLLM
public import SmollamaMind
public import SmollamaStore

/// Observes past windows: `smollama observe --from --to` over imported history, and the
/// daemon's back-fill of windows missed while it was stopped. Uses the observation loop's own
/// pipeline (evidence → narrator → verifier → rules → dedup) window by window, then reflection.
public enum ObserveHistory {
    /// What a run over past windows stored.
    public struct Report: Sendable, Codable, Hashable {
        public var from: UTCMillis
        public var to: UTCMillis
        public var windows = 0
        /// Observations written as new rows / merged into an earlier one, per generator.
        public var stored: [String: Int] = [:]
        public var merged = 0
        /// Daily digests written (one per local day whose last window was observed here).
        public var digests = 0
        /// Windows where the model was asked and failed or was too slow (rules wrote them).
        public var modelFallbacks = 0
        public var memoriesCreated = 0
        public var memoriesRefreshed = 0
        public var memoriesClosed = 0
        public var seconds = 0.0
    }

    /// The loop as the daemon builds it, with `narrator` (nil: rules only).
    public static func loop(runtime: NodeRuntime, clock: NodeClock, narrator: (any ObservationNarrator)?,
                            logger: Logger) -> ObservationLoop {
        ObservationLoop(
            database: runtime.database, origin: runtime.identity.nodeID, builder: evidenceBuilder(runtime: runtime),
            narrator: narrator, embedder: nil, digest: digest(runtime: runtime),
            settings: ObservationLoopSettings(config: runtime.config.observe),
            stamp: { await clock.eventStamp() }, logger: logger)
    }

    /// The daily digest writer of the live loop and of past windows alike.
    static func digest(runtime: NodeRuntime) -> DailyDigest {
        DailyDigest(database: runtime.database, origin: runtime.identity.nodeID,
                    settings: evidenceBuilder(runtime: runtime).settings,
                    windowLength: runtime.config.observe.interval.duration)
    }

    /// The evidence builder of live and past windows alike (one place decides baselines and local time).
    static func evidenceBuilder(runtime: NodeRuntime) -> EvidenceBuilder {
        let settings = EvidenceSettings(baselineDays: runtime.config.observe.baselineDays,
                                        timeZone: runtime.config.node.timeZone, areas: runtime.config.sensorAreas)
        return EvidenceBuilder(database: runtime.database, settings: settings)
    }

    /// The whole windows of `interval` inside [from, to) (aligned as the live loop aligns them).
    public static func windows(from: UTCMillis, to: UTCMillis, interval: Duration) -> [Range<UTCMillis>] {
        let length = interval.wholeMilliseconds
        guard length > 0 else { return [] }
        var start = from.rawValue - ((from.rawValue % length) + length) % length
        if start < from.rawValue { start += length }
        var windows: [Range<UTCMillis>] = []
        while start <= to.rawValue - length {
            windows.append(UTCMillis(rawValue: start)..<UTCMillis(rawValue: start + length))
            start += length
        }
        return windows
    }

    /// Observes each window of [from, to), then reflects at the end of each day and at `to`.
    public static func observe(
        loop: ObservationLoop, reflection: Reflection?, from: UTCMillis, to: UTCMillis, interval: Duration,
        progress: (Int, Int) -> Void = { _, _ in }
    ) async throws -> Report {
        let started = ContinuousClock.now
        var report = Report(from: from, to: to)
        let windows = windows(from: from, to: to, interval: interval)
        var reflectAt = Set(windows.map { UTCMillis(rawValue: $0.upperBound.rawValue - $0.upperBound.rawValue % 86_400_000) }
            .filter { $0 > from })
        reflectAt.insert(to)
        for (index, window) in windows.enumerated() {
            try Task.checkCancellation()
            let outcome = try await loop.observe(windowStart: window.lowerBound, windowEnd: window.upperBound)
            report.windows += 1
            report.merged += outcome.merged
            if outcome.digest != nil { report.digests += 1 }
            report.stored[outcome.generator.rawValue, default: 0] += outcome.stored.count - outcome.merged
            if !outcome.attempts.isEmpty, outcome.generator == .rules { report.modelFallbacks += 1 }
            progress(index + 1, windows.count)
        }
        if let reflection {
            for time in reflectAt.sorted() {
                let reflected = try await reflection.reflect(now: time)
                report.memoriesCreated += reflected.created.count
                report.memoriesRefreshed += reflected.refreshed.count
                report.memoriesClosed += reflected.closed.count
            }
        }
        report.seconds = HistoryImport.seconds(ContinuousClock.now - started)
        return report
    }
}

/// A narrator that gives up on a model slower than `budget` per window (or not reachable at
/// all): that call and every later one fail at once as a timeout, which the loop treats as
/// "runtime down" and answers with rules. So a back-fill of many windows never waits on a slow model.
public actor SlowModelGuard: ObservationNarrator {
    let inner: any ObservationNarrator
    let budget: Duration
    public private(set) var gaveUp = false

    public init(_ inner: any ObservationNarrator, budget: Duration) {
        self.inner = inner
        self.budget = budget
    }

    public nonisolated func narrate(_ request: ChatRequest, onToken: @escaping @Sendable (String) async -> Void)
        async throws -> ChatResponse
    {
        let gaveUp = await self.gaveUp
        guard !gaveUp else { throw LLMError.timeout(url: "observation back-fill", after: budget) }
        let inner = self.inner
        let budget = self.budget
        do {
            return try await withThrowingTaskGroup(of: ChatResponse?.self) { group in
                group.addTask { try await inner.narrate(request, onToken: onToken) }
                group.addTask {
                    try await Task.sleep(for: budget)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let response = first else {
                    throw LLMError.timeout(url: "observation back-fill", after: budget)
                }
                return response
            }
        } catch let error as LLMError {
            switch error {
            case .timeout, .unreachable: await giveUp()  // slow or absent: rules for the rest
            default: break
            }
            throw error
        }
    }

    private func giveUp() { gaveUp = true }
}

/// At start, observes the windows missed while the daemon was stopped (at most `observe.backfill`
/// back), oldest first, then finishes; the live loop observes from the last full window on.
public struct ObservationBackfillService: Service {
    let loop: ObservationLoop
    let database: SmollamaDatabase
    let origin: NodeID
    let interval: Duration
    let horizon: Duration
    let settle: Duration
    let now: @Sendable () async -> UTCMillis
    let logger: Logger

    public init(loop: ObservationLoop, database: SmollamaDatabase, origin: NodeID, interval: Duration, horizon: Duration,
                settle: Duration = .seconds(30), logger: Logger, now: @escaping @Sendable () async -> UTCMillis) {
        self.loop = loop
        self.database = database
        self.origin = origin
        self.interval = interval
        self.horizon = horizon
        self.settle = settle
        self.logger = logger
        self.now = now
    }

    /// The missed windows at node time `now`: after the last observed window end (never before
    /// `now - horizon`), up to the window before the one the live loop observes first.
    public func missedWindows(now: UTCMillis) async throws -> [Range<UTCMillis>] {
        let length = interval.wholeMilliseconds
        guard horizon > .zero, length > 0, let last = try await database.knowledge.lastObservedEnd(origin: origin) else {
            return []
        }
        let settled = (now - settle).rawValue
        let liveFirstStart = UTCMillis(rawValue: settled - ((settled % length) + length) % length) - interval
        return ObserveHistory.windows(from: max(last, now - horizon), to: liveFirstStart, interval: interval)
    }

    /// Observes the missed windows; returns how many.
    @discardableResult
    public func backfill() async throws -> Int {
        let windows = try await missedWindows(now: await now())
        guard let first = windows.first, let last = windows.last else { return 0 }
        logger.info("observing windows missed while stopped", metadata: [
            "smollama.observe.backfill.windows": "\(windows.count)",
        ])
        let report = try await ObserveHistory.observe(
            loop: loop, reflection: nil, from: first.lowerBound, to: last.upperBound, interval: interval)
        logger.info("back-fill done", metadata: [
            "smollama.observe.backfill.windows": "\(report.windows)",
            "smollama.observe.backfill.stored": "\(report.stored)",
        ])
        return report.windows
    }

    public func run() async throws {
        do {
            _ = try await cancelWhenGracefulShutdown { try await backfill() }
        } catch is CancellationError {
            return
        } catch {
            logger.error("observation back-fill failed; live observations go on",
                         metadata: ["smollama.error": "\(error)"])
        }
    }
}

extension ObservationBackfillService {
    /// The daemon's back-fill, when observations are on and `observe.backfill` is above zero.
    /// The model writes while it answers within `observe.backfill_model_budget`; then rules.
    static func services(runtime: NodeRuntime, clock: NodeClock, logger: Logger)
        -> [ServiceGroupConfiguration.ServiceConfiguration]
    {
        let observe = runtime.config.observe
        guard observe.enabled, observe.backfill.milliseconds > 0 else { return [] }
        let narrator = SlowModelGuard(StreamingNarrator(model: runtime.config.llm.makeChatModel(logger: logger)),
                                      budget: observe.backfillModelBudget.duration)
        let service = ObservationBackfillService(
            loop: ObserveHistory.loop(runtime: runtime, clock: clock, narrator: narrator, logger: logger),
            database: runtime.database, origin: runtime.identity.nodeID, interval: observe.interval.duration,
            horizon: observe.backfill.duration, logger: logger
        ) { await clock.now() }
        return [.init(service: service, successTerminationBehavior: .ignore,
                      serviceName: "observation-backfill")]
    }
}
