import SmollamaCore
import SmollamaStore

extension SyncClient {
    /// "NTP on connect": the hub's time from the handshake is taken as read halfway through the
    /// round trip; the offset of this node's wall clock and its uncertainty (half the round trip)
    /// are recorded for `status`, and the node's clock adopts the hub's time (it follows it only
    /// while its own wall clock is untrusted, so new stamps are trusted).
    func takeHubTime(_ hubTime: UTCMillis, sent: UInt64, answered: UInt64) async throws {
        let roundTrip = answered >= sent ? answered - sent : 0
        let hubAtAnswer = hubTime + .nanoseconds(Int64(roundTrip / 2))
        let offset = clockSource.wallMilliseconds() - hubAtAnswer.rawValue
        let follows = await adoptHubTime?(hubAtAnswer, answered) ?? false
        try await database.nodeSync.recordHubClock(HubClockReading(
            offsetMilliseconds: offset, uncertaintyMilliseconds: Int64(roundTrip / 2 / 1_000_000), measuredAt: hubAtAnswer,
            followsHub: follows))
    }

    /// Sends the rollup buckets changed since the last round as `rollup.snapshot` events (a node
    /// with `sync.raw_readings: false`); they are pushed with the rollups stream of this round.
    func publishRollups() async throws {
        while try await database.readings.publishRollups(origin: node, stamp: await markerStamp()) > 0 {}
    }
}
