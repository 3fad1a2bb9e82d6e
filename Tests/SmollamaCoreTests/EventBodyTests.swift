import Foundation
import SmollamaCore
import Testing

/// Typed bodies must not change a byte of what is stored, hashed and sent: the payloads and
/// hashes below were computed by the code before `EventBody` existed (main at abde721).
@Suite struct EventBodyTests {
    static let node = NodeID(hex: "00112233445566778899aabbccddeeff")!
    static let stamp = ClockStamp(hlc: HLCTimestamp(milliseconds: 1_795_000_000_000, counter: 3), bootID: "boot-1",
                                  monotonicNanoseconds: 123_456_789, quality: .synced)

    struct Pin: Sendable, CustomTestStringConvertible {
        var body: EventBody
        var stream: EventStream
        var type: String
        var payload: String
        var hash: String
        var testDescription: String { type }
    }

    static let pins: [Pin] = [
        Pin(body: .sensorFault(.init(sensor: "hallway.temperature", reason: "i2c: no ack", consecutiveFailures: 3)),
            stream: .notices, type: "sensor.fault",
            payload: #"{"consecutiveFailures":3,"reason":"i2c: no ack","sensor":"hallway.temperature"}"#,
            hash: "b24f4bfecd56811451a9fe9a5ec3c29f3083463dbf3d5034730706ddcb8c146a"),
        Pin(body: .sensorRecovered(.init(sensor: "hallway.temperature", reason: "recovered", consecutiveFailures: 0)),
            stream: .notices, type: "sensor.recovered",
            payload: #"{"consecutiveFailures":0,"reason":"recovered","sensor":"hallway.temperature"}"#,
            hash: "6c90f9ae608a1c5e99f523318990290ef5678122d9f2bc2e4e7dd4b33e152574"),
        Pin(body: .binaryChanged(.init(sensor: "hallway.door", value: 1, time: 1_795_000_000_123)),
            stream: .notices, type: "sensor.changed",
            payload: #"{"sensor":"hallway.door","time":1795000000123,"value":1}"#,
            hash: "0c92c8d3bc6c20c5f605581fdf0622cb81b3dabdbfa7a749cea029c33b5e7aa3"),
        Pin(body: .clockQuality(.init(quality: .unsynced, wallMilliseconds: 1_600_000_000_000,
                                      issuedMilliseconds: 1_795_000_000_000)),
            stream: .control, type: "clock.quality",
            payload: #"{"issuedMilliseconds":1795000000000,"quality":"unsynced","wallMilliseconds":1600000000000}"#,
            hash: "72c3f86f66f20ca0bd4ef338dfed8fc733aadc39644bfc3918fae9caeff508a3"),
        Pin(body: .observation(ObservationRecord(
                id: "obs-1", kind: "anomaly", subjects: ["hallway.motion"], text: "Motion at 03:10 — unusual/rare.",
                evidenceIDs: ["hallway.motion/quiet-ended@1"], importance: 0.9, generator: .llm, support: 2,
                timeStart: 1_794_999_000_000, timeEnd: 1_794_999_900_000)),
            stream: .observations, type: "observation.recorded",
            payload: #"{"evidenceIDs":["hallway.motion/quiet-ended@1"],"generator":"llm","id":"obs-1","importance":0.9,"kind":"anomaly","subjects":["hallway.motion"],"support":2,"text":"Motion at 03:10 — unusual/rare.","timeEnd":1794999900000,"timeStart":1794999000000}"#,
            hash: "72ebdd9f8752796c96d5a5f440dc754b6a7d3a8bc0fe12a5a5793348a22b0749"),
        Pin(body: .memoryVersion(MemoryRecord(
                id: "mem-1", kind: "routine", subjects: ["kitchen.light"], text: "Kitchen light on at 07:00 on weekdays.",
                confidence: 0.75, importance: 0.5, support: 4, validFrom: 1_790_000_000_000, createdAt: 1_794_000_000_000,
                source: .reflection, parent: MemoryVersionRef(origin: node, seq: 2), metadata: ["user_id": "ann"])),
            stream: .memories, type: "memory.version",
            payload: #"{"confidence":0.75,"createdAt":1794000000000,"id":"mem-1","importance":0.5,"kind":"routine","metadata":{"user_id":"ann"},"parent":{"origin":"00112233445566778899aabbccddeeff","seq":2},"source":"reflection","subjects":["kitchen.light"],"support":4,"text":"Kitchen light on at 07:00 on weekdays.","validFrom":1790000000000}"#,
            hash: "b647951741dd06455806e91341f9ec7461c800a6e49e42dfa1fe85f84d4d1cd7"),
        Pin(body: .compacted(CompactedMarker(stream: .readings, fromSeq: 1, toSeq: 5000, reason: "disk full")),
            stream: .control, type: "store.compacted",
            payload: #"{"fromSeq":1,"reason":"disk full","stream":"readings","toSeq":5000}"#,
            hash: "6a1bde3d7c6781275f8ee6e932a37a7ad7f1e182249b808285f8006cf17715d1"),
        Pin(body: .rollups(RollupSnapshot(buckets: [RollupSnapshot.Bucket(Rollup(
                sensor: "hallway.temperature", resolution: .fiveMinutes, bucketStart: 1_795_000_200_000, count: 3, min: 20.5,
                max: 21.25, sum: 62.25, last: 20.5, lastTime: 1_795_000_260_000))])),
            stream: .rollups, type: "rollup.snapshot",
            payload: #"{"buckets":[{"count":3,"last":20.5,"lastTime":1795000260000,"max":21.25,"min":20.5,"onCount":0,"onDuration":0,"resolution":300000,"sensor":"hallway.temperature","start":1795000200000,"sum":62.25}]}"#,
            hash: "aa2938786bfaaa85236bea1f7ce1f16abb05a4b572f13b6c793b4c5859bb6c40"),
    ]

    @Test(arguments: pins) func eachBodyWritesTodaysBytesAndReadsBack(_ pin: Pin) throws {
        let event = try Event(origin: Self.node, seq: 7, stamp: Self.stamp, body: pin.body)
        #expect(event.stream == pin.stream)
        #expect(event.type == pin.type)
        #expect(String(decoding: event.payload, as: UTF8.self) == pin.payload)
        #expect(event.hash.map { String(format: "%02x", $0) }.joined() == pin.hash)
        #expect(event.hashIsValid)
        #expect(try event.body == pin.body)
        // The wire form (Event's Codable) carries the same type and payload, and decodes to the same body.
        let decoded = try JSONDecoder().decode(Event.self, from: JSONEncoder().encode(event))
        #expect(decoded == event && decoded.hashIsValid)
        #expect(try decoded.body == pin.body)
    }

    @Test func everyKnownKindIsPinned() {
        #expect(Set(Self.pins.compactMap(\.body.kind)) == Set(EventBody.Kind.allCases))
    }

    @Test func anUnknownTypeIsKeptByteForByte() throws {
        // Keys out of order and spacing a canonical encoder would not write: kept as received.
        let payload = Data(#"{"z": 1, "a": [true]}"#.utf8)
        let body = EventBody.unknown(stream: .memories, type: "memory.tagged", payload: payload)
        let event = try Event(origin: Self.node, seq: 1, stamp: Self.stamp, body: body)
        #expect(event.stream == .memories && event.type == "memory.tagged" && event.payload == payload)
        #expect(try event.body == body)
        #expect(try event.body.kind == nil)
    }

    @Test func aKnownTypeOnAnotherStreamReadsAsUnknown() throws {
        let payload = Data(#"{"consecutiveFailures":3,"reason":"x","sensor":"a.b"}"#.utf8)
        let body = try EventBody(stream: .memories, type: "sensor.fault", payload: payload)
        #expect(body == .unknown(stream: .memories, type: "sensor.fault", payload: payload))
        #expect(try EventBody(stream: .notices, type: "sensor.fault", payload: payload).kind == .sensorFault)
    }

    @Test func aKnownTypeWithAnotherPayloadThrowsNamingTheType() {
        let error = #expect(throws: EventBodyError.self) {
            try EventBody(stream: .memories, type: "memory.version", payload: Data(#"{"id":"m1"}"#.utf8))
        }
        guard case .malformed(let type, _) = error else {
            Issue.record("expected a malformed-payload error, got \(String(describing: error))")
            return
        }
        #expect(type == "memory.version")
        #expect("\(error!)".hasPrefix("a 'memory.version' event whose payload is not a memory.version record"))
    }

    @Test func aKnownTypeCannotBeWrittenAsUnknown() {
        // Otherwise a producer could put a fault on the memories stream.
        let body = EventBody.unknown(stream: .memories, type: "sensor.fault", payload: Data("{}".utf8))
        #expect(throws: EventBodyError.knownTypeAsUnknown("sensor.fault")) {
            try Event(origin: Self.node, seq: 1, stamp: Self.stamp, body: body)
        }
    }

    @Test func aNumberJSONCannotHoldIsRefusedWhenTheEventIsMade() {
        let body = EventBody.binaryChanged(.init(sensor: "a.b", value: .nan, time: 1))
        let error = #expect(throws: EventBodyError.self) {
            try Event(origin: Self.node, seq: 1, stamp: Self.stamp, body: body)
        }
        guard case .unencodable(let type, _) = error else {
            Issue.record("expected an unencodable error, got \(String(describing: error))")
            return
        }
        #expect(type == "sensor.changed")
    }
}

@Suite struct SyncStreamTests {
    @Test func codedAsTheNamesSyncAlwaysSent() throws {
        let names = try SyncStream.allCases.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        #expect(names == [#""control""#, #""notices""#, #""memories""#, #""observations""#, #""rollups""#, #""readings""#])
        for stream in EventStream.allCases {
            #expect(SyncStream(stream).eventStream == stream)
            #expect(SyncStream(stream).rawValue == stream.rawValue)
        }
        #expect(SyncStream.readings.eventStream == nil)
        #expect(SyncStream.allCases.sorted() == SyncStream.allCases)
    }

    @Test func anUnknownNameIsRefusedWithTheAcceptedOnes() {
        let sync = #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([SyncStream].self, from: Data(#"["notices","gossip"]"#.utf8))
        }
        guard case .dataCorrupted(let context) = sync else {
            Issue.record("expected dataCorrupted, got \(String(describing: sync))")
            return
        }
        #expect(context.debugDescription
                == "unknown stream 'gossip'; streams are control, notices, memories, observations, rollups, readings")
        // Raw readings are a sync stream, not an event stream.
        let event = #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(EventStream.self, from: Data(#""readings""#.utf8))
        }
        guard case .dataCorrupted(let eventContext) = event else {
            Issue.record("expected dataCorrupted, got \(String(describing: event))")
            return
        }
        #expect(eventContext.debugDescription
                == "unknown stream 'readings'; streams are control, notices, memories, observations, rollups")
    }
}
