import Foundation
public import MCP

/// What one argument of a tool is: its JSON type and range. The input schema a client is shown
/// and the check every call's arguments pass are both made from these, so they cannot disagree.
public enum ArgumentType: Sendable, Hashable {
    case string
    /// A non-empty string.
    case text
    case boolean
    case integer(ClosedRange<Int>)
    /// A list of strings.
    case strings
    /// One of these strings.
    case choice([String])
    /// A time: a duration back from now (`24h`, `7d`), an ISO 8601 time (with its offset, or UTC),
    /// a date, or Unix milliseconds (`ToolTime.parse`).
    case time

    /// What a value must be, for an error message and the schema's description.
    var expected: String {
        switch self {
        case .string: "a string"
        case .text: "a non-empty string"
        case .boolean: "true or false"
        case .integer(let range): "an integer from \(range.lowerBound) to \(range.upperBound)"
        case .strings: "a list of strings"
        case .choice(let values): "one of " + values.map { "\"\($0)\"" }.joined(separator: ", ")
        case .time: "a time: a duration back from now (24h, 7d), an ISO 8601 time (2026-11-25T07:00:00+01:00), "
            + "a date (2026-11-25) or Unix milliseconds"
        }
    }

    var schema: [String: Value] {
        switch self {
        case .string: ["type": "string"]
        case .text: ["type": "string", "minLength": 1]
        case .boolean: ["type": "boolean"]
        case .integer(let range):
            ["type": "integer", "minimum": .int(range.lowerBound), "maximum": .int(range.upperBound)]
        case .strings: ["type": "array", "items": ["type": "string"]]
        case .choice(let values): ["type": "string", "enum": .array(values.map(Value.string))]
        case .time: ["type": "string"]
        }
    }

    /// Whether `value` is of this type (times are parsed when the tool runs, against its clock).
    func accepts(_ value: Value) -> Bool {
        switch (self, value) {
        case (.string, .string), (.time, .string), (.boolean, .bool): true
        case (.text, .string(let text)): !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        case (.integer(let range), .int(let number)): range.contains(number)
        case (.integer(let range), .double(let number)):
            number.rounded() == number && Double(range.lowerBound) <= number && number <= Double(range.upperBound)
        case (.strings, .array(let items)): items.allSatisfy { $0.stringValue != nil }
        case (.choice(let values), .string(let text)): values.contains(text)
        default: false
        }
    }
}

/// One argument: its name on the wire (the Swift type's coding key), its type, whether it is
/// required, and what it means.
public struct ArgumentField: Sendable, Hashable {
    public var name: String
    public var type: ArgumentType
    public var required: Bool
    public var summary: String

    public init(_ name: String, _ type: ArgumentType, required: Bool = false, _ summary: String) {
        self.name = name
        self.type = type
        self.required = required
        self.summary = summary
    }
}

/// A tool's arguments as a Swift type that describes itself: `fields` makes the input schema
/// and checks a call's arguments (naming the argument and what it expects), then the checked
/// object is decoded into the type with its own `Codable`. A test decodes every type from its
/// own schema's fields and encodes it back to the same keys.
public protocol ToolArguments: Codable, Sendable {
    static var fields: [ArgumentField] { get }
}

extension ToolArguments {
    /// The JSON Schema a client is shown (`tools/list`).
    public static var inputSchema: Value {
        var properties: [String: Value] = [:]
        for field in fields {
            var property = field.type.schema
            property["description"] = .string(field.summary + (field.type == .time ? " (\(field.type.expected))" : ""))
            properties[field.name] = .object(property)
        }
        return .object([
            "type": "object",
            "properties": .object(properties),
            "required": .array(fields.filter(\.required).map { .string($0.name) }),
            "additionalProperties": false,
        ])
    }

    /// The arguments of a call to `tool`, checked against `fields`; an `invalidParams` error
    /// names the first argument that is missing, unknown or not what its field expects.
    public static func decode(_ arguments: [String: Value]?, tool: String) throws -> Self {
        let given = (arguments ?? [:]).filter { $0.value != .null }
        for name in given.keys.sorted() where !fields.contains(where: { $0.name == name }) {
            throw MCPError.invalidParams(
                "\(tool): no argument '\(name)'; its arguments are " + fields.map(\.name).joined(separator: ", "))
        }
        for field in fields {
            guard let value = given[field.name] else {
                if field.required {
                    throw MCPError.invalidParams("\(tool): argument '\(field.name)' is required: \(field.type.expected)")
                }
                continue
            }
            guard field.type.accepts(value) else {
                throw MCPError.invalidParams(
                    "\(tool): argument '\(field.name)' must be \(field.type.expected) (got \(describe(value)))")
            }
        }
        do {
            return try JSONDecoder().decode(Self.self, from: JSONEncoder().encode(Value.object(given)))
        } catch {
            throw MCPError.invalidParams("\(tool): the arguments do not fit (\(error))")
        }
    }

    static func describe(_ value: Value) -> String {
        let text = (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? "\(value)"
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }
}
