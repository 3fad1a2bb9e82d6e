/// One edge the kernel saw on a requested line: a decoded `struct gpio_v2_line_event`.
public struct GPIOEdgeEvent: Hashable, Sendable {
    public enum Edge: String, Hashable, Sendable {
        case rising
        case falling
    }

    /// CLOCK_MONOTONIC nanoseconds (the kernel's timestamp, taken in the interrupt handler).
    public var timestampNanoseconds: UInt64
    public var edge: Edge
    /// The line's offset on its chip.
    public var offset: UInt32
    /// Sequence number across all lines of the request, starting at 1.
    public var seqno: UInt32
    /// Sequence number of this line's events, starting at 1.
    public var lineSeqno: UInt32
    /// Events of this line the kernel dropped just before this one (its buffer overflowed).
    public var missedBefore: UInt32

    public init(
        timestampNanoseconds: UInt64, edge: Edge, offset: UInt32, seqno: UInt32, lineSeqno: UInt32,
        missedBefore: UInt32 = 0
    ) {
        self.timestampNanoseconds = timestampNanoseconds
        self.edge = edge
        self.offset = offset
        self.seqno = seqno
        self.lineSeqno = lineSeqno
        self.missedBefore = missedBefore
    }

    /// The level after the edge.
    public var level: Bool { edge == .rising }

    /// The 48-byte record as the kernel writes it (for tests and recorded traces).
    public var record: [UInt8] {
        var bytes = StructBytes(size: GPIOUAPI.lineEventSize)
        bytes.set64(timestampNanoseconds, at: 0)
        bytes.set32(edge == .rising ? GPIOUAPI.eventRisingEdge : GPIOUAPI.eventFallingEdge, at: 8)
        bytes.set32(offset, at: 12)
        bytes.set32(seqno, at: 16)
        bytes.set32(lineSeqno, at: 20)
        return bytes.bytes
    }
}

/// Turns the byte stream read from a line-request fd into events. `read` may return several
/// records, or (in theory) part of one, so bytes are buffered across calls. A gap in a line's
/// `line_seqno` means the kernel's event buffer overflowed: the missing count is recorded on the
/// next event and summed in `dropped`.
public struct GPIOEventDecoder: Sendable {
    public struct MalformedEvent: Error, Hashable, Sendable, CustomStringConvertible {
        public var id: UInt32
        public var description: String { "GPIO event with unknown id \(id) (expected 1 rising or 2 falling)" }
    }

    private var pending: [UInt8] = []
    private var lastLineSeqno: [UInt32: UInt32] = [:]
    /// Events lost so far, over all lines.
    public private(set) var dropped: UInt64 = 0

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [GPIOEdgeEvent] {
        pending.append(contentsOf: bytes)
        var events: [GPIOEdgeEvent] = []
        let size = GPIOUAPI.lineEventSize
        var start = 0
        while pending.count - start >= size {
            let record = StructBytes(Array(pending[start..<(start + size)]))
            start += size
            let id = record.get32(at: 8)
            let edge: GPIOEdgeEvent.Edge
            switch id {
            case GPIOUAPI.eventRisingEdge: edge = .rising
            case GPIOUAPI.eventFallingEdge: edge = .falling
            default:
                pending.removeFirst(start)
                throw MalformedEvent(id: id)
            }
            let offset = record.get32(at: 12)
            let lineSeqno = record.get32(at: 20)
            var missed: UInt32 = 0
            if let last = lastLineSeqno[offset], lineSeqno > last &+ 1 {
                missed = lineSeqno &- last &- 1
            }
            lastLineSeqno[offset] = lineSeqno
            dropped += UInt64(missed)
            events.append(
                GPIOEdgeEvent(
                    timestampNanoseconds: record.get64(at: 0), edge: edge, offset: offset,
                    seqno: record.get32(at: 16), lineSeqno: lineSeqno, missedBefore: missed))
        }
        pending.removeFirst(start)
        return events
    }
}
