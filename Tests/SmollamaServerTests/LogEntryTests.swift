import Foundation
import SmollamaCore
import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing

/// The English rendering of events (the dashboard's log and `smollama logs`), one case per body.
@Suite struct LogEntryTests {
    static let node = NodeID(hex: "00112233445566778899aabbccddeeff")!

    func entry(_ body: EventBody) throws -> LogEntry {
        LogEntry(event: try Event(origin: Self.node, seq: 1, stamp: ServerFixture.stamp(1_795_000_000_000), body: body))
    }

    @Test func noticesReadAsSentences() throws {
        let fault = Notice.SensorFault(sensor: "hallway.temperature", reason: "i2c: no ack", consecutiveFailures: 3)
        let faulty = try entry(.sensorFault(fault))
        #expect(faulty.stream == .notices && faulty.type == "sensor.fault")
        #expect(faulty.subject == "hallway.temperature" && faulty.message == "faulty after 3 failed reads: i2c: no ack")
        #expect(try entry(.sensorRecovered(fault)).message == "recovered")
        #expect(try entry(.binaryChanged(.init(sensor: "hallway.door", value: 1, time: 5))).message == "on")
        #expect(try entry(.binaryChanged(.init(sensor: "hallway.door", value: 0, time: 5))).message == "off")
        let trusted = try entry(.clockQuality(.init(quality: .synced, wallMilliseconds: 1, issuedMilliseconds: 1)))
        #expect(trusted.stream == .control && trusted.subject == "clock" && trusted.message == "wall clock trusted")
        let untrusted = try entry(.clockQuality(.init(quality: .unsynced, wallMilliseconds: 42, issuedMilliseconds: 1)))
        #expect(untrusted.message == "wall clock not trusted (it said 42 ms); counting on the monotonic clock")
        #expect(faulty.observation == nil)
    }

    @Test func whatHasNoSentenceShowsItsTypeAndPayload() throws {
        let marker = try entry(.compacted(CompactedMarker(stream: .readings, fromSeq: 1, toSeq: 9, reason: "disk full")))
        #expect(marker.subject == "control")
        #expect(marker.message == #"store.compacted: {"fromSeq":1,"reason":"disk full","stream":"readings","toSeq":9}"#)
        let newer = try entry(.unknown(stream: .notices, type: "sensor.calibrated", payload: Data(#"{"offset":0.5}"#.utf8)))
        #expect(newer.subject == "notices" && newer.type == "sensor.calibrated")
        #expect(newer.message == #"sensor.calibrated: {"offset":0.5}"#)
        // A known type whose payload does not decode (a broken sender) is shown raw, not dropped.
        let payload = Data(#"{"sensor":"a.b"}"#.utf8)
        let broken = LogEntry(event: Event(
            stored: Self.node, stream: .notices, seq: 2, stamp: ServerFixture.stamp(1), type: "sensor.fault", payload: payload,
            hash: Event.hash(origin: Self.node, stream: .notices, seq: 2, stamp: ServerFixture.stamp(1), type: "sensor.fault",
                             payload: payload)))
        #expect(broken.subject == "notices" && broken.message == #"sensor.fault: {"sensor":"a.b"}"#)
    }

    @Test func observationsShowKindTextGeneratorAndSupport() async throws {
        let store = try await TestStore()
        let record = ObservationRecord(
            id: "obs1", kind: "anomaly", subjects: ["hallway.motion"], text: "Hallway motion: first activity at 03:10.",
            evidenceIDs: ["hallway.motion/quiet-ended@1"], importance: 0.9, generator: .rules, support: 3,
            timeStart: 1_795_000_000_000, timeEnd: 1_795_000_900_000)
        try await store.database.knowledge.record(record, origin: store.node, stamp: ServerFixture.stamp(1_795_003_600_000))
        let entries = try await LogEntry.recent(store.database, limit: 10, streams: [.observations])
        let entry = try #require(entries.first)
        #expect(entries.count == 1)
        #expect(entry.subject == "anomaly")
        #expect(entry.message == "[rules, support 3] Hallway motion: first activity at 03:10.")
        #expect(entry.observation == record)
        let json = String(decoding: try JSONEncoder().encode(entry), as: UTF8.self)
        #expect(json.contains("\"support\":3"))
    }
}
