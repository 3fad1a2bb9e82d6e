import Foundation
import SmollamaCore
import SmollamaStore

/// A readings push (`PushRequest` with `readings` columns) written and read by hand, without
/// `JSONEncoder`/`JSONDecoder` and without an allocation per number: the same JSON the Codable
/// types describe (so nodes and hubs of other versions read it, and it reads theirs), at the rate
/// of a tight loop. The generic coders spent ~40 % of a catch-up's CPU on these columns (issue 21).
///
/// The reader takes only what it is sure of: anything else (an event batch, escapes in a key or
/// a string, numbers out of range, a missing field) answers nil, and the caller decodes with
/// `JSONDecoder`, whose errors name the field.
enum PushJSON {
    // MARK: writing

    /// The request as JSON; throws, as `JSONEncoder` does, for a value that is not finite.
    static func encode(_ request: PushRequest) throws -> [UInt8] {
        guard let columns = request.readings, request.events == nil else { return try SyncJSON.encode(request) }
        var out: [UInt8] = []
        out.reserveCapacity(256 + columns.count * 24)
        out.append(contentsOf: #"{"node":"#.utf8)
        string(request.node.hex, into: &out)
        out.append(contentsOf: #","stream":"#.utf8)
        string(request.stream.rawValue, into: &out)
        out.append(contentsOf: #","fromSeq":"#.utf8)
        integer(request.fromSeq, into: &out)
        out.append(contentsOf: #","toSeq":"#.utf8)
        integer(request.toSeq, into: &out)
        out.append(contentsOf: #","readings":{"sensors":["#.utf8)
        for (index, sensor) in columns.sensors.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            string(sensor, into: &out)
        }
        out.append(contentsOf: #"],"epochs":["#.utf8)
        for (index, epoch) in columns.epochs.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"id":"#.utf8)
            integer(epoch.id, into: &out)
            out.append(contentsOf: #","bootID":"#.utf8)
            string(epoch.bootID, into: &out)
            out.append(contentsOf: #","quality":"#.utf8)
            string(epoch.quality, into: &out)
            out.append(contentsOf: #","startedHLC":"#.utf8)
            integer(epoch.startedHLC, into: &out)
            out.append(contentsOf: #","startedMonotonicNanoseconds":"#.utf8)
            integer(epoch.startedMonotonicNanoseconds, into: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"id":"#.utf8)
        array(columns.id, into: &out) { integer($0, into: &$1) }
        out.append(contentsOf: #","sensor":"#.utf8)
        array(columns.sensor, into: &out) { integer(Int64($0), into: &$1) }
        out.append(contentsOf: #","time":"#.utf8)
        array(columns.time, into: &out) { integer($0, into: &$1) }
        out.append(contentsOf: #","value":"#.utf8)
        for (index, value) in columns.value.enumerated() where !value.isFinite {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "reading value \(index) is not a finite number"))
        }
        array(columns.value, into: &out) { number($0, into: &$1) }
        out.append(contentsOf: #","epoch":"#.utf8)
        array(columns.epoch, into: &out) { integer(Int64($0), into: &$1) }
        out.append(contentsOf: "}}".utf8)
        return out
    }

    static func array<T>(_ values: [T], into out: inout [UInt8], _ write: (T, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            write(value, &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    static func integer(_ value: Int64, into out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 20 digits at most, written backwards
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[23 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out.append(contentsOf: buffer[(24 - count)...])
        }
    }

    /// A finite double: whole numbers below 2^53 as integers, others as Swift's shortest
    /// round-trip form (which JSON accepts as it is).
    static func number(_ value: Double, into out: inout [UInt8]) {
        if value == value.rounded(.towardZero), abs(value) < 9_007_199_254_740_992 {
            if value == 0, value.sign == .minus { out.append(contentsOf: "-0".utf8) } else { integer(Int64(value), into: &out) }
            return
        }
        out.append(contentsOf: value.description.utf8)
    }

    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: reading

    /// A readings push, or nil when the body is anything this reader does not take on itself.
    static func decode(_ body: [UInt8]) -> PushRequest? {
        body.withUnsafeBufferPointer { buffer in
            var reader = JSONBytes(bytes: buffer)
            guard let request = reader.pushRequest(), reader.atEnd else { return nil }
            return request
        }
    }
}
