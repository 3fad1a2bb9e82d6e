/// Decoding helpers shared by every configuration struct, so a typo in the config file is an
/// error that names the key instead of a silently ignored setting.

/// A coding key for any string, to see the keys a container really holds.
public struct AnyCodingKey: CodingKey, Hashable, Sendable {
    public var stringValue: String
    public var intValue: Int?
    public init(_ string: String) { stringValue = string }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) {
        stringValue = String(intValue)
        self.intValue = intValue
    }
}

/// A key in the config file that no setting reads.
public struct UnknownConfigKey: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var allowed: [String]
    public var description: String {
        "unknown key '\(path)'; expected one of: \(allowed.sorted().joined(separator: ", "))"
    }
}

extension Decoder {
    /// Throws `UnknownConfigKey` if the mapping being decoded holds a key not in `Keys`.
    public func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_ keys: Keys.Type) throws {
        try rejectUnknownKeys(allowed: Set(Keys.allCases.map(\.stringValue)))
    }

    public func rejectUnknownKeys(allowed: Set<String>) throws {
        let container = try container(keyedBy: AnyCodingKey.self)
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            let path = (codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw UnknownConfigKey(path: path, allowed: Array(allowed))
        }
    }
}

/// A duration as people write it in YAML: `500ms`, `10s`, `5m`, `1h`, `7d`, or a bare number of seconds.
public struct ConfigDuration: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public static func seconds(_ s: Int64) -> ConfigDuration { .init(milliseconds: s * 1000) }
    public static func minutes(_ m: Int64) -> ConfigDuration { .init(milliseconds: m * 60_000) }
    public static func hours(_ h: Int64) -> ConfigDuration { .init(milliseconds: h * 3_600_000) }
    public static func days(_ d: Int64) -> ConfigDuration { .init(milliseconds: d * 86_400_000) }

    public var duration: Duration { .milliseconds(milliseconds) }
    public static func < (lhs: ConfigDuration, rhs: ConfigDuration) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// The longest duration a setting takes (about 1000 years): beyond it a number is refused
    /// instead of trapping on its way to `Int64` (the config fuzzing found `interval: 1e19s`).
    public static let maxMilliseconds: Int64 = 1000 * 366 * 86_400_000

    /// `amount × scale` milliseconds when that is a duration a setting can take.
    static func milliseconds(_ amount: Double, scale: Double) -> Int64? {
        let value = (amount * scale).rounded()
        guard amount >= 0, value.isFinite, value <= Double(maxMilliseconds) else { return nil }
        return Int64(value)
    }

    public init?(parsing text: String) {
        let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        let trimmed = text.trimmingCharacters(in: " ")
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            // "5ms" also ends in "s": only accept when the rest is a number.
            if let value = Double(number) {
                guard let milliseconds = Self.milliseconds(value, scale: scale) else { return nil }
                self.milliseconds = milliseconds
                return
            }
        }
        guard let seconds = Double(trimmed), let milliseconds = Self.milliseconds(seconds, scale: 1000) else { return nil }
        self.milliseconds = milliseconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let seconds = try? container.decode(Double.self) {
            guard let milliseconds = Self.milliseconds(seconds, scale: 1000) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "\(seconds) is not a duration from 0 to 1000 years; write e.g. 500ms, 10s, 5m, 1h or 7d")
            }
            self.milliseconds = milliseconds
            return
        }
        let text = try container.decode(String.self)
        guard let parsed = ConfigDuration(parsing: text) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "'\(text)' is not a duration from 0 to 1000 years; write e.g. 500ms, 10s, 5m, 1h or 7d")
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var description: String {
        for (suffix, scale) in [("d", Int64(86_400_000)), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where milliseconds >= scale && milliseconds % scale == 0 {
            return "\(milliseconds / scale)\(suffix)"
        }
        return "\(milliseconds)ms"
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: Character) -> Substring {
        var text = Substring(self)
        while text.first == set { text = text.dropFirst() }
        while text.last == set { text = text.dropLast() }
        return text
    }
}
