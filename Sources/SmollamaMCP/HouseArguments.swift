import Foundation
public import SmollamaCore
import SmollamaStore

/// Times as the CLI's `--since/--from/--to` and the MCP tools take them: a duration back from
/// now (`24h`, `7d`), an ISO 8601 time (with an offset, or `Z`), a date (UTC midnight) or Unix
/// milliseconds. Nil when the text is none of these.
public enum ToolTime {
    public static func parse(_ text: String, now: UTCMillis) -> UTCMillis? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let duration = ConfigDuration(parsing: trimmed) { return now - duration.duration }
        if let ms = Int64(trimmed) { return UTCMillis(rawValue: ms) }
        let full = ISO8601DateFormatter()
        if let date = full.date(from: trimmed) { return UTCMillis(date) }
        full.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = full.date(from: trimmed) { return UTCMillis(date) }
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        if let date = dateOnly.date(from: trimmed) { return UTCMillis(date) }
        return nil
    }
}

// MARK: - The tools' arguments (one type per tool; `fields` is its schema)

/// `recall`: the CLI's `smollama recall QUERY [--kind] [--record-kind] [--sensor] [--node] [--since] [--all] [--top]`.
public struct RecallArguments: ToolArguments, Equatable {
    public var query: String
    public var kind: String?
    public var recordKinds: [String]?
    public var sensors: [String]?
    public var nodes: [String]?
    public var since: String?
    public var includeClosed: Bool?
    public var top: Int?

    enum CodingKeys: String, CodingKey {
        case query, kind, sensors, nodes, since, top
        case recordKinds = "record_kinds"
        case includeClosed = "include_closed"
    }

    public static let fields = [
        ArgumentField("query", .text, required: true, "what to look for, in words"),
        ArgumentField("kind", .choice(["memory", "observation"]), "only memories or only observations"),
        ArgumentField("record_kinds", .strings, "only these record kinds (routine, fact, anomaly, digest, ...)"),
        ArgumentField("sensors", .strings, "only items about these sensor keys (e.g. hallway.motion)"),
        ArgumentField("nodes", .strings, "only items from these nodes: a name, an id or an id prefix"),
        ArgumentField("since", .time, "only items from then on"),
        ArgumentField("include_closed", .boolean, "also memories that no longer hold (default false)"),
        ArgumentField("top", .integer(1...100), "how many hits (default 5)"),
    ]
}

/// `history`: `smollama history SENSOR [--node] [--from] [--to]`. The resolution follows the
/// range as on the CLI (5-minute buckets up to two days, hourly beyond); the result names it.
public struct HistoryArguments: ToolArguments, Equatable {
    public var sensor: String
    public var from: String?
    public var to: String?
    public var node: String?

    public static let fields = [
        ArgumentField("sensor", .text, required: true, "sensor key, e.g. living_room.temperature"),
        ArgumentField("from", .time, "start (default 24h back)"),
        ArgumentField("to", .time, "end (default now)"),
        ArgumentField("node", .string, "on the hub: another node's sensor (its name, id or id prefix)"),
    ]
}

/// `current_state`: `smollama state [SENSOR...]`.
public struct CurrentStateArguments: ToolArguments, Equatable {
    public var sensors: [String]?

    public static let fields = [ArgumentField("sensors", .strings, "sensor keys (default: all)")]
}

/// `observations`: what the node (or, on the hub, any node) observed in a time range; the CLI's
/// `smollama logs --observations` shows the same records.
public struct ObservationsArguments: ToolArguments, Equatable {
    public var from: String?
    public var to: String?
    public var kind: String?
    public var node: String?
    public var limit: Int?

    public static let fields = [
        ArgumentField("from", .time, "observations whose span starts from then (default 24h back)"),
        ArgumentField("to", .time, "... and before then (default now)"),
        ArgumentField("kind", .string, "only this kind (anomaly, activity, trend, fault, summary, digest, ...)"),
        ArgumentField("node", .string, "only this node: its name, id or id prefix"),
        ArgumentField("limit", .integer(1...500), "at most this many, newest first (default 100)"),
    ]
}

/// `memories`: with a query, `smollama recall QUERY --kind memory`; without one, the memories
/// that hold (now, or at `valid_at`), newest first.
public struct MemoriesArguments: ToolArguments, Equatable {
    public var query: String?
    public var validAt: String?
    public var kind: String?
    public var limit: Int?

    enum CodingKeys: String, CodingKey {
        case query, kind, limit
        case validAt = "valid_at"
    }

    public static let fields = [
        ArgumentField("query", .text, "what to look for, in words (default: list them)"),
        ArgumentField("valid_at", .time, "only memories that held at this time (default now)"),
        ArgumentField("kind", .string, "only this kind (routine, baseline, range, fact, ...)"),
        ArgumentField("limit", .integer(1...100), "at most this many (default 20)"),
    ]
}

/// `presence`: `smollama presence [ROOM] [--from] [--to]`.
public struct PresenceArguments: ToolArguments, Equatable {
    public var room: String?
    public var from: String?
    public var to: String?

    public static let fields = [
        ArgumentField("room", .string, "only this room, e.g. hallway"),
        ArgumentField("from", .time, "start (default 24h back)"),
        ArgumentField("to", .time, "end (default now)"),
    ]
}

/// `remember`: `smollama remember TEXT [--sensor]`. The only write; off with `mcp.allow_writes: false`.
public struct RememberArguments: ToolArguments, Equatable {
    public var text: String
    public var sensors: [String]?

    public static let fields = [
        ArgumentField("text", .text, required: true, "the fact, in one or two sentences (at most 1000 characters)"),
        ArgumentField("sensors", .strings, "sensor keys it is about (default: the keys named in the text)"),
    ]
}

// MARK: - Outputs the CLI has no type for

/// `observations` output: the records, each with the node that wrote it (hex).
public struct ObservationsOutput: Codable, Sendable, Hashable {
    public struct Item: Codable, Sendable, Hashable {
        public var origin: String
        public var observation: ObservationRecord
    }
    public var from: UTCMillis
    public var to: UTCMillis
    public var observations: [Item]
}

/// `memories` output: the memory records, each with the node that first wrote it (hex).
public struct MemoriesOutput: Codable, Sendable, Hashable {
    public struct Item: Codable, Sendable, Hashable {
        public var origin: String
        public var memory: MemoryRecord
    }
    public var query: String?
    public var validAt: UTCMillis
    public var memories: [Item]
}

extension ObservationsOutput.Item {
    init(_ stored: StoredObservation) { self.init(origin: stored.origin.hex, observation: stored.record) }
}

extension MemoriesOutput.Item {
    init(_ stored: StoredMemory) { self.init(origin: stored.firstOrigin.hex, memory: stored.record) }
}
