// A DNS message encoder and decoder for multicast DNS (RFC 1035 §4, RFC 6762, RFC 6763): only
// what hub discovery needs (A, PTR, TXT, SRV; other types kept as bytes). Decoding never traps:
// every read is bounds-checked, compression pointers must point backwards (so they cannot loop),
// and anything malformed is a `DNSDecodeError` naming the problem and its offset.

/// A domain name as labels (`["hub", "_smollama", "_tcp", "local"]`). Names compare ignoring
/// ASCII case, as DNS does.
public struct DNSName: Sendable, Hashable, CustomStringConvertible {
    public var labels: [String]

    public init(labels: [String]) { self.labels = labels }

    /// From dotted text (`_smollama._tcp.local`); a trailing dot is allowed.
    public init(_ text: String) {
        labels = text.split(separator: ".", omittingEmptySubsequences: true).map(String.init)
    }

    public var description: String { labels.joined(separator: ".") }

    /// Lower-cased labels: the key names compare by.
    var key: [String] { labels.map { $0.lowercased() } }

    public static func == (a: DNSName, b: DNSName) -> Bool { a.key == b.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }

    /// This name with `label` in front (an instance of a service type).
    public func prepending(_ label: String) -> DNSName { DNSName(labels: [label] + labels) }
}

/// Record types this codec reads; others decode as `.other`.
public enum DNSType {
    public static let a: UInt16 = 1
    public static let ptr: UInt16 = 12
    public static let txt: UInt16 = 16
    public static let aaaa: UInt16 = 28
    public static let srv: UInt16 = 33
    public static let any: UInt16 = 255
}

public struct DNSQuestion: Sendable, Hashable {
    public var name: DNSName
    public var type: UInt16
    /// The mDNS "QU" bit (top bit of the class): the asker wants a unicast answer.
    public var unicastResponse: Bool

    public init(name: DNSName, type: UInt16, unicastResponse: Bool = false) {
        self.name = name
        self.type = type
        self.unicastResponse = unicastResponse
    }
}

public enum DNSRecordData: Sendable, Hashable {
    case a([UInt8])
    case ptr(DNSName)
    /// Character strings; DNS-SD's are `key=value`.
    case txt([String])
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    case other(type: UInt16, bytes: [UInt8])

    public var type: UInt16 {
        switch self {
        case .a: DNSType.a
        case .ptr: DNSType.ptr
        case .txt: DNSType.txt
        case .srv: DNSType.srv
        case .other(let type, _): type
        }
    }
}

public struct DNSRecord: Sendable, Hashable {
    public var name: DNSName
    public var data: DNSRecordData
    public var ttl: UInt32
    /// The mDNS cache-flush bit (top bit of the class): this record replaces cached ones.
    public var cacheFlush: Bool

    public init(name: DNSName, data: DNSRecordData, ttl: UInt32, cacheFlush: Bool = false) {
        self.name = name
        self.data = data
        self.ttl = ttl
        self.cacheFlush = cacheFlush
    }
}

public struct DNSMessage: Sendable, Hashable {
    public var id: UInt16 = 0
    public var isResponse = false
    public var authoritative = false
    public var questions: [DNSQuestion] = []
    public var answers: [DNSRecord] = []
    public var authorities: [DNSRecord] = []
    public var additionals: [DNSRecord] = []

    public init(id: UInt16 = 0, isResponse: Bool = false, authoritative: Bool = false, questions: [DNSQuestion] = [],
                answers: [DNSRecord] = [], additionals: [DNSRecord] = []) {
        self.id = id
        self.isResponse = isResponse
        self.authoritative = authoritative
        self.questions = questions
        self.answers = answers
        self.additionals = additionals
    }

    /// Every record of the message (answers, authorities, additionals).
    public var records: [DNSRecord] { answers + authorities + additionals }

    /// The largest message this codec makes or reads: mDNS packets fit an Ethernet frame
    /// (RFC 6762 §17 allows up to 9000 bytes; we stay far below).
    public static let maxSize = 9000
}

/// Why a packet is not a DNS message we read, and where.
public struct DNSDecodeError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    public var offset: Int

    public var description: String { "malformed DNS message at byte \(offset): \(reason)" }
}

// MARK: encoding

public enum DNSEncodeError: Error, Sendable, Hashable, CustomStringConvertible {
    case badLabel(String)
    case tooLarge(Int)

    public var description: String {
        switch self {
        case .badLabel(let label): "the DNS label '\(label)' is empty or longer than 63 bytes"
        case .tooLarge(let size): "the DNS message would be \(size) bytes, over \(DNSMessage.maxSize)"
        }
    }
}

extension DNSMessage {
    /// The message as bytes, names compressed (RFC 1035 §4.1.4) wherever a suffix was written
    /// before, except in SRV targets (RFC 2782 forbids it there).
    public func encode() throws(DNSEncodeError) -> [UInt8] {
        var writer = DNSWriter()
        writer.u16(id)
        writer.u16((isResponse ? 0x8000 : 0) | (authoritative ? 0x0400 : 0))
        writer.u16(UInt16(questions.count))
        writer.u16(UInt16(answers.count))
        writer.u16(UInt16(authorities.count))
        writer.u16(UInt16(additionals.count))
        for question in questions {
            try writer.name(question.name)
            writer.u16(question.type)
            writer.u16(1 | (question.unicastResponse ? 0x8000 : 0))
        }
        for record in records { try writer.record(record) }
        guard writer.bytes.count <= Self.maxSize else { throw .tooLarge(writer.bytes.count) }
        return writer.bytes
    }
}

struct DNSWriter {
    var bytes: [UInt8] = []
    /// Lower-cased name suffix → where it was written.
    var offsets: [[String]: Int] = [:]

    mutating func u16(_ value: UInt16) { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
    mutating func u32(_ value: UInt32) { u16(UInt16(value >> 16)); u16(UInt16(value & 0xFFFF)) }

    mutating func name(_ name: DNSName, compress: Bool = true) throws(DNSEncodeError) {
        let labels = name.labels
        let keys = name.key
        for index in labels.indices {
            let suffix = Array(keys[index...])
            if compress, let offset = offsets[suffix] {
                u16(0xC000 | UInt16(offset))
                return
            }
            if bytes.count < 0x3FFF { offsets[suffix] = bytes.count }
            let utf8 = Array(labels[index].utf8)
            guard (1...63).contains(utf8.count) else { throw .badLabel(labels[index]) }
            bytes.append(UInt8(utf8.count))
            bytes += utf8
        }
        bytes.append(0)
    }

    mutating func record(_ record: DNSRecord) throws(DNSEncodeError) {
        try name(record.name)
        u16(record.data.type)
        u16(1 | (record.cacheFlush ? 0x8000 : 0))
        u32(record.ttl)
        let lengthAt = bytes.count
        u16(0)
        switch record.data {
        case .a(let address): bytes += address
        case .ptr(let target): try name(target)
        case .txt(let strings):
            // An empty TXT record is one empty string (RFC 6763 §6.1).
            for string in strings.isEmpty ? [""] : strings {
                let utf8 = Array(string.utf8.prefix(255))
                bytes.append(UInt8(utf8.count))
                bytes += utf8
            }
        case .srv(let priority, let weight, let port, let target):
            u16(priority)
            u16(weight)
            u16(port)
            try name(target, compress: false)
        case .other(_, let data): bytes += data
        }
        let length = bytes.count - lengthAt - 2
        guard length <= 0xFFFF else { throw .tooLarge(bytes.count) }
        bytes[lengthAt] = UInt8(length >> 8)
        bytes[lengthAt + 1] = UInt8(length & 0xFF)
    }
}

// MARK: decoding

extension DNSMessage {
    /// Reads a message; anything malformed (truncated, a pointer loop or forward pointer, an
    /// over-long name, a record overrunning its length, trailing counts that cannot fit) is a
    /// `DNSDecodeError`, never a trap.
    public static func decode(_ bytes: [UInt8]) throws(DNSDecodeError) -> DNSMessage {
        guard bytes.count <= maxSize else { throw DNSDecodeError(reason: "\(bytes.count) bytes is over \(maxSize)", offset: 0) }
        var reader = DNSReader(bytes: bytes)
        var message = DNSMessage()
        message.id = try reader.u16("the header")
        let flags = try reader.u16("the header")
        message.isResponse = flags & 0x8000 != 0
        message.authoritative = flags & 0x0400 != 0
        guard flags & 0x7800 == 0 else {
            throw DNSDecodeError(reason: "opcode \((flags >> 11) & 0xF) is not a standard query", offset: 2)
        }
        let counts = [try reader.u16("the header"), try reader.u16("the header"), try reader.u16("the header"),
                      try reader.u16("the header")]
        // A question takes at least 5 bytes and a record 11: counts that cannot fit are refused
        // before anything is allocated for them.
        let least = Int(counts[0]) * 5 + Int(counts[1]) * 11 + Int(counts[2]) * 11 + Int(counts[3]) * 11
        guard least <= bytes.count - 12 else {
            throw DNSDecodeError(reason: "its counts (\(counts.map(String.init).joined(separator: ", "))) need more than its \(bytes.count) bytes", offset: 4)
        }
        for _ in 0..<counts[0] {
            let name = try reader.name()
            let type = try reader.u16("a question")
            let klass = try reader.u16("a question")
            message.questions.append(DNSQuestion(name: name, type: type, unicastResponse: klass & 0x8000 != 0))
        }
        for _ in 0..<counts[1] { message.answers.append(try reader.record()) }
        for _ in 0..<counts[2] { message.authorities.append(try reader.record()) }
        for _ in 0..<counts[3] { message.additionals.append(try reader.record()) }
        return message
    }
}

struct DNSReader {
    let bytes: [UInt8]
    var offset = 0

    func fail(_ reason: String, at offset: Int? = nil) -> DNSDecodeError {
        DNSDecodeError(reason: reason, offset: offset ?? self.offset)
    }

    mutating func u8(_ what: String) throws(DNSDecodeError) -> UInt8 {
        guard offset < bytes.count else { throw fail("\(what) is cut short") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16(_ what: String) throws(DNSDecodeError) -> UInt16 {
        UInt16(try u8(what)) << 8 | UInt16(try u8(what))
    }

    mutating func u32(_ what: String) throws(DNSDecodeError) -> UInt32 {
        UInt32(try u16(what)) << 16 | UInt32(try u16(what))
    }

    mutating func take(_ count: Int, _ what: String) throws(DNSDecodeError) -> [UInt8] {
        guard count >= 0, count <= bytes.count - offset else { throw fail("\(what) runs past the end of the packet") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// A name at the current offset, following compression pointers; each pointer must point
    /// before the label that holds it, so following them always ends.
    mutating func name() throws(DNSDecodeError) -> DNSName {
        var labels: [String] = []
        var length = 0
        var position = offset
        var jumped = false
        while true {
            guard position < bytes.count else { throw fail("a name is cut short", at: position) }
            let byte = bytes[position]
            switch byte & 0xC0 {
            case 0xC0:
                guard position + 1 < bytes.count else { throw fail("a name's pointer is cut short", at: position) }
                let target = Int(byte & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < position else {
                    throw fail("a name's pointer to \(target) does not point backwards (a loop)", at: position)
                }
                if !jumped { offset = position + 2 }
                jumped = true
                position = target
            case 0x00:
                if byte == 0 {
                    if !jumped { offset = position + 1 }
                    return DNSName(labels: labels)
                }
                let count = Int(byte)
                guard position + 1 + count <= bytes.count else { throw fail("a label runs past the end of the packet", at: position) }
                length += count + 1
                guard length <= 255 else { throw fail("a name is longer than 255 bytes", at: position) }
                let label = bytes[(position + 1)...(position + count)]
                guard let text = String(validating: label, as: UTF8.self) else {
                    throw fail("a label is not UTF-8", at: position)
                }
                labels.append(text)
                position += 1 + count
            default:
                throw fail("label type 0x\(String(byte, radix: 16)) is reserved", at: position)
            }
        }
    }

    mutating func record() throws(DNSDecodeError) -> DNSRecord {
        let owner = try name()
        let type = try u16("a record")
        let klass = try u16("a record")
        let ttl = try u32("a record")
        let length = Int(try u16("a record"))
        let start = offset
        guard length <= bytes.count - offset else { throw fail("a \(owner) record's \(length) bytes run past the end of the packet") }
        let end = start + length
        let data: DNSRecordData
        switch type {
        case DNSType.a:
            guard length == 4 else { throw fail("an A record holds \(length) bytes, not 4", at: start) }
            data = .a(try take(4, "an A record"))
        case DNSType.ptr:
            data = .ptr(try name())
        case DNSType.srv:
            guard length >= 7 else { throw fail("an SRV record holds \(length) bytes, fewer than 7", at: start) }
            data = .srv(priority: try u16("an SRV record"), weight: try u16("an SRV record"), port: try u16("an SRV record"),
                        target: try name())
        case DNSType.txt:
            var strings: [String] = []
            while offset < end {
                let count = Int(try u8("a TXT record"))
                guard count <= end - offset else { throw fail("a TXT string runs past its record", at: offset - 1) }
                strings.append(String(decoding: try take(count, "a TXT string"), as: UTF8.self))
            }
            data = .txt(strings.filter { !$0.isEmpty })
        default:
            data = .other(type: type, bytes: try take(length, "a record"))
        }
        guard offset == end else {
            throw fail("a \(owner) record's data is \(offset - start) bytes, but its length says \(length)", at: start)
        }
        return DNSRecord(name: owner, data: data, ttl: ttl, cacheFlush: klass & 0x8000 != 0)
    }
}
