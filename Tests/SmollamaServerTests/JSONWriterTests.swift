import Foundation
import SmollamaCore
@testable import SmollamaServer
import Testing

/// The API's hand-written bodies are byte for byte what `JSONEncoder` writes for the same values
/// (with `.sortedKeys`: the default encoder's own key order changes from process to process),
/// and the fast observation reader reads what `JSONDecoder` reads.
@Suite struct JSONWriterTests {
    static let node = NodeID(hex: "00112233445566778899aabbccddeeff")!

    /// SplitMix64: the same "random" values on every run.
    struct Numbers {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        /// Any finite double, by bit pattern.
        mutating func double() -> Double {
            while true {
                let value = Double(bitPattern: next())
                if value.isFinite { return value }
            }
        }
    }

    static let doubles: [Double] = [
        0, -0.0, 1, -1, 0.1, 0.5, 2.5, 100, 1.0 / 3, 21.45, -273.15, 1e15, 1e16, 1e17, 1.2345678901234568e20,
        0.0001, 0.00001, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .ulpOfOne,
        9_007_199_254_740_994, 4_503_599_627_370_496.5,
    ]
    static let integers: [Int64] = [0, 1, -1, 9, 10, -10, 1_795_000_000_000, .max, .min, Int64(Int32.max) + 1]
    static let strings: [String] = [
        "", "plain", "a/b//c", "quote \" and backslash \\", "</script>", "é, ß, 漢字, 😀, \u{2028}\u{2029}, \u{7f}",
        "tab\tnewline\ncr\rback\u{8}feed\u{c}", String((0..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }),
        "\u{0}", "[rules, support 3] Hallway motion: first activity at 03:10.",
    ]

    func encoded(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Array(try encoder.encode(value))
    }

    func series(points: [Series.Point], name: String = "Hallway humidity", unit: String = "%") -> Series {
        Series(sensor: "hallway.humidity", name: name, kind: .numeric, unit: unit, range: .month,
               resolutionMilliseconds: 3_600_000, from: 1_795_000_000_000, to: 1_797_592_000_000, points: points)
    }

    @Test func seriesBytesEqualJSONEncoders() throws {
        var numbers = Numbers(state: 21)
        var points: [Series.Point] = []
        for index in 0..<400 {
            let fixed = Self.doubles[index % Self.doubles.count]
            let empty = index % 7 == 3
            points.append(Series.Point(
                start: UTCMillis(rawValue: Self.integers[index % Self.integers.count]), count: empty ? 0 : Int64(index),
                min: empty ? nil : fixed, max: empty ? nil : numbers.double(), mean: index % 11 == 5 ? nil : numbers.double(),
                onDuration: Int64(bitPattern: numbers.next()), onCount: Int64(index) - 200))
        }
        for text in Self.strings {
            let value = series(points: points, name: text, unit: text)
            #expect(try SeriesBody(series: value).jsonBytes() == encoded(value), "name and unit \(text.debugDescription)")
        }
        let empty = series(points: [])
        #expect(try SeriesBody(series: empty).jsonBytes() == encoded(empty))
        #expect(String(decoding: try SeriesBody(series: empty).jsonBytes(), as: UTF8.self).contains(#""points":[],"range":"30d""#))
    }

    @Test func compareBytesEqualJSONEncoders() throws {
        var numbers = Numbers(state: 5)
        var lines: [CompareBody.Line] = []
        for (index, text) in Self.strings.enumerated() {
            let points = (0..<(index * 3)).map { at in
                Series.Point(start: UTCMillis(rawValue: 1_795_000_000_000 + Int64(at) * 3_600_000), count: Int64(at),
                             min: at % 5 == 0 ? nil : numbers.double(), max: numbers.double(), mean: numbers.double(),
                             onDuration: 0, onCount: 0)
            }
            lines.append(CompareBody.Line(node: "\(index)abc", nodeName: text, series: series(points: points, name: text)))
        }
        for body in [
            CompareBody(quantity: "temperature", quantities: ["humidity", "temperature", "tempér\"ature"], range: .day,
                        timeZone: "Europe/Berlin", lines: lines),
            CompareBody(quantity: "", quantities: [], range: .week, timeZone: "Etc/UTC", lines: []),
        ] {
            #expect(try CompareJSON(body: body).jsonBytes() == encoded(body))
        }
    }

    @Test func aNumberJSONCannotHoldIsRefusedAsByJSONEncoder() {
        for bad in [Double.nan, .infinity, -.infinity] {
            let value = series(points: [Series.Point(start: 1, count: 1, min: bad, max: 1, mean: 1, onDuration: 0, onCount: 0)])
            #expect(throws: JSONWriter.NonFiniteNumber.self) { try SeriesBody(series: value).jsonBytes() }
            #expect(throws: EncodingError.self) { try encoded(value) }
        }
    }

    func entry(_ body: EventBody, seq: Int64 = 1) throws -> LogEntry {
        LogEntry(event: try Event(origin: Self.node, seq: seq, stamp: ServerFixture.stamp(UTCMillis(rawValue: 1_795_000_000_000 + seq)),
                                  body: body))
    }

    @Test func logListsBytesEqualJSONEncoders() throws {
        struct Entries: Encodable { var entries: [LogEntry] }
        struct Observations: Encodable { var observations: [LogEntry] }
        struct Memories: Encodable { var memories: [LogEntry] }
        var numbers = Numbers(state: 7)
        var entries: [LogEntry] = []
        for (index, text) in Self.strings.enumerated() {
            let record = ObservationRecord(
                id: "obs-\(index)/\(text)", kind: text, subjects: [text, "hallway.motion"], text: text,
                evidenceIDs: index % 2 == 0 ? [] : [text, "e/\(index)"],
                importance: index % 3 == 0 ? Self.doubles[index] : numbers.double(), generator: index % 2 == 0 ? .rules : .llm,
                support: Int(Self.integers[index % Self.integers.count]),
                timeStart: UTCMillis(rawValue: Self.integers[(index + 1) % Self.integers.count]),
                timeEnd: UTCMillis(rawValue: Self.integers[(index + 2) % Self.integers.count]),
                confidence: index % 4 == 0 ? nil : 0.75)
            entries.append(try entry(.observation(record), seq: Int64(index + 1)))
            var notice = try entry(.binaryChanged(.init(sensor: "hallway.door", value: 1, time: 5)), seq: Int64(index + 100))
            notice.message = text
            notice.subject = text
            entries.append(notice)
        }
        entries.append(try entry(.compacted(CompactedMarker(stream: .readings, fromSeq: 1, toSeq: 9, reason: "disk/full"))))
        #expect(entries.contains { $0.observation != nil } && entries.contains { $0.observation == nil })
        #expect(try LogBody(entries: entries).jsonBytes() == encoded(Entries(entries: entries)))
        #expect(try ObservationsBody(observations: entries).jsonBytes() == encoded(Observations(observations: entries)))
        #expect(try MemoriesBody(memories: entries).jsonBytes() == encoded(Memories(memories: entries)))
        #expect(try LogBody(entries: []).jsonBytes() == Array(#"{"entries":[]}"#.utf8))
    }

    @Test func observationPayloadsReadAsJSONDecoderReadsThem() throws {
        var numbers = Numbers(state: 3)
        for (index, text) in Self.strings.enumerated() {
            let record = ObservationRecord(
                id: "o\(index)", kind: text, subjects: index % 2 == 0 ? [] : [text], text: text, evidenceIDs: [text, "x/y"],
                importance: numbers.double(), generator: .llm, support: Int(Self.integers[index % Self.integers.count]),
                timeStart: UTCMillis(rawValue: Self.integers[index % Self.integers.count]), timeEnd: 5,
                confidence: index % 2 == 0 ? nil : numbers.double())
            let payload = try EventPayload.encode(record)
            #expect(ObservationPayload.read(payload) == record, "\(String(decoding: payload, as: UTF8.self))")
        }
        // Another writer's spelling of the same record: spaces, escapes, a null confidence.
        let spelled = #"""
         { "id" : "a\/b", "kind":"anomaly", "subjects":[ "\u00e9\ud83d\ude00" , "t\"\\\n" ], "text":"x\u0001y",
           "evidenceIDs":[], "importance":1E-2, "generator":"rules", "support":-12, "timeStart":0, "timeEnd":1795000000000,
           "confidence":null }
        """#
        let decoded = try EventPayload.decode(ObservationRecord.self, from: Data(spelled.utf8))
        #expect(ObservationPayload.read(Data(spelled.utf8)) == decoded)
        #expect(decoded.subjects == ["é😀", "t\"\\\n"] && decoded.id == "a/b" && decoded.confidence == nil)
    }

    @Test func payloadsTheFastReaderDoesNotTakeAreLeftToJSONDecoder() throws {
        let record = ObservationRecord(id: "o", kind: "k", subjects: ["s"], text: "t", evidenceIDs: [], importance: 0.5,
                                       generator: .rules, support: 2, timeStart: 1, timeEnd: 2, confidence: 0.9)
        let canonical = String(decoding: try EventPayload.encode(record), as: UTF8.self)
        #expect(ObservationPayload.read(Data(canonical.utf8)) == record)
        let refused = [
            canonical.replacingOccurrences(of: #""id":"o""#, with: #""id":"o","extra":1"#),  // a member it does not know
            canonical.replacingOccurrences(of: #""id":"o""#, with: #""id":"o","id":"p""#),  // a repeated member
            canonical.replacingOccurrences(of: #""support":2"#, with: #""support":2.0"#),  // a fraction where an Int is
            canonical.replacingOccurrences(of: #""support":2"#, with: #""support":02"#),  // not JSON
            canonical.replacingOccurrences(of: #","text":"t""#, with: ""),  // a missing member
            canonical.replacingOccurrences(of: #""text":"t""#, with: #""text":"\ud83d""#),  // a lone surrogate
            canonical.replacingOccurrences(of: #""generator":"rules""#, with: #""generator":"oracle""#),
            canonical + "x", String(canonical.dropLast()), "", "[]",
        ]
        for payload in refused {
            #expect(ObservationPayload.read(Data(payload.utf8)) == nil, "\(payload)")
        }
        var notUTF8 = Data(canonical.utf8)
        notUTF8[notUTF8.firstIndex(of: UInt8(ascii: "t"))!] = 0xFF  // inside the text: JSONDecoder refuses it
        #expect(ObservationPayload.read(notUTF8) == nil)
        #expect(throws: (any Error).self) { try EventPayload.decode(ObservationRecord.self, from: notUTF8) }
        // What the fallback makes of them is what it always made: the extra member is ignored.
        let entry = LogEntry(event: Event(
            stored: Self.node, stream: .observations, seq: 1, stamp: ServerFixture.stamp(1),
            type: EventBody.Kind.observation.rawValue, payload: Data(refused[0].utf8), hash: Data()))
        #expect(entry.observation == record && entry.message == "[rules, support 2] t")
    }
}
