import Foundation
import SmollamaCore

/// Reads an observation event's payload without `JSONDecoder`, for the log and observation
/// lists (a 200-entry list spent a quarter of its time decoding). It takes only what it fully
/// understands — one flat JSON object holding exactly the record's members (`confidence` may be
/// absent or null), each once, strings with their escapes, numbers in JSON's grammar, integers
/// where the record has integers — and answers nil for anything else, so the caller falls back
/// to `Event.body` and a payload reads exactly as `JSONDecoder` reads it (`ObservationPayloadTests`
/// compares the two).
enum ObservationPayload {
    static func read(_ payload: Data) -> ObservationRecord? {
        payload.withUnsafeBytes { bytes in
            var reader = Reader(bytes: bytes)
            return reader.record()
        }
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        mutating func record() -> ObservationRecord? {
            var id: String?, kind: String?, text: String?, generator: TextGenerator?
            var subjects: [String]?, evidenceIDs: [String]?
            var importance: Double?, confidence: Double?, sawConfidence = false
            var support: Int64?, timeStart: Int64?, timeEnd: Int64?
            guard take(UInt8(ascii: "{")) else { return nil }
            repeat {
                guard let key = string(), take(UInt8(ascii: ":")) else { return nil }
                switch key {
                case "id" where id == nil: id = string()
                case "kind" where kind == nil: kind = string()
                case "text" where text == nil: text = string()
                case "generator" where generator == nil: generator = string().flatMap(TextGenerator.init(rawValue:))
                case "subjects" where subjects == nil: subjects = strings()
                case "evidenceIDs" where evidenceIDs == nil: evidenceIDs = strings()
                case "importance" where importance == nil: importance = double()
                case "support" where support == nil: support = integer()
                case "timeStart" where timeStart == nil: timeStart = integer()
                case "timeEnd" where timeEnd == nil: timeEnd = integer()
                case "confidence" where !sawConfidence:
                    sawConfidence = true
                    if !null() {
                        guard let value = double() else { return nil }
                        confidence = value
                    }
                default: return nil  // unknown or repeated: JSONDecoder's rules decide
                }
            } while take(UInt8(ascii: ","))
            guard take(UInt8(ascii: "}")) else { return nil }
            skipSpace()
            guard index == bytes.count, let id, let kind, let text, let generator, let subjects, let evidenceIDs,
                  let importance, let support, let timeStart, let timeEnd, let support = Int(exactly: support)
            else { return nil }
            return ObservationRecord(
                id: id, kind: kind, subjects: subjects, text: text, evidenceIDs: evidenceIDs, importance: importance,
                generator: generator, support: support, timeStart: UTCMillis(rawValue: timeStart),
                timeEnd: UTCMillis(rawValue: timeEnd), confidence: confidence)
        }

        mutating func skipSpace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        /// The next non-space byte if it is `byte`, consumed.
        mutating func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func null() -> Bool {
            skipSpace()
            guard bytes.count - index >= 4, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
                  bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
            else { return false }
            index += 4
            return true
        }

        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            var unescaped: [UInt8]?
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let text = if let unescaped {
                        unescaped.withUnsafeBufferPointer(Self.text)
                    } else {
                        Self.text(UnsafeRawBufferPointer(rebasing: bytes[start..<index]).assumingMemoryBound(to: UInt8.self))
                    }
                    index += 1
                    return text
                }
                if byte < 0x20 { return nil }
                if byte != UInt8(ascii: "\\") {
                    unescaped?.append(byte)
                    index += 1
                    continue
                }
                if unescaped == nil { unescaped = Array(bytes[start..<index]) }
                guard index + 1 < bytes.count else { return nil }
                let escape = bytes[index + 1]
                index += 2
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped?.append(escape)
                case UInt8(ascii: "b"): unescaped?.append(0x08)
                case UInt8(ascii: "f"): unescaped?.append(0x0C)
                case UInt8(ascii: "n"): unescaped?.append(0x0A)
                case UInt8(ascii: "r"): unescaped?.append(0x0D)
                case UInt8(ascii: "t"): unescaped?.append(0x09)
                case UInt8(ascii: "u"):
                    guard let unit = hex4() else { return nil }
                    var scalar = UInt32(unit)
                    if (0xD800..<0xDC00).contains(unit) {
                        // A high surrogate only as the first half of a pair.
                        guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"),
                              bytes[index + 1] == UInt8(ascii: "u") else { return nil }
                        index += 2
                        guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + (UInt32(unit - 0xD800) << 10) + UInt32(low - 0xDC00)
                    }
                    guard let value = Unicode.Scalar(scalar) else { return nil }
                    unescaped?.append(contentsOf: String(Character(value)).utf8)
                default: return nil
                }
            }
            return nil
        }

        /// The bytes as a string, or nil when they are not UTF-8 (which `JSONDecoder` refuses;
        /// `String(decoding:)` would repair them, and its generic `String(validating:)` costs a
        /// tenth of a 200-entry list).
        static func text(_ utf8: UnsafeBufferPointer<UInt8>) -> String? {
            let text = String(decoding: utf8, as: UTF8.self)
            let same = text.utf8.withContiguousStorageIfAvailable { stored in
                guard stored.count == utf8.count, let left = stored.baseAddress, let right = utf8.baseAddress else {
                    return stored.count == utf8.count
                }
                return memcmp(left, right, stored.count) == 0
            } ?? text.utf8.elementsEqual(utf8)
            return same ? text : nil
        }

        mutating func hex4() -> UInt16? {
            guard bytes.count - index >= 4 else { return nil }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt16(digit)
                index += 1
            }
            return value
        }

        mutating func strings() -> [String]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var values: [String] = []
            if take(UInt8(ascii: "]")) { return values }
            repeat {
                guard let value = string() else { return nil }
                values.append(value)
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]")) ? values : nil
        }

        /// A number's text in JSON's grammar, and whether it is a plain integer.
        mutating func number() -> (text: String, integer: Bool)? {
            skipSpace()
            let start = index
            func digits() -> Int {
                let from = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                return index - from
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            let leading = index
            guard digits() > 0, bytes[leading] != UInt8(ascii: "0") || index == leading + 1 else { return nil }
            var integer = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                integer = false
                guard digits() > 0 else { return nil }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                integer = false
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { return nil }
            }
            return (String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self), integer)
        }

        mutating func double() -> Double? {
            guard let number = number(), let value = Double(number.text), value.isFinite else { return nil }
            return value
        }

        /// A plain integer (no fraction, no exponent, not `-0`) that fits.
        mutating func integer() -> Int64? {
            guard let number = number(), number.integer, number.text != "-0" else { return nil }
            return Int64(number.text)
        }
    }
}
