import Foundation
import SmollamaCore
import SmollamaStore

/// A cursor over JSON bytes for `PushJSON.decode`: every method answers nil (or false) at the
/// first thing it does not take, and the caller falls back to `JSONDecoder`.
struct JSONBytes {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var atEnd: Bool {
        mutating get {
            skipSpace()
            return index == bytes.count
        }
    }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// A string without escapes (nil for one with escapes: the fallback reads those).
    mutating func plainString() -> Substring.UTF8View? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return Substring(decoding: UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)]), as: UTF8.self).utf8
            }
            // Escapes, control characters and non-ASCII (whose UTF-8 `JSONDecoder` checks): not ours.
            if byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { return nil }
            index += 1
        }
        return nil
    }

    mutating func text() -> String? { plainString().map { String(Substring($0)) } }

    /// Whether the next key is `key` (then the colon is taken too).
    mutating func key() -> [UInt8]? {
        guard let name = plainString(), take(UInt8(ascii: ":")) else { return nil }
        return Array(name)
    }

    mutating func integer() -> Int64? {
        skipSpace()
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        let start = index
        var magnitude: UInt64 = 0
        while index < bytes.count, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
            let (times, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times.addingReportingOverflow(UInt64(digit))
            guard !overflow, !carry else { return nil }
            magnitude = sum
            index += 1
        }
        // No digits, a leading zero before more digits, or a fraction or exponent: not ours.
        guard index > start, bytes[start] != UInt8(ascii: "0") || index == start + 1 else { return nil }
        if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    static let powersOfTen: [Double] = (0...22).map { exponent in (0..<exponent).reduce(1.0) { value, _ in value * 10 } }

    /// A JSON number as a double: exactly (one correctly rounded operation on exact operands)
    /// when its digits fit in 2^53 and its decimal exponent in ±22, else through `strtod`.
    mutating func double() -> Double? {
        skipSpace()
        let start = index
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var mantissa: UInt64 = 0
        var digits = 0, exponent = 0
        let integerStart = index
        while index < bytes.count, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
            if digits < 19 { mantissa = mantissa * 10 + UInt64(digit) } else { exponent += 1 }
            if mantissa > 0 || digit > 0 { digits += 1 }
            index += 1
        }
        guard index > integerStart, bytes[integerStart] != UInt8(ascii: "0") || index == integerStart + 1 else { return nil }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < bytes.count, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
                if digits < 19 {
                    mantissa = mantissa * 10 + UInt64(digit)
                    exponent -= 1
                    if mantissa > 0 { digits += 1 }
                }
                index += 1
            }
            guard index > fractionStart else { return nil }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var negativeExponent = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                negativeExponent = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let exponentStart = index
            var written = 0
            while index < bytes.count, case let digit = bytes[index] &- UInt8(ascii: "0"), digit < 10 {
                written = min(written * 10 + Int(digit), 100_000)
                index += 1
            }
            guard index > exponentStart else { return nil }
            exponent += negativeExponent ? -written : written
        }
        let value: Double
        if digits < 19, mantissa <= 1 << 53, (-22...22).contains(exponent) {
            value = exponent < 0 ? Double(mantissa) / Self.powersOfTen[-exponent] : Double(mantissa) * Self.powersOfTen[exponent]
            return negative ? -value : value
        }
        // Rare here (sensor values have few digits): the C library's correctly rounded parse.
        var text = Array(bytes[start..<index])
        text.append(0)
        value = text.withUnsafeBufferPointer { strtod(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), nil) }
        return value.isFinite ? value : nil
    }

    mutating func array<T>(_ element: (inout JSONBytes) -> T?) -> [T]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var values: [T] = []
        if take(UInt8(ascii: "]")) { return values }
        repeat {
            guard let value = element(&self) else { return nil }
            values.append(value)
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? values : nil
    }

    /// An object: `field` is called with each key and takes its value (false: not ours).
    mutating func object(_ field: (inout JSONBytes, [UInt8]) -> Bool) -> Bool {
        guard take(UInt8(ascii: "{")) else { return false }
        if take(UInt8(ascii: "}")) { return true }
        repeat {
            guard let name = key(), field(&self, name) else { return false }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    mutating func null() -> Bool {
        skipSpace()
        guard bytes.count - index >= 4, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
              bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
        else { return false }
        index += 4
        return true
    }

    // MARK: the push request

    mutating func pushRequest() -> PushRequest? {
        var node: NodeID?, stream: SyncStream?, fromSeq: Int64?, toSeq: Int64?, columns: ReadingColumns?
        let complete = object { reader, key in
            switch key {
            case Array("node".utf8):
                node = reader.text().flatMap(NodeID.init(hex:))
                return node != nil
            case Array("stream".utf8):
                stream = reader.text().flatMap(SyncStream.init(rawValue:))
                return stream != nil
            case Array("fromSeq".utf8):
                fromSeq = reader.integer()
                return fromSeq != nil
            case Array("toSeq".utf8):
                toSeq = reader.integer()
                return toSeq != nil
            case Array("events".utf8): return reader.null()
            case Array("readings".utf8):
                columns = reader.readingColumns()
                return columns != nil
            default: return false
            }
        }
        guard complete, let node, let stream, let fromSeq, let toSeq, let columns else { return nil }
        return PushRequest(node: node, stream: stream, fromSeq: fromSeq, toSeq: toSeq, events: nil, readings: columns)
    }

    mutating func readingColumns() -> ReadingColumns? {
        var columns = ReadingColumns()
        var seen = Set<[UInt8]>()
        let complete = object { reader, key in
            seen.insert(key)
            switch key {
            case Array("sensors".utf8): return reader.array { $0.text() }.map { columns.sensors = $0 } != nil
            case Array("epochs".utf8): return reader.array { $0.epoch() }.map { columns.epochs = $0 } != nil
            case Array("id".utf8): return reader.array { $0.integer() }.map { columns.id = $0 } != nil
            case Array("sensor".utf8): return reader.array { $0.integer().flatMap { Int(exactly: $0) } }.map { columns.sensor = $0 } != nil
            case Array("time".utf8): return reader.array { $0.integer() }.map { columns.time = $0 } != nil
            case Array("value".utf8): return reader.array { $0.double() }.map { columns.value = $0 } != nil
            case Array("epoch".utf8): return reader.array { $0.integer().flatMap { Int(exactly: $0) } }.map { columns.epoch = $0 } != nil
            default: return false
            }
        }
        let fields: Set<[UInt8]> = Set(["sensors", "epochs", "id", "sensor", "time", "value", "epoch"].map { Array($0.utf8) })
        guard complete, seen == fields else { return nil }
        return columns
    }

    mutating func epoch() -> WireEpoch? {
        var id: Int64?, bootID: String?, quality: String?, startedHLC: Int64?, startedMonotonic: Int64?
        let complete = object { reader, key in
            switch key {
            case Array("id".utf8): id = reader.integer()
            case Array("bootID".utf8): bootID = reader.text()
            case Array("quality".utf8): quality = reader.text()
            case Array("startedHLC".utf8): startedHLC = reader.integer()
            case Array("startedMonotonicNanoseconds".utf8): startedMonotonic = reader.integer()
            default: return false
            }
            return true
        }
        guard complete, let id, let bootID, let quality, let startedHLC, let startedMonotonic else { return nil }
        return WireEpoch(id: id, bootID: bootID, quality: quality, startedHLC: startedHLC, startedMonotonicNanoseconds: startedMonotonic)
    }
}
