public import Foundation
public import SmollamaCore
public import SmollamaStore

/// Presence computed on demand from the stored 5-minute rollups (`smollama presence`): nothing is
/// stored, so a re-run after an import or with more history gives the better answer.
public struct PresenceReader: Sendable {
    public let database: SmollamaDatabase
    public let inference: PresenceInference
    public let areas: [SensorID: String]
    /// Days of rollups before `from` that the room's thresholds are learned from.
    public let historyDays: Int

    public init(database: SmollamaDatabase, timeZone: TimeZone, areas: [SensorID: String] = [:], historyDays: Int = 14) {
        self.database = database
        inference = PresenceInference(timeZone: timeZone)
        self.areas = areas
        self.historyDays = historyDays
    }

    /// Rooms that have a sensor presence can read, sorted.
    public func rooms() async throws -> [PresenceRoom] {
        PresenceRoom.rooms(try await database.readings.registeredSensors().map(\.descriptor), areas: areas)
    }

    /// One row per room (or only `room`) and window of `length` in `[from, to)`, rooms first.
    public func windows(room: String? = nil, from: UTCMillis, to: UTCMillis, length: Duration) async throws -> [PresenceWindow] {
        let windows = PresenceInference.windows(from: from, to: to, length: length)
        guard let first = windows.first?.lowerBound, let last = windows.last?.upperBound else { return [] }
        let historyStart = first - .seconds(Int64(historyDays) * 86_400)
        var rows: [PresenceWindow] = []
        for candidate in try await rooms() where room == nil || candidate.room == room {
            var rollups: [SensorID: [Rollup]] = [:]
            for sensor in candidate.sensors {
                // The history, the windows and one bucket after them (the last bucket's slope).
                rollups[sensor] = try await database.readings.rollups(
                    sensor: sensor, resolution: .fiveMinutes, from: historyStart,
                    to: last + .milliseconds(PresenceInference.bucket))
            }
            rows += inference.infer(room: candidate, rollups: rollups, windows: windows)
        }
        return rows
    }
}
