import Foundation
public import Logging
public import SmollamaCore
public import SmollamaLLM
public import SmollamaStore

/// A recall hit as tools and `--json` show it.
public struct RecallHitView: Codable, Sendable, Hashable {
    public var id: String
    /// `memory` or `observation`.
    public var type: String
    public var kind: String
    public var text: String
    public var subjects: [String]
    public var score: Double
    public var signals: [RecallSignal]
    public var scores: RecallScores
    /// The node that wrote it (hex).
    public var origin: String
    public var importance: Double
    // Memories
    public var confidence: Double?
    public var source: String?
    public var validFrom: UTCMillis?
    public var validTo: UTCMillis?
    public var createdAt: UTCMillis?
    public var expiredAt: UTCMillis?
    public var supersedes: String?
    public var metadata: [String: String]?
    // Observations
    public var timeStart: UTCMillis?
    public var timeEnd: UTCMillis?
    public var generator: String?
    public var support: Int?

    public init(_ hit: RecallHit) {
        id = hit.id
        text = hit.text
        score = (hit.score * 10_000).rounded() / 10_000
        signals = hit.signals
        scores = hit.scores
        switch hit.item {
        case .memory(let stored):
            let record = stored.record
            type = "memory"
            kind = record.kind
            subjects = record.subjects
            origin = stored.firstOrigin.hex
            importance = record.importance
            confidence = record.confidence
            source = record.source.rawValue
            validFrom = record.validFrom
            validTo = record.validTo
            createdAt = record.createdAt
            expiredAt = record.expiredAt
            supersedes = record.supersedes
            metadata = record.metadata
            support = record.support
        case .observation(let stored):
            let record = stored.record
            type = "observation"
            kind = record.kind
            subjects = record.subjects
            origin = stored.origin.hex
            importance = record.importance
            timeStart = record.timeStart
            timeEnd = record.timeEnd
            generator = record.generator.rawValue
            support = record.support
        }
    }
}

/// `recall` output.
public struct RecallOutput: Codable, Sendable, Hashable {
    public var query: String
    public var hits: [RecallHitView]
    public var vectorPath: RecallResult.VectorPath
    public var vectorProblem: String?
}

/// `remember` output: the memory written.
public struct RememberOutput: Codable, Sendable, Hashable {
    public var id: String
    public var text: String
    public var subjects: [String]
    public var source: String
    public var createdAt: UTCMillis
    /// Whether it was embedded right away (else the background indexer will).
    public var embedded: Bool
}

/// `history` output: rollups of one sensor.
public struct HistoryOutput: Codable, Sendable, Hashable {
    public struct Point: Codable, Sendable, Hashable {
        public var start: UTCMillis
        public var count: Int64
        public var min: Double?
        public var mean: Double?
        public var max: Double?
        public var last: Double?
        /// Binary sensors: times it turned on, and ms spent on.
        public var onCount: Int64?
        public var onDurationMs: Int64?
    }
    public var sensor: String
    public var name: String
    public var kind: String
    public var unit: String
    public var from: UTCMillis
    public var to: UTCMillis
    /// `5m` or `1h`.
    public var resolution: String
    public var points: [Point]
    /// Over the whole range.
    public var min: Double?
    public var mean: Double?
    public var max: Double?
    public var onCount: Int64?
    public var onDurationMs: Int64?
}

/// `current_state` output.
public struct StateOutput: Codable, Sendable, Hashable {
    public struct Sensor: Codable, Sendable, Hashable {
        public var sensor: String
        public var name: String
        public var kind: String
        public var unit: String
        public var value: Double?
        public var time: UTCMillis?
        public var ageSeconds: Int64?
        public var status: String
        public var hourMin: Double?
        public var hourMean: Double?
        public var hourMax: Double?
    }
    public var now: UTCMillis
    public var sensors: [Sensor]
}

/// What a tool call produced, for the model and for citations.
public struct ToolOutput: Sendable, Hashable {
    public var name: String
    /// JSON text (an `{"error": …}` object when the call failed).
    public var content: String
    /// Observation/memory ids the output contains.
    public var citations: [String]
    public var failed: Bool
}

public enum MindToolError: Error, CustomStringConvertible, Equatable {
    case unknownSensor(String, known: [String])
    case emptyText
    case textTooLong(Int)
    case invalidRange(from: UTCMillis, to: UTCMillis)
    case unknownTool(String)
    case badArguments(tool: String, reason: String)

    public var description: String {
        switch self {
        case .unknownSensor(let name, let known):
            "no sensor '\(name)' in this store; known sensors: \(known.isEmpty ? "none yet" : known.joined(separator: ", "))"
        case .emptyText: "nothing to remember: the text is empty"
        case .textTooLong(let count): "a memory is at most 1000 characters (got \(count)); split it into several"
        case .invalidRange(let from, let to): "the time range is empty: from \(from) is not before to \(to)"
        case .unknownTool(let name): "no tool named '\(name)'; tools: recall, remember, history, current_state"
        case .badArguments(let tool, let reason): "bad arguments for \(tool): \(reason)"
        }
    }
}

/// The mind's tools: the LLM calls them in `ask`, and each is a CLI command with `--json`
/// printing the same JSON the model sees.
public struct MindTools: Sendable {
    public let database: SmollamaDatabase
    public let recall: Recall
    public let node: NodeID
    /// Embeds a remembered memory at once when set (else the background indexer does).
    public let indexer: EmbeddingIndexer?
    let stamp: @Sendable () async -> ClockStamp
    let now: @Sendable () -> UTCMillis
    let logger: Logger

    public init(
        database: SmollamaDatabase, recall: Recall, node: NodeID, indexer: EmbeddingIndexer?, logger: Logger,
        now: @escaping @Sendable () -> UTCMillis = { UTCMillis.now() },
        stamp: @escaping @Sendable () async -> ClockStamp
    ) {
        self.database = database
        self.recall = recall
        self.node = node
        self.indexer = indexer
        self.logger = logger
        self.now = now
        self.stamp = stamp
    }

    // MARK: - The tools

    public func recall(_ query: RecallQuery) async throws -> RecallOutput {
        let result = try await recall.searchWithDetails(query)
        return RecallOutput(
            query: query.text, hits: result.hits.map(RecallHitView.init), vectorPath: result.vectorPath,
            vectorProblem: result.vectorProblem)
    }

    /// A user-asserted memory (source `user`). Sensor keys named in the text become its subjects.
    public func remember(_ text: String, subjects: [String]? = nil, kind: String = "fact",
                         metadata: [String: String] = [:], source: MemorySource = .user) async throws -> RememberOutput {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw MindToolError.emptyText }
        guard trimmed.count <= 1000 else { throw MindToolError.textTooLong(trimmed.count) }
        let known = try await database.readings.registeredSensors().map(\.descriptor.id.rawValue)
        let about = subjects ?? known.filter { trimmed.contains($0) }
        let time = now()
        let record = MemoryRecord(
            id: node.newRecordID(), kind: kind, subjects: about, text: trimmed, confidence: 1, importance: 0.7,
            validFrom: time, createdAt: time, source: source, metadata: metadata)
        try await database.knowledge.record(record, origin: node, stamp: await stamp())
        var embedded = false
        if let indexer {
            do {
                embedded = try await indexer.indexPending(limit: 64) > 0
            } catch {
                logger.info("memory stored; embedding waits for the runtime", metadata: ["smollama.recall.error": "\(error)"])
            }
        }
        return RememberOutput(
            id: record.id, text: trimmed, subjects: about, source: source.rawValue, createdAt: time, embedded: embedded)
    }

    /// Rollups of one sensor: 5-minute buckets up to two days, hourly beyond.
    /// `node` (on a hub): another node's sensor, from the rollups it synced.
    public func history(sensor: String, from: UTCMillis, to: UTCMillis, node: NodeID? = nil) async throws -> HistoryOutput {
        guard from < to else { throw MindToolError.invalidRange(from: from, to: to) }
        let sensors = if let node {
            try await database.hubReadings.sensors(node: node)
        } else {
            try await database.readings.registeredSensors().map(\.descriptor)
        }
        guard let descriptor = sensors.first(where: { $0.id.rawValue == sensor }) else {
            throw MindToolError.unknownSensor(sensor, known: sensors.map(\.id.rawValue).sorted())
        }
        let resolution: Rollup.Resolution = to - from <= .seconds(2 * 86_400) ? .fiveMinutes : .hour
        let rollups = if let node {
            try await database.hubReadings.rollups(node: node, sensor: descriptor.id, resolution: resolution,
                                                   from: resolution.bucketStart(from), to: to)
        } else {
            try await database.readings.rollups(sensor: descriptor.id, resolution: resolution, from: resolution.bucketStart(from), to: to)
        }
        let binary = descriptor.kind == .binary
        let points = rollups.map { rollup in
            HistoryOutput.Point(
                start: rollup.bucketStart, count: rollup.count, min: rollup.count > 0 ? rollup.min : nil,
                mean: rollup.count > 0 ? Self.round(rollup.mean) : nil, max: rollup.count > 0 ? rollup.max : nil,
                last: rollup.count > 0 ? rollup.last : nil, onCount: binary ? rollup.onCount : nil,
                onDurationMs: binary ? rollup.onDuration : nil)
        }
        let withValues = rollups.filter { $0.count > 0 }
        let count = withValues.map(\.count).reduce(0, +)
        return HistoryOutput(
            sensor: sensor, name: descriptor.name, kind: descriptor.kind.rawValue,
            unit: descriptor.unit, from: from, to: to,
            resolution: resolution == .hour ? "1h" : "5m", points: points,
            min: withValues.map(\.min).min(),
            mean: count > 0 ? Self.round(withValues.map(\.sum).reduce(0, +) / Double(count)) : nil,
            max: withValues.map(\.max).max(),
            onCount: binary ? rollups.map(\.onCount).reduce(0, +) : nil,
            onDurationMs: binary ? rollups.map(\.onDuration).reduce(0, +) : nil)
    }

    /// The latest value and health of the given sensors (all when nil or empty).
    public func currentState(sensors wanted: [String]? = nil) async throws -> StateOutput {
        let time = now()
        let summaries = try await database.sensorSummaries(now: time)
        let known = summaries.map(\.sensor.id.rawValue)
        if let wanted {
            for name in wanted where !known.contains(name) {
                throw MindToolError.unknownSensor(name, known: known.sorted())
            }
        }
        let chosen = summaries.filter { wanted?.isEmpty ?? true ? true : wanted?.contains($0.sensor.id.rawValue) == true }
        return StateOutput(
            now: time,
            sensors: chosen.map { summary in
                StateOutput.Sensor(
                    sensor: summary.sensor.id.rawValue, name: summary.sensor.name, kind: summary.sensor.kind.rawValue,
                    unit: summary.sensor.unit, value: summary.lastValue, time: summary.lastTime,
                    ageSeconds: summary.lastTime.map { (time - $0).components.seconds }, status: summary.status,
                    hourMin: summary.hourMin, hourMean: summary.hourMean.map(Self.round), hourMax: summary.hourMax)
            })
    }

    static func round(_ value: Double) -> Double { (value * 100).rounded() / 100 }

    // MARK: - For the model

    /// The tools as the model sees them.
    public static let definitions: [ToolDefinition] = [
        ToolDefinition(
            name: "recall",
            description: "Search remembered routines, facts and past observations of this home. Returns items with ids.",
            parameters: [
                "type": "object",
                "properties": [
                    "query": ["type": "string", "description": "what to look for, in words"],
                    "kind": ["type": "string", "enum": ["memory", "observation"]],
                    "sensor": ["type": "string", "description": "only items about this sensor key"],
                    "since_hours": ["type": "number", "description": "only items from the last N hours"],
                    "include_closed": ["type": "boolean", "description": "also memories that no longer hold"],
                ],
                "required": ["query"],
            ]),
        ToolDefinition(
            name: "remember",
            description: "Store a fact the user states, so it can be recalled later.",
            parameters: [
                "type": "object", "properties": ["text": ["type": "string"]], "required": ["text"],
            ]),
        ToolDefinition(
            name: "history",
            description: "Aggregated values of one sensor over the last hours (min/mean/max, activations for binary sensors).",
            parameters: [
                "type": "object",
                "properties": [
                    "sensor": ["type": "string", "description": "sensor key, e.g. hallway.motion"],
                    "hours": ["type": "number", "description": "how far back, default 24"],
                ],
                "required": ["sensor"],
            ]),
        ToolDefinition(
            name: "current_state",
            description: "The latest value and health of sensors (all of them when none are named).",
            parameters: [
                "type": "object",
                "properties": ["sensors": ["type": "array", "items": ["type": "string"]]],
            ]),
    ]

    /// Runs a call the model made. Failures come back as `{"error": …}` for the model to read.
    public func execute(_ call: ToolCall) async -> ToolOutput {
        do {
            let args = call.arguments
            switch call.name {
            case "recall":
                guard let text = args["query"]?.stringValue else {
                    throw MindToolError.badArguments(tool: "recall", reason: "'query' (a string) is required")
                }
                var query = RecallQuery(text: text, topK: 5)
                if let kind = args["kind"]?.stringValue { query.filter.kinds = RecallItemKind(rawValue: kind).map { [$0] } }
                if let sensor = args["sensor"]?.stringValue, !sensor.isEmpty { query.filter.sensors = [sensor] }
                if let hours = args["since_hours"]?.doubleValue { query.filter.from = now() - .milliseconds(Int64(hours * 3_600_000)) }
                if case .bool(true)? = args["include_closed"] { query.filter.validOnly = false }
                let output = try await recall(query)
                return ToolOutput(name: call.name, content: try Self.json(output), citations: output.hits.map(\.id), failed: false)
            case "remember":
                guard let text = args["text"]?.stringValue else {
                    throw MindToolError.badArguments(tool: "remember", reason: "'text' (a string) is required")
                }
                let output = try await remember(text)
                return ToolOutput(name: call.name, content: try Self.json(output), citations: [output.id], failed: false)
            case "history":
                guard let sensor = args["sensor"]?.stringValue else {
                    throw MindToolError.badArguments(tool: "history", reason: "'sensor' (a string) is required")
                }
                let hours = max(1, min(24 * 60, args["hours"]?.doubleValue ?? 24))
                let end = now()
                var output = try await history(sensor: sensor, from: end - .milliseconds(Int64(hours * 3_600_000)), to: end)
                output.points = Array(output.points.suffix(48))  // keep the prompt small
                return ToolOutput(name: call.name, content: try Self.json(output), citations: [], failed: false)
            case "current_state":
                let sensors = args["sensors"]?.arrayValue?.compactMap(\.stringValue)
                let output = try await currentState(sensors: sensors)
                return ToolOutput(name: call.name, content: try Self.json(output), citations: [], failed: false)
            default:
                throw MindToolError.unknownTool(call.name)
            }
        } catch {
            let message = (try? Self.json(["error": "\(error)"])) ?? "{\"error\":\"tool failed\"}"
            return ToolOutput(name: call.name, content: message, citations: [], failed: true)
        }
    }

    /// The JSON every tool output is shown in (snake_case keys, sorted), to the model and on `--json`.
    public static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .snakeCaseWords
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
