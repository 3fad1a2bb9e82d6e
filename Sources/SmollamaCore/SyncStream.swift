/// What sync moves, in the order a node sends it: the event log's streams (most precious first),
/// then raw readings (the node's `readings` table, its seqs are reading ids). Coded as the same
/// strings as before it was a type, so the wire and the `stream` columns are unchanged.
///
/// Adding a stream is a protocol change (bump `SyncProtocol.version`): a peer that names a
/// stream this build does not know is refused with the accepted names, never guessed at.
public enum SyncStream: String, StreamName, CustomStringConvertible {
    case control
    case notices
    case memories
    case observations
    case rollups
    case readings

    public init(_ stream: EventStream) {
        switch stream {
        case .control: self = .control
        case .notices: self = .notices
        case .memories: self = .memories
        case .observations: self = .observations
        case .rollups: self = .rollups
        }
    }

    /// The event stream this is, or nil for raw readings.
    public var eventStream: EventStream? {
        switch self {
        case .control: .control
        case .notices: .notices
        case .memories: .memories
        case .observations: .observations
        case .rollups: .rollups
        case .readings: nil
        }
    }

    public var description: String { rawValue }
}

/// A closed set of stream names (`EventStream`, `SyncStream`): ordered as declared, and decoded
/// only from a name this build knows, refusing any other with the accepted ones.
public protocol StreamName: RawRepresentable<String>, CaseIterable, Comparable, Codable, Sendable, Hashable {}

extension StreamName {
    /// The accepted names, for refusals.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let stream = Self(rawValue: name) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown stream '\(name)'; streams are \(Self.names)")
        }
        self = stream
    }
}
