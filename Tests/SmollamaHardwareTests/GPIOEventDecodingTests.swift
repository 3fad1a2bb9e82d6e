import CLinuxIO
import Testing
@testable import SmollamaHardware

@Suite struct GPIOEventDecodingTests {
    /// A record laid out through the C struct, so the decoder is checked against the header.
    func record(ns: UInt64, id: UInt32, offset: UInt32, seqno: UInt32, lineSeqno: UInt32) -> [UInt8] {
        var event = gpio_v2_line_event()
        event.timestamp_ns = ns
        event.id = id
        event.offset = offset
        event.seqno = seqno
        event.line_seqno = lineSeqno
        return withUnsafeBytes(of: event) { Array($0) }
    }

    @Test func decodesRisingAndFallingRecords() throws {
        var decoder = GPIOEventDecoder()
        let bytes =
            record(ns: 1_000_000_123, id: CLINUXIO_GPIO_V2_LINE_EVENT_RISING_EDGE, offset: 17, seqno: 1, lineSeqno: 1)
            + record(ns: 1_500_000_000, id: CLINUXIO_GPIO_V2_LINE_EVENT_FALLING_EDGE, offset: 17, seqno: 2, lineSeqno: 2)
        let events = try decoder.feed(bytes)
        #expect(
            events == [
                GPIOEdgeEvent(timestampNanoseconds: 1_000_000_123, edge: .rising, offset: 17, seqno: 1, lineSeqno: 1),
                GPIOEdgeEvent(timestampNanoseconds: 1_500_000_000, edge: .falling, offset: 17, seqno: 2, lineSeqno: 2),
            ])
        #expect(decoder.dropped == 0)
    }

    @Test func recordRoundTrips() throws {
        let event = GPIOEdgeEvent(timestampNanoseconds: 42, edge: .falling, offset: 5, seqno: 9, lineSeqno: 3)
        #expect(event.record == record(ns: 42, id: 2, offset: 5, seqno: 9, lineSeqno: 3))
        var decoder = GPIOEventDecoder()
        #expect(try decoder.feed(event.record) == [event])
    }

    @Test func partialRecordsAreBufferedAcrossReads() throws {
        var decoder = GPIOEventDecoder()
        let bytes = record(ns: 7, id: 1, offset: 4, seqno: 1, lineSeqno: 1)
        #expect(try decoder.feed(bytes.prefix(20)).isEmpty)
        let events = try decoder.feed(bytes.dropFirst(20))
        #expect(events.count == 1)
        #expect(events.first?.timestampNanoseconds == 7)
    }

    @Test func seqnoGapsCountDroppedEvents() throws {
        var decoder = GPIOEventDecoder()
        var bytes: [UInt8] = []
        bytes += record(ns: 1, id: 1, offset: 17, seqno: 1, lineSeqno: 1)
        bytes += record(ns: 2, id: 2, offset: 17, seqno: 2, lineSeqno: 2)
        // The kernel's buffer overflowed: line_seqno 3…6 never reached us.
        bytes += record(ns: 9, id: 1, offset: 17, seqno: 7, lineSeqno: 7)
        bytes += record(ns: 10, id: 2, offset: 17, seqno: 8, lineSeqno: 8)
        let events = try decoder.feed(bytes)
        #expect(events.map(\.missedBefore) == [0, 0, 4, 0])
        #expect(decoder.dropped == 4)
        // A second gap adds up.
        _ = try decoder.feed(record(ns: 20, id: 1, offset: 17, seqno: 10, lineSeqno: 10))
        #expect(decoder.dropped == 5)
    }

    @Test func gapsAreTrackedPerLine() throws {
        var decoder = GPIOEventDecoder()
        var bytes: [UInt8] = []
        bytes += record(ns: 1, id: 1, offset: 23, seqno: 1, lineSeqno: 1)
        bytes += record(ns: 2, id: 1, offset: 24, seqno: 2, lineSeqno: 1)
        bytes += record(ns: 3, id: 2, offset: 23, seqno: 3, lineSeqno: 2)
        bytes += record(ns: 4, id: 2, offset: 24, seqno: 4, lineSeqno: 2)
        _ = try decoder.feed(bytes)
        #expect(decoder.dropped == 0)
    }

    @Test func unknownEventIDIsAnError() {
        var decoder = GPIOEventDecoder()
        #expect(throws: GPIOEventDecoder.MalformedEvent(id: 7)) {
            try decoder.feed(record(ns: 1, id: 7, offset: 1, seqno: 1, lineSeqno: 1))
        }
    }
}
