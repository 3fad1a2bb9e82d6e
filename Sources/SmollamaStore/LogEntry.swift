public import SmollamaCore

/// One line of the node's log (`smollama logs`): an event made readable.
public struct LogEntry: Codable, Sendable, Hashable {
    public var time: Int64
    public var hlc: HLCTimestamp
    public var stream: EventStream
    public var type: String
    public var subject: String
    public var message: String
    public var clockQuality: ClockQuality
    /// The whole record when the entry is an observation (absent otherwise).
    public var observation: ObservationRecord?

    public init(event: Event) {
        time = event.stamp.hlc.milliseconds
        hlc = event.stamp.hlc
        stream = event.stream
        type = event.type
        clockQuality = event.stamp.quality
        (subject, message) = Self.describe(event)
        if event.type == KnowledgeEvent.observation {
            observation = try? EventPayload.decode(ObservationRecord.self, from: event.payload)
        }
    }

    static func describe(_ event: Event) -> (String, String) {
        switch event.type {
        case Notice.sensorFault:
            if let fault = try? EventPayload.decode(Notice.SensorFault.self, from: event.payload) {
                return (fault.sensor.rawValue, "faulty after \(fault.consecutiveFailures) failed reads: \(fault.reason)")
            }
        case Notice.sensorRecovered:
            if let fault = try? EventPayload.decode(Notice.SensorFault.self, from: event.payload) {
                return (fault.sensor.rawValue, "recovered")
            }
        case Notice.binaryChanged:
            if let change = try? EventPayload.decode(Notice.BinaryChanged.self, from: event.payload) {
                return (change.sensor.rawValue, change.value == 1 ? "on" : "off")
            }
        case Notice.clockQuality:
            if let change = try? EventPayload.decode(Notice.ClockQualityChanged.self, from: event.payload) {
                return ("clock", change.quality == .synced
                        ? "wall clock trusted"
                        : "wall clock not trusted (it said \(change.wallMilliseconds) ms); counting on the monotonic clock")
            }
        case KnowledgeEvent.observation:
            if let record = try? EventPayload.decode(ObservationRecord.self, from: event.payload) {
                // Generator and support first: a narrow terminal cuts the end of the line, not them.
                return (record.kind, "[\(record.generator.rawValue), support \(record.support)] \(record.text)")
            }
        default:
            break
        }
        return (event.stream.rawValue, "\(event.type): \(String(decoding: event.payload.prefix(200), as: UTF8.self))")
    }

    /// The streams `smollama logs` shows.
    public static let streams: [EventStream] = [.control, .notices, .observations, .memories]

    /// The newest `limit` entries, oldest first.
    public static func recent(_ database: SmollamaDatabase, limit: Int, streams: [EventStream] = streams) async throws
        -> [LogEntry]
    {
        try await database.events.recentEvents(streams: streams, limit: limit).reversed().map(LogEntry.init(event:))
    }

    /// Entries written after `hlc`, oldest first.
    public static func after(_ hlc: HLCTimestamp, in database: SmollamaDatabase, limit: Int,
                             streams: [EventStream] = streams) async throws -> [LogEntry]
    {
        try await database.events.fetch(streams: streams, after: hlc, limit: limit).map(LogEntry.init(event:))
    }
}
