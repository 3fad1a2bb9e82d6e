public import Foundation
public import SmollamaCore

/// What `smollama presence --json` prints and the MCP `presence` tool returns: the zone the
/// local times are in, the window length, then one entry per room and window.
public struct PresenceOutput: Codable, Sendable, Hashable {
    public struct Window: Codable, Sendable, Hashable {
        public var room: String
        public var start: UTCMillis
        public var end: UTCMillis
        public var startLocal: String
        public var endLocal: String
        public var state: PresenceState
        public var confidence: Double
        public var facts: [String]
    }

    public var timezone: String
    public var windowMinutes: Int64
    public var windows: [Window]

    public init(windows: [PresenceWindow], timeZone: TimeZone, length: Duration) {
        timezone = timeZone.identifier
        windowMinutes = length.wholeMilliseconds / 60_000
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm"
        self.windows = windows.map { window in
            Window(room: window.room, start: window.start, end: window.end,
                   startLocal: formatter.string(from: window.start.date), endLocal: formatter.string(from: window.end.date),
                   state: window.state, confidence: window.confidence, facts: window.facts)
        }
    }
}
