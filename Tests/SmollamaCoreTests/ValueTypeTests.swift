import Foundation
import Testing
@testable import SmollamaCore

@Suite struct ValueTypeTests {
    @Test func nodeIDsAreRandomHexAndRoundTrip() throws {
        let a = NodeID.random()
        #expect(a != NodeID.random())
        #expect(a.hex.count == 32)
        #expect(NodeID(hex: a.hex) == a)
        #expect(NodeID(hex: "xyz") == nil)
        let json = try JSONEncoder().encode(a)
        #expect(try JSONDecoder().decode(NodeID.self, from: json) == a)
    }

    @Test(arguments: [("500ms", 500), ("10s", 10_000), ("5m", 300_000), ("1h", 3_600_000), ("7d", 604_800_000), ("2", 2000)])
    func durationsParse(text: String, milliseconds: Int64) {
        #expect(ConfigDuration(parsing: text)?.milliseconds == milliseconds)
    }

    @Test func badDurationsAreRefused() {
        #expect(ConfigDuration(parsing: "soon") == nil)
        #expect(ConfigDuration(parsing: "-5s") == nil)
        #expect(ConfigDuration.minutes(5).description == "5m")
    }

    @Test func sampleChecksRefuseImpossibleValues() {
        let temperature = SensorDescriptor(id: "t", name: "t", range: -40...85)
        let motion = SensorDescriptor(id: "m", name: "m", kind: .binary)
        guard case .notFinite = SampleRejection.check(.nan, for: temperature) else {
            Issue.record("NaN must be refused as not finite")
            return
        }
        #expect(SampleRejection.check(.infinity, for: temperature) == .notFinite(.infinity))
        #expect(SampleRejection.check(200, for: temperature) == .outOfRange(200, -40...85))
        #expect(SampleRejection.check(21.5, for: temperature) == nil)
        #expect(SampleRejection.check(0.5, for: motion) == .notBinary(0.5))
        #expect(SampleRejection.check(1, for: motion) == nil)
    }

    @Test func sensorIDValidation() {
        #expect(SensorID.validate("living_room.temperature"))
        #expect(!SensorID.validate("Living Room"))
        #expect(!SensorID.validate(""))
        #expect(!SensorID.validate(".x"))
    }

    @Test func eventHashCoversEveryField() throws {
        let stamp = ClockStamp(hlc: HLCTimestamp(milliseconds: 1_795_000_000_000, counter: 0), bootID: "b",
                               monotonicNanoseconds: 5, quality: .synced)
        let node = NodeID.random()
        let event = try Event(origin: node, seq: 1, stamp: stamp,
                              body: .unknown(stream: .notices, type: "x", payload: Data("{}".utf8)))
        #expect(event.hash.count == 32 && event.hashIsValid)
        var changed = event
        changed.seq = 2
        #expect(!changed.hashIsValid)
        let other = try Event(origin: node, seq: 1, stamp: stamp,
                              body: .unknown(stream: .notices, type: "x", payload: Data("{ }".utf8)))
        #expect(other.hash != event.hash)
    }
}

@Suite struct UTCMillisTests {
    @Test func arithmeticWithDurationsAndBetweenInstants() {
        let t: UTCMillis = 1_795_000_000_000
        #expect((t + .seconds(90)).rawValue == 1_795_000_090_000)
        #expect((t - .milliseconds(1)).rawValue == 1_794_999_999_999)
        #expect((t + .seconds(90)) - t == .seconds(90))
        #expect(Duration.milliseconds(2_500).wholeMilliseconds == 2_500)
        // Sub-millisecond parts are dropped, not rounded.
        #expect((t + .microseconds(1_999)).rawValue == 1_795_000_000_001)
        var moving = t
        moving += .seconds(1)
        #expect(moving > t && moving.rawValue - t.rawValue == 1000)
    }

    @Test func datesAndJSONKeepTheMillisecond() throws {
        let date = Date(timeIntervalSince1970: 1_795_000_000.123)
        #expect(UTCMillis(date).rawValue == 1_795_000_000_123)
        #expect(UTCMillis(Date(timeIntervalSince1970: -0.5)).rawValue == -500)
        #expect(UTCMillis(rawValue: 1_795_000_000_123).date.timeIntervalSince1970 == 1_795_000_000.123)
        // On the wire a time is a bare number, as every `Int64` time was before.
        let encoded = try JSONEncoder().encode(["t": UTCMillis(rawValue: 42)])
        #expect(String(decoding: encoded, as: UTF8.self) == #"{"t":42}"#)
        #expect(try JSONDecoder().decode([String: UTCMillis].self, from: encoded)["t"] == 42)
        #expect(HLCTimestamp(milliseconds: 1_795_000_000_123, counter: 7).time.rawValue == 1_795_000_000_123)
    }
}
