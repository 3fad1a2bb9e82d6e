import Hummingbird

/// Writes the JSON API's hot bodies (`Series`, lists of `LogEntry`) straight into bytes, as
/// Foundation's `JSONEncoder` writes them with its default options — `/` escaped as `\/`, other
/// control characters as `\u00xx`, non-ASCII as raw UTF-8, a double as its shortest round-trip
/// `description` without a trailing `.0`, an absent optional as an absent key, a non-finite
/// double refused — with the keys in `.sortedKeys` order (the default encoder's own order is its
/// dictionary's, which changes from process to process). `JSONWriterTests` compares the bytes
/// with `JSONEncoder(.sortedKeys)`'s for varied values so the two cannot drift.
///
/// Callers write an object's keys in sorted order themselves; the writer adds the punctuation.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// Nothing written yet in the innermost open object or array.
    private var first = true

    init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    private static let hex = Array("0123456789abcdef".utf8)

    /// A double JSON cannot hold: `JSONEncoder` refuses it too.
    struct NonFiniteNumber: Error, CustomStringConvertible {
        var value: Double
        var description: String { "\(value) cannot be written as JSON (a number must be finite)" }
    }

    mutating func object(_ members: (inout JSONWriter) throws -> Void) rethrows {
        separate()
        bytes.append(UInt8(ascii: "{"))
        first = true
        try members(&self)
        bytes.append(UInt8(ascii: "}"))
        first = false
    }

    mutating func array<S: Sequence>(_ elements: S, _ element: (inout JSONWriter, S.Element) throws -> Void) rethrows {
        separate()
        bytes.append(UInt8(ascii: "["))
        first = true
        for value in elements { try element(&self, value) }
        bytes.append(UInt8(ascii: "]"))
        first = false
    }

    /// An object member's key (plain ASCII, nothing to escape); its value follows.
    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        first = true
    }

    mutating func string(_ text: String) {
        separate()
        var text = text
        text.withUTF8 { utf8 in
            bytes.append(UInt8(ascii: "\""))
            var run = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "/")
                else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<index]))
                run = index + 1
                bytes.append(UInt8(ascii: "\\"))
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(byte)
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                default:
                    bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                              Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 0xF)]])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...]))
            bytes.append(UInt8(ascii: "\""))
        }
    }

    mutating func strings(_ texts: [String]) {
        array(texts) { $0.string($1) }
    }

    mutating func int(_ value: Int64) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        bytes[start...].reverse()
    }

    mutating func int(_ value: Int) { int(Int64(value)) }

    mutating func double(_ value: Double) throws(NonFiniteNumber) {
        guard value.isFinite else { throw NonFiniteNumber(value: value) }
        separate()
        let text = value.description
        let utf8 = text.utf8
        if text.hasSuffix(".0") {
            bytes.append(contentsOf: utf8.prefix(utf8.count - 2))
        } else {
            bytes.append(contentsOf: utf8)
        }
    }

    /// A comma before every value but the first of an array (an object's values follow their key).
    private mutating func separate() {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
    }
}

/// A body the JSON API writes with `JSONWriter` rather than `JSONEncoder`.
protocol JSONWritable: ResponseGenerator {
    func write(to json: inout JSONWriter) throws
    /// A guess at the body's size, to reserve once.
    var estimatedBytes: Int { get }
}

extension JSONWritable {
    var estimatedBytes: Int { 1024 }

    func jsonBytes() throws -> [UInt8] {
        var json = JSONWriter(capacity: estimatedBytes)
        try write(to: &json)
        return json.bytes
    }

    /// The response `JSONEncoder`'s Hummingbird conformance makes: the same status and headers.
    func response(from request: Request, context: some RequestContext) throws -> Response {
        let bytes = try jsonBytes()
        return Response(status: .ok,
                        headers: [.contentType: "application/json; charset=utf-8", .contentLength: String(bytes.count)],
                        body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
