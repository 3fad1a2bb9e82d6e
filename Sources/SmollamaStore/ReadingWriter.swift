import AsyncAlgorithms
public import Logging
public import ServiceLifecycle
public import SmollamaCore

/// Batches accepted readings and notices into few large commits (never one transaction per
/// reading). A reading is "accepted" once `submit` returns; it is durable after the next flush,
/// which happens every `flushInterval` or as soon as `maxBatch` readings wait.
///
/// A failed commit (disk full, database busy) keeps the batch and retries on the next tick;
/// only past `maxBuffered` waiting readings are the oldest dropped, counted and logged.
public actor ReadingWriter {
    public struct Configuration: Sendable, Hashable {
        public var flushInterval: Duration
        public var maxBatch: Int
        public var maxBuffered: Int

        public init(flushInterval: Duration = .seconds(1), maxBatch: Int = 1000, maxBuffered: Int = 200_000) {
            self.flushInterval = flushInterval
            self.maxBatch = maxBatch
            self.maxBuffered = maxBuffered
        }
    }

    public struct Statistics: Sendable, Hashable, Codable {
        public var accepted = 0
        public var committed = 0
        public var dropped = 0
        public var failedCommits = 0
        public var lastError: String?
    }

    public nonisolated let database: SmollamaDatabase
    public nonisolated let origin: NodeID
    public nonisolated let configuration: Configuration
    private let logger: Logger
    private var readings: [PendingReading] = []
    private var notices: [PendingNotice] = []
    public private(set) var statistics = Statistics()

    public init(database: SmollamaDatabase, origin: NodeID, configuration: Configuration = .init(), logger: Logger) {
        self.database = database
        self.origin = origin
        self.configuration = configuration
        self.logger = logger
    }

    public func submit(_ reading: PendingReading) {
        readings.append(reading)
        statistics.accepted += 1
        if readings.count >= configuration.maxBatch { flush() }
    }

    public func submit(_ batch: [PendingReading]) {
        readings.append(contentsOf: batch)
        statistics.accepted += batch.count
        if readings.count >= configuration.maxBatch { flush() }
    }

    public func submit(notice: PendingNotice) {
        notices.append(notice)
    }

    public var pendingCount: Int { readings.count + notices.count }

    /// Commits everything waiting. Errors are logged and counted; the data stays queued.
    public func flush() {
        guard !readings.isEmpty || !notices.isEmpty else { return }
        do {
            // Commit in slices of maxBatch so one flush never holds the write lock for long.
            while !readings.isEmpty || !notices.isEmpty {
                let slice = Array(readings.prefix(configuration.maxBatch))
                try database.commit(readings: slice, notices: notices, origin: origin)
                readings.removeFirst(slice.count)
                notices.removeAll()
                statistics.committed += slice.count
            }
        } catch {
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
                    "write queue full: dropped the oldest readings",
                    metadata: ["smollama.writer.dropped": "\(excess)"])
            }
        }
    }
}

/// Runs the writer's flush timer; on graceful shutdown it flushes once more and returns.
public struct ReadingWriterService: Service {
    public let writer: ReadingWriter

    public init(writer: ReadingWriter) { self.writer = writer }

    public func run() async throws {
        let interval = writer.configuration.flushInterval
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            await writer.flush()
        }
        await writer.flush()
    }
}
