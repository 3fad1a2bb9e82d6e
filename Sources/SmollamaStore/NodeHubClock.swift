import Foundation
import GRDB
public import SmollamaCore

/// How this node's clock compares with the hub's, as measured at the last sync handshake
/// (`smollama status` shows it).
public struct HubClockReading: Codable, Sendable, Hashable {
    /// This node's wall clock minus the hub's clock (positive: the node is ahead).
    public var offsetMilliseconds: Int64
    /// Half the handshake's round trip: the hub's time is known to ± this.
    public var uncertaintyMilliseconds: Int64
    /// The hub's time when it was measured.
    public var measuredAt: UTCMillis
    /// Whether the node's stamps follow the hub's time (its wall clock is untrusted), so they
    /// are trusted; false when the wall clock is trusted and wins.
    public var followsHub: Bool

    public init(offsetMilliseconds: Int64, uncertaintyMilliseconds: Int64, measuredAt: UTCMillis, followsHub: Bool) {
        self.offsetMilliseconds = offsetMilliseconds
        self.uncertaintyMilliseconds = uncertaintyMilliseconds
        self.measuredAt = measuredAt
        self.followsHub = followsHub
    }
}

extension NodeSyncStore {
    public func recordHubClock(_ reading: HubClockReading) async throws {
        let text = String(decoding: try JSONEncoder().encode(reading), as: UTF8.self)
        try await writer.write { db in
            try db.execute(
                sql: "INSERT INTO meta (key, value) VALUES ('hub_clock', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [text])
        }
    }

    /// The last measurement (nil before the first sync).
    public func hubClock() async throws -> HubClockReading? {
        let text = try await writer.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'hub_clock'") }
        return try text.map { try JSONDecoder().decode(HubClockReading.self, from: Data($0.utf8)) }
    }
}
