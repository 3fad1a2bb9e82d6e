import Foundation
public import SmollamaCore

/// A JSON value, decoded strictly: `true` is never the number 1 and `"27.3"` is text.
enum JSONValue: Decodable, Sendable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    var kindName: String {
        switch self {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let n): "the number \(n)"
        case .string(let s): "the text \"\(s.prefix(20))\""
        case .array: "a list"
        case .object: "an object"
        }
    }
}

/// Why a payload gave no value. Counted and logged with the topic; never stored.
public enum PayloadProblem: Error, Hashable, Sendable, CustomStringConvertible {
    case tooLarge(bytes: Int, limit: Int)
    case notText
    case notJSON
    case missingKey(String)
    case wrongType(path: String, found: String, expected: String)

    public var description: String {
        switch self {
        case .tooLarge(let bytes, let limit): "payload of \(bytes) bytes exceeds max_payload (\(limit))"
        case .notText: "payload is not UTF-8 text"
        case .notJSON: "payload is not JSON, but the sensor has a 'path'"
        case .missingKey(let path): "payload has no '\(path)'"
        case .wrongType(let path, let found, let expected):
            "'\(path.isEmpty ? "payload" : path)' is \(found); expected \(expected)"
        }
    }

    /// Missing keys are normal (Zigbee2MQTT and Tasmota send partial updates), not malformed.
    public var isMalformed: Bool {
        if case .missingKey = self { return false }
        return true
    }
}

/// How one sensor's value is read out of a message: a plain number, or a dotted key path into
/// JSON (`temperature` for Zigbee2MQTT, `BME280.Temperature` for Tasmota, `a.0.b` for lists).
/// Binary sensors map JSON booleans, 0/1 and the configured on/off words.
public struct PayloadExtractor: Hashable, Sendable {
    public var path: [String]
    public var kind: SensorDescriptor.Kind
    public var payloadOn: String
    public var payloadOff: String
    public var maxPayload: Int

    public init(path: String, kind: SensorDescriptor.Kind, payloadOn: String = "ON", payloadOff: String = "OFF",
                maxPayload: Int = 65536) {
        self.path = path.isEmpty ? [] : path.split(separator: ".").map(String.init)
        self.kind = kind
        self.payloadOn = payloadOn
        self.payloadOff = payloadOff
        self.maxPayload = maxPayload
    }

    public func value(from payload: [UInt8]) -> Result<Double, PayloadProblem> {
        guard payload.count <= maxPayload else { return .failure(.tooLarge(bytes: payload.count, limit: maxPayload)) }
        guard !path.isEmpty else {
            guard let text = String(validating: payload, as: UTF8.self) else { return .failure(.notText) }
            return scalar(.string(text.trimmingCharacters(in: .whitespacesAndNewlines)), at: "")
        }
        guard let root = try? JSONDecoder().decode(JSONValue.self, from: Data(payload)) else {
            return .failure(.notJSON)
        }
        var node = root
        var walked: [String] = []
        for key in path {
            walked.append(key)
            switch node {
            case .object(let members):
                guard let next = members[key] else { return .failure(.missingKey(walked.joined(separator: "."))) }
                node = next
            case .array(let items):
                guard let index = Int(key), items.indices.contains(index) else {
                    return .failure(.missingKey(walked.joined(separator: ".")))
                }
                node = items[index]
            default:
                return .failure(.wrongType(path: walked.dropLast().joined(separator: "."), found: node.kindName,
                                           expected: "an object containing '\(key)'"))
            }
        }
        return scalar(node, at: path.joined(separator: "."))
    }

    private func scalar(_ value: JSONValue, at path: String) -> Result<Double, PayloadProblem> {
        switch (kind, value) {
        case (.numeric, .number(let n)):
            return .success(n)
        case (.numeric, .string(let text)):
            if let n = Double(text), n.isFinite { return .success(n) }
            return .failure(.wrongType(path: path, found: value.kindName, expected: "a number"))
        case (.numeric, _):
            return .failure(.wrongType(path: path, found: value.kindName, expected: "a number"))
        case (.binary, .bool(let b)):
            return .success(b ? 1 : 0)
        case (.binary, .number(let n)) where n == 0 || n == 1:
            return .success(n)
        case (.binary, .string(let text)):
            let word = text.lowercased()
            if word == payloadOn.lowercased() || word == "true" || word == "1" { return .success(1) }
            if word == payloadOff.lowercased() || word == "false" || word == "0" { return .success(0) }
            fallthrough
        case (.binary, _):
            return .failure(.wrongType(path: path, found: value.kindName,
                                       expected: "true/false, 0/1, \"\(payloadOn)\" or \"\(payloadOff)\""))
        }
    }
}
