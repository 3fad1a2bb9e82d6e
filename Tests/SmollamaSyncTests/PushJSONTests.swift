import Foundation
import SmollamaCore
import SmollamaStore
import Testing
@testable import SmollamaSync

/// The hand-written readings push (`PushJSON`) is the JSON the Codable types describe: what it
/// writes `JSONDecoder` reads back equal, and what `JSONEncoder` writes (older nodes) it reads
/// equal; what it does not take it leaves to `JSONDecoder`.
@Suite struct PushJSONTests {
    static func request(values: [Double], epochs: [WireEpoch]? = nil, sensors: [String] = ["garage.temperature", "hall.door"])
        -> PushRequest
    {
        var columns = ReadingColumns()
        columns.sensors = sensors
        columns.epochs = epochs ?? [WireEpoch(id: 3, bootID: "boot-a", quality: "synced", startedHLC: 117_702_000_000_000 << 16,
                                              startedMonotonicNanoseconds: 12_345_678_901)]
        for (index, value) in values.enumerated() {
            columns.id.append(index == 0 ? 1 : Int64(1 + index % 3))
            columns.sensor.append(index % sensors.count)
            columns.time.append(index == 0 ? 1_796_000_000_000 : Int64(index % 7 == 0 ? -250 : 1000))
            columns.value.append(value)
            columns.epoch.append(0)
        }
        return PushRequest(node: NodeID(bytes: Array(0..<16)), stream: .readings, fromSeq: 41, toSeq: 41 + Int64(values.count) * 3,
                           events: nil, readings: columns)
    }

    /// Values of every shape a sensor sends, and the awkward ones of binary floating point.
    static let values: [Double] = [
        0, -0.0, 1, -1, 18.3, 21.5, 0.1, 0.2, 0.30000000000000004, 1e-7, -2.5e-12, 123_456.789, 1e21, 9_007_199_254_740_993,
        4_503_599_627_370_497.5, 1.7976931348623157e308, 5e-324, 2.2250738585072014e-308, 100, 1013.25, -40.05, 3.141592653589793,
        99.99999999999999, 0.000123, 7.0e22, 1.23456789012345678e-5,
    ]

    @Test func writesWhatJSONDecoderReadsBackEqual() throws {
        let request = Self.request(values: Self.values)
        let written = try PushJSON.encode(request)
        #expect(try SyncJSON.decode(PushRequest.self, written) == request)
        // Bit for bit (== treats 0 and -0 alike).
        let decoded = try #require(try SyncJSON.decode(PushRequest.self, written).readings)
        #expect(decoded.value.map(\.bitPattern) == Self.values.map(\.bitPattern))
    }

    @Test func readsWhatJSONEncoderWritesEqual() throws {
        var generator = SplitMix64(state: 21)
        let random = (0..<2000).map { index -> Double in
            let raw = Double(bitPattern: generator.next())
            return raw.isFinite ? (index % 2 == 0 ? raw : (raw.truncatingRemainder(dividingBy: 1000) * 10).rounded() / 10) : 1
        }
        for values in [Self.values, random] {
            let request = Self.request(values: values)
            let decoded = try #require(PushJSON.decode(try SyncJSON.encode(request)))
            #expect(decoded == request)
            #expect(decoded.readings?.value.map(\.bitPattern) == values.map(\.bitPattern))
            // And its own output.
            #expect(PushJSON.decode(try PushJSON.encode(request)) == request)
        }
    }

    @Test func readsStringsWithEscapesThroughTheFallbackOnly() throws {
        let request = Self.request(values: [1, 2], epochs: [WireEpoch(id: 1, bootID: "a\"b\\c\u{1}é", quality: "synced",
                                                                         startedHLC: 0, startedMonotonicNanoseconds: 0)])
        let written = try PushJSON.encode(request)
        #expect(try SyncJSON.decode(PushRequest.self, written) == request)
        #expect(PushJSON.decode(written) == nil)
    }

    @Test func leavesWhatItDoesNotTakeToJSONDecoder() throws {
        let good = Array(try PushJSON.encode(Self.request(values: [18.5, 19])))
        let text = String(decoding: good, as: UTF8.self)
        #expect(PushJSON.decode(good) != nil)
        let variants = [
            text.replacingOccurrences(of: #""fromSeq":41"#, with: #""fromSeq":41.0"#),
            text.replacingOccurrences(of: #""fromSeq":41"#, with: #""fromSeq":"41""#),
            text.replacingOccurrences(of: #""fromSeq":41,"#, with: ""),
            text.replacingOccurrences(of: #""time":["#, with: #""time":[99999999999999999999,"#),
            text.replacingOccurrences(of: #""value":[18.5"#, with: #""value":[1e400"#),
            text.replacingOccurrences(of: #""value":[18.5"#, with: #""value":[018.5"#),
            text.replacingOccurrences(of: #""stream":"readings""#, with: #""stream":"weather""#),
            text.replacingOccurrences(of: #""node":""#, with: #""extra":1,"node":""#),
            text + "x",
            String(text.dropLast()),
        ]
        for variant in variants {
            #expect(PushJSON.decode(Array(variant.utf8)) == nil, "\(variant.prefix(120))")
        }
        // Whitespace and key order are JSON's business, not the writer's.
        let spaced = "{ \"toSeq\" : 47 ,\n \"stream\":\"readings\", \"fromSeq\":41, \"events\": null, " + text.dropFirst().replacingOccurrences(of: #""stream":"readings","fromSeq":41,"toSeq":47,"#, with: "")
        #expect(PushJSON.decode(Array(spaced.utf8)) == (try SyncJSON.decode(PushRequest.self, Array(spaced.utf8))))
    }

    @Test func refusesValuesThatAreNotFinite() {
        #expect(throws: EncodingError.self) { try PushJSON.encode(Self.request(values: [1, .infinity])) }
    }
}
