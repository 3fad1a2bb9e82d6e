/// A node's identity: 16 random bytes made at `smollama init`, never derived from the hostname,
/// so a re-imaged Pi with the same name is a new node and a cloned card is detectable.
public struct NodeID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(hex: String) {
        guard hex.count == 32, let bytes = [UInt8](hexString: hex) else { return nil }
        self.bytes = bytes
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 16, "a node id is 16 bytes")
        self.bytes = bytes
    }

    public static func random() -> NodeID {
        var generator = SystemRandomNumberGenerator()
        return NodeID(bytes: (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    public var hex: String { bytes.hexString }
    public var description: String { hex }
    /// The first 8 hex digits: enough to tell nodes apart on a screen.
    public var short: String { String(hex.prefix(8)) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let id = NodeID(hex: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "a node id is 32 hex digits, got '\(text)'")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// A sensor's stable name, chosen in the config (`living_room.temperature`). It survives
/// restarts and config reordering, which the database's integer ids do not promise users.
public struct SensorID: Hashable, Sendable, Codable, Comparable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    public let rawValue: String

    /// Lower-case letters, digits, `_`, `-` and `.` separators; 1 to 64 characters.
    public static func validate(_ text: String) -> Bool {
        guard (1...64).contains(text.count), text.first != ".", text.last != "." else { return false }
        return text.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "_-.".contains($0) }
    }

    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: SensorID, rhs: SensorID) -> Bool { lhs.rawValue < rhs.rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

extension Array where Element == UInt8 {
    public init?(hexString: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hexString.utf8.count / 2)
        var high: UInt8?
        for char in hexString.utf8 {
            let nibble: UInt8
            switch char {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = char - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = char - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = char - UInt8(ascii: "A") + 10
            default: return nil
            }
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        guard high == nil else { return nil }
        self = bytes
    }

    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
