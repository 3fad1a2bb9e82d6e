import AsyncAlgorithms
public import Logging
public import ServiceLifecycle
public import SmollamaCore

/// Batches accepted readings and notices into few large commits (never one transaction per
/// reading). A reading is "accepted" once `submit` returns; it is durable after the next flush,
/// which happens every `flushInterval` or as soon as `maxBatch` readings wait.
///
/// A failed commit (disk full, database busy) keeps the batch and retries on the next tick;
/// only past `maxBuffered` waiting readings (or `maxBufferedNotices` notices: a sensor failing
/// every second during a full disk adds one each time) are the oldest dropped, counted and logged.
public actor ReadingWriter {
    public struct Configuration: Sendable, Hashable {
        public var flushInterval: Duration
        public var maxBatch: Int
        public var maxBuffered: Int
        public var maxBufferedNotices: Int

        public init(flushInterval: Duration = .seconds(1), maxBatch: Int = 1000, maxBuffered: Int = 200_000,
                    maxBufferedNotices: Int = 10_000) {
            self.flushInterval = flushInterval
            self.maxBatch = maxBatch
            self.maxBuffered = maxBuffered
            self.maxBufferedNotices = maxBufferedNotices
        }
    }

    public struct Statistics: Sendable, Hashable, Codable {
        public var accepted = 0
        public var committed = 0
        public var dropped = 0
        public var droppedNotices = 0
        public var failedCommits = 0
        public var lastError: String?
    }

    public nonisolated let database: SmollamaDatabase
    public nonisolated let origin: NodeID
    public nonisolated let configuration: Configuration
    private let logger: Logger
    private var readings: [PendingReading] = []
    private var notices: [PendingNotice] = []
    private var draining: Task<Void, Never>?
    /// Readings and notices taken out of the queue by a commit still running.
    private var inFlight = 0
    public private(set) var statistics = Statistics()

    public init(database: SmollamaDatabase, origin: NodeID, configuration: Configuration = .init(), logger: Logger) {
        self.database = database
        self.origin = origin
        self.configuration = configuration
        self.logger = logger
    }

    public func submit(_ reading: PendingReading) async {
        readings.append(reading)
        statistics.accepted += 1
        if readings.count >= configuration.maxBatch { await flush() }
    }

    public func submit(_ batch: [PendingReading]) async {
        readings.append(contentsOf: batch)
        statistics.accepted += batch.count
        if readings.count >= configuration.maxBatch { await flush() }
    }

    public func submit(notice: PendingNotice) {
        notices.append(notice)
        if notices.count > configuration.maxBufferedNotices {
            let excess = notices.count - configuration.maxBufferedNotices
            notices.removeFirst(excess)
            if statistics.droppedNotices == 0 {
                logger.critical("notice queue full while commits fail: dropping the oldest notices",
                                metadata: ["smollama.writer.queued_notices": "\(notices.count)"])
            }
            statistics.droppedNotices += excess
        }
    }

    public var pendingCount: Int { readings.count + notices.count + inFlight }

    /// Commits everything waiting and returns when it is committed (or the commit failed: then
    /// it is logged, counted and stays queued). One drain runs at a time; a caller arriving
    /// meanwhile waits for it and then drains what is left, so returning always means "done".
    public func flush() async {
        while let running = draining { await running.value }
        guard !readings.isEmpty || !notices.isEmpty else { return }
        let drain = Task { await self.drain() }
        draining = drain
        await drain.value
    }

    private func drain() async {
        defer { draining = nil }
        while !readings.isEmpty || !notices.isEmpty {
            // Take a slice out of the queue before suspending, so submits during the commit
            // append behind it and nothing is committed twice.
            let slice = Array(readings.prefix(configuration.maxBatch))
            let sliceNotices = notices
            readings.removeFirst(slice.count)
            notices.removeAll()
            inFlight = slice.count + sliceNotices.count
            do {
                try await database.readings.commit(readings: slice, notices: sliceNotices, origin: origin)
                inFlight = 0
                statistics.committed += slice.count
            } catch {
                inFlight = 0
                readings.insert(contentsOf: slice, at: 0)
                notices.insert(contentsOf: sliceNotices, at: 0)
                recordFailure(error)
                return
            }
        }
    }

    private func recordFailure(_ error: any Error) {
        statistics.failedCommits += 1
        statistics.lastError = "\(error)"
        logger.error(
            "could not commit readings; keeping them queued and retrying",
            metadata: ["smollama.writer.queued": "\(readings.count)", "smollama.error": "\(error)"])
        if readings.count > configuration.maxBuffered {
            let excess = readings.count - configuration.maxBuffered
            readings.removeFirst(excess)
            statistics.dropped += excess
            logger.critical(
                "write queue full: dropped the oldest readings", metadata: ["smollama.writer.dropped": "\(excess)"])
        }
    }
}

/// Runs the writer's flush timer; on graceful shutdown it flushes once more and returns.
public struct ReadingWriterService: Service {
    let writer: ReadingWriter

    public init(writer: ReadingWriter) { self.writer = writer }

    public func run() async throws {
        let interval = writer.configuration.flushInterval
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            await writer.flush()
        }
        await writer.flush()
    }
}
