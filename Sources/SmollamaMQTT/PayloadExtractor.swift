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

/// Why a payload gave no value. Counted per sensor and logged with the topic; never stored.
public enum PayloadProblem: Error, Hashable, Sendable, CustomStringConvertible {
    case tooLarge(bytes: Int, limit: Int)
    case notText
    case notJSON
    case missingKey(String)
    case wrongType(path: String, found: String, expected: String)
    /// The announced `value_template` failed for this payload.
    case template(TemplateProblem)

    public var description: String {
        switch self {
        case .tooLarge(let bytes, let limit): "payload of \(bytes) bytes exceeds max_payload (\(limit))"
        case .notText: "payload is not UTF-8 text"
        case .notJSON: "payload is not JSON, but the sensor reads JSON (a 'path' or value_json)"
        case .missingKey(let path): "payload has no '\(path)'"
        case .wrongType(let path, let found, let expected):
            "'\(path.isEmpty ? "payload" : path)' is \(found); expected \(expected)"
        case .template(let problem): "\(problem)"
        }
    }

    /// Missing keys are normal (Zigbee2MQTT and Tasmota send partial updates), not malformed.
    public var isMalformed: Bool {
        if case .missingKey = self { return false }
        return true
    }
}

/// How one sensor's value is read out of a message: a plain value, a dotted key path into JSON
/// (`temperature` for Zigbee2MQTT, `BME280.Temperature` for Tasmota, `a.0.b` for lists), or an
/// announced `value_template`. Binary sensors match `payload_on`/`payload_off` as words, JSON
/// booleans or numbers (`payload_on: false` matches `{"contact": false}`); hand-written sensors
/// (`lenient`) also take true/false and 0/1; `invert` swaps on and off at the end.
public struct PayloadExtractor: Hashable, Sendable {
    public enum Source: Hashable, Sendable {
        case path([String])
        case template(ValueTemplate)
    }

    public var source: Source
    public var kind: SensorDescriptor.Kind
    public var payloadOn: String
    public var payloadOff: String
    public var lenient: Bool
    public var invert: Bool
    public var maxPayload: Int

    public init(path: String, kind: SensorDescriptor.Kind, payloadOn: String = "ON", payloadOff: String = "OFF",
                invert: Bool = false, maxPayload: Int = 65536) {
        self.init(source: .path(path.isEmpty ? [] : path.split(separator: ".").map(String.init)), kind: kind,
                  payloadOn: payloadOn, payloadOff: payloadOff, lenient: true, invert: invert, maxPayload: maxPayload)
    }

    public init(source: Source, kind: SensorDescriptor.Kind, payloadOn: String, payloadOff: String, lenient: Bool,
                invert: Bool = false, maxPayload: Int = 65536) {
        self.source = source
        self.kind = kind
        self.payloadOn = Self.word(.string(payloadOn))
        self.payloadOff = Self.word(.string(payloadOff))
        self.lenient = lenient
        self.invert = invert
        self.maxPayload = maxPayload
    }

    public func value(from payload: [UInt8]) -> Result<Double, PayloadProblem> {
        guard payload.count <= maxPayload else { return .failure(.tooLarge(bytes: payload.count, limit: maxPayload)) }
        switch source {
        case .template(let template):
            guard let text = String(validating: payload, as: UTF8.self) else { return .failure(.notText) }
            var json: TemplateValue?
            if template.usesJSON {
                guard let root = try? JSONDecoder().decode(JSONValue.self, from: Data(payload)) else {
                    return .failure(.notJSON)
                }
                json = TemplateValue(root)
            }
            do {
                guard let rendered = try template.render(value: text, json: json) else {
                    return .failure(.missingKey(template.source))
                }
                return scalar(rendered, at: "")
            } catch {
                return .failure(.template(error))
            }
        case .path(let path) where path.isEmpty:
            guard let text = String(validating: payload, as: UTF8.self) else { return .failure(.notText) }
            return scalar(.string(text.trimmingCharacters(in: .whitespacesAndNewlines)), at: "")
        case .path(let path):
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
            return scalar(TemplateValue(node), at: path.joined(separator: "."))
        }
    }

    /// A payload word as compared: JSON booleans and `true`/`True` alike, numbers by value
    /// (`1`, `1.0`), text trimmed and case-insensitive.
    public static func word(_ value: TemplateValue) -> String {
        switch value {
        case .string(let text):
            let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if let n = Double(trimmed), n.isFinite { return TemplateValue.number(n).printed }
            return trimmed.lowercased()
        case .bool(let b): return b ? "true" : "false"
        default: return value.printed.lowercased()
        }
    }

    private func scalar(_ value: TemplateValue, at path: String) -> Result<Double, PayloadProblem> {
        switch (kind, value) {
        case (.numeric, .number(let n)) where n.isFinite:
            return .success(n)
        case (.numeric, .string(let text)):
            if let n = Double(text.trimmingCharacters(in: .whitespaces)), n.isFinite { return .success(n) }
            return .failure(.wrongType(path: path, found: value.kindName, expected: "a number"))
        case (.numeric, _):
            return .failure(.wrongType(path: path, found: value.kindName, expected: "a number"))
        case (.binary, _):
            let word = Self.word(value)
            var on: Bool?
            if word == payloadOn { on = true } else if word == payloadOff { on = false }
            else if lenient, word == "true" || word == "1" { on = true }
            else if lenient, word == "false" || word == "0" { on = false }
            guard let on else {
                let words = lenient ? "true/false, 0/1, \"\(payloadOn)\" or \"\(payloadOff)\""
                    : "payload_on \"\(payloadOn)\" or payload_off \"\(payloadOff)\""
                return .failure(.wrongType(path: path, found: value.kindName, expected: words))
            }
            return .success(on != invert ? 1 : 0)
        }
    }
}
