public import SmollamaCore
public import SmollamaStore

/// One line of the node's log (the dashboard's log and `smollama logs`): an event made readable.
public struct LogEntry: Codable, Sendable, Hashable {
    public var time: UTCMillis
    public var hlc: HLCTimestamp
    public var stream: EventStream
    public var type: String
    public var subject: String
    public var message: String
    public var clockQuality: ClockQuality
    /// The whole record when the entry is an observation (absent otherwise).
    public var observation: ObservationRecord?

    public init(event: Event) {
        time = event.stamp.hlc.time
        hlc = event.stamp.hlc
        stream = event.stream
        type = event.type
        clockQuality = event.stamp.quality
        let body: EventBody?
        switch EventBody.Kind(rawValue: event.type) {
        case .observation? where event.stream == .observations:
            body = ObservationPayload.read(event.payload).map(EventBody.observation) ?? (try? event.body)
        case .memoryVersion?, .compacted?, .rollups?:
            // Shown by the start of their payload, as an unreadable one is: decoding would be thrown away.
            body = nil
        default:
            body = try? event.body
        }
        (subject, message) = Self.describe(event, body)
        if case .observation(let record) = body { observation = record }
    }

    enum CodingKeys: String, CodingKey {
        case time, hlc, stream, type, subject, message, clockQuality, observation
    }

    /// The observation as the HTTP and `--json` contracts pin it (Tests/Contracts): the record's
    /// fields without `confidence`, which lives in the event and the `observations` table.
    struct ContractObservation: Encodable {
        var record: ObservationRecord

        enum CodingKeys: String, CodingKey {
            case id, kind, subjects, text, evidenceIDs, importance, generator, support, timeStart, timeEnd
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(record.id, forKey: .id)
            try container.encode(record.kind, forKey: .kind)
            try container.encode(record.subjects, forKey: .subjects)
            try container.encode(record.text, forKey: .text)
            try container.encode(record.evidenceIDs, forKey: .evidenceIDs)
            try container.encode(record.importance, forKey: .importance)
            try container.encode(record.generator, forKey: .generator)
            try container.encode(record.support, forKey: .support)
            try container.encode(record.timeStart, forKey: .timeStart)
            try container.encode(record.timeEnd, forKey: .timeEnd)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(time, forKey: .time)
        try container.encode(hlc, forKey: .hlc)
        try container.encode(stream, forKey: .stream)
        try container.encode(type, forKey: .type)
        try container.encode(subject, forKey: .subject)
        try container.encode(message, forKey: .message)
        try container.encode(clockQuality, forKey: .clockQuality)
        try container.encodeIfPresent(observation.map(ContractObservation.init(record:)), forKey: .observation)
    }

    /// Subject and message; an event this build cannot read (unknown type, payload that does not
    /// decode) shows its type and the start of its payload.
    static func describe(_ event: Event, _ body: EventBody?) -> (String, String) {
        switch body {
        case .sensorFault(let fault):
            return (fault.sensor.rawValue, "faulty after \(fault.consecutiveFailures) failed reads: \(fault.reason)")
        case .sensorRecovered(let fault):
            return (fault.sensor.rawValue, "recovered")
        case .binaryChanged(let change):
            return (change.sensor.rawValue, change.value == 1 ? "on" : "off")
        case .clockQuality(let change):
            return ("clock", change.quality == .synced
                    ? "wall clock trusted"
                    : "wall clock not trusted (it said \(change.wallMilliseconds) ms); counting on the monotonic clock")
        case .observation(let record):
            // Generator and support first: a narrow terminal cuts the end of the line, not them.
            return (record.kind, "[\(record.generator.rawValue), support \(record.support)] \(record.text)")
        case .memoryVersion, .compacted, .rollups, .unknown, nil:
            return (event.stream.rawValue, "\(event.type): \(String(decoding: event.payload.prefix(200), as: UTF8.self))")
        }
    }

    /// The streams `smollama logs` shows.
    public static let streams: [EventStream] = [.control, .notices, .observations, .memories]

    /// The newest `limit` entries, oldest first.
    /// With `origin` (on a hub: another node's log), that node's entries at their repaired times
    /// (`events_timed`: stamps taken under an untrusted clock re-timed from its clock anchors).
    public static func recent(_ database: SmollamaDatabase, limit: Int, streams: [EventStream] = streams,
                              origin: NodeID? = nil) async throws -> [LogEntry]
    {
        guard let origin else {
            return try await database.events.recentEvents(streams: streams, limit: limit).reversed().map(LogEntry.init(event:))
        }
        return try await database.events.recentTimedEvents(origin: origin, streams: streams, limit: limit).reversed().map {
            var entry = LogEntry(event: $0.event)
            entry.time = $0.time
            return entry
        }
    }

    /// Entries written after `hlc`, oldest first.
    public static func after(_ hlc: HLCTimestamp, in database: SmollamaDatabase, limit: Int,
                             streams: [EventStream] = streams) async throws -> [LogEntry]
    {
        try await database.events.fetch(streams: streams, after: hlc, limit: limit).map(LogEntry.init(event:))
    }
}
