import Foundation

/// The part of Home Assistant's Jinja templates that Zigbee2MQTT, Tasmota and ESPHome put in
/// their announcements' `value_template`: `{{ value_json.temperature }}`,
/// `{{ value_json['BME280']['Temperature'] }}`, `{{ value_json.a.b[0] | float | round(1) }}`,
/// `{{ value | int }}`, comparisons, `and`/`or`/`not`, `x if c else y`, and the filters
/// `float`, `int`, `round(n)`, `is_defined`, `lower`, `upper`, `string`.
///
/// Parsed once when the announcement arrives; anything else (`{% %}` blocks, other filters,
/// functions such as `now()`, slices) is refused then with a reason that names it, so the
/// entity is listed as unsupported instead of being adopted with wrong values.
public struct ValueTemplate: Hashable, Sendable {
    /// One part of the template: literal text or `{{ expression }}`.
    enum Part: Hashable, Sendable {
        case text(String)
        case expression(Expression)
    }

    indirect enum Expression: Hashable, Sendable {
        case literal(TemplateValue)
        case variable(String)
        case member(Expression, String)
        case index(Expression, Expression)
        case filter(Expression, String, [Expression])
        case compare(Expression, String, Expression)
        case and(Expression, Expression)
        case or(Expression, Expression)
        case not(Expression)
        case conditional(Expression, condition: Expression, otherwise: Expression)
        case isDefined(Expression, negated: Bool)
    }

    let parts: [Part]
    /// Whether the template reads `value_json` (the payload must then be JSON).
    public let usesJSON: Bool
    public let source: String

    static let filters: Set<String> = ["float", "int", "round", "is_defined", "lower", "upper", "string"]

    public init(_ source: String) throws(TemplateProblem) {
        self.source = source
        var parts: [Part] = []
        var rest = Substring(source)
        if rest.contains("{%") || rest.contains("{#") {
            throw .unsupported("{% %} and {# #} blocks")
        }
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else { throw .syntax("'{{' without '}}'") }
            var parser = TemplateParser(String(rest[open.upperBound..<close.lowerBound]))
            parts.append(.expression(try parser.parseAll()))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
        usesJSON = source.contains("value_json")
    }

    /// `{{ value }}`: the payload as it is.
    public static let plainValue = ValueTemplate(parts: [.expression(.variable("value"))], usesJSON: false,
                                                 source: "{{ value }}")

    private init(parts: [Part], usesJSON: Bool, source: String) {
        self.parts = parts
        self.usesJSON = usesJSON
        self.source = source
    }

    /// Renders the template for one payload. A single `{{ }}` (with only blanks around it) keeps
    /// its type (a number stays a number); several parts join as text, as Jinja prints them.
    /// `nil` is Jinja's undefined: the payload lacks what the template reads (a partial update).
    public func render(value: String, json: TemplateValue?) throws(TemplateProblem) -> TemplateValue? {
        var evaluator = TemplateEvaluator(value: value, json: json)
        let expressions = parts.compactMap { part -> Expression? in
            if case .expression(let e) = part { return e }
            return nil
        }
        let blankText = parts.allSatisfy { part in
            if case .text(let t) = part { return t.allSatisfy(\.isWhitespace) }
            return true
        }
        if expressions.count == 1, blankText { return try evaluator.evaluate(expressions[0]) }
        var text = ""
        for part in parts {
            switch part {
            case .text(let t): text += t
            case .expression(let e):
                guard let value = try evaluator.evaluate(e) else { return nil }
                text += value.printed
            }
        }
        return .string(text)
    }
}

/// Why a template cannot be used or gave no value.
public enum TemplateProblem: Error, Hashable, Sendable, CustomStringConvertible {
    /// A Jinja feature outside the subset: the entity is not adopted.
    case unsupported(String)
    case syntax(String)
    /// Evaluation failed for this payload (e.g. `| float` of "warm").
    case evaluation(String)

    public var description: String {
        switch self {
        case .unsupported(let what): "unsupported template: \(what)"
        case .syntax(let what): "unsupported template: cannot parse it (\(what))"
        case .evaluation(let what): "template: \(what)"
        }
    }
}

/// A value inside a template: Python's types as JSON brings them (`true` is never 1).
public enum TemplateValue: Hashable, Sendable {
    case none, bool(Bool), number(Double), string(String), list([TemplateValue]), object([String: TemplateValue])

    init(_ json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .number(let n): self = .number(n)
        case .string(let s): self = .string(s)
        case .array(let a): self = .list(a.map(TemplateValue.init))
        case .object(let o): self = .object(o.mapValues(TemplateValue.init))
        }
    }

    /// As Jinja prints it (`True`, `21.5`, `3`), so templates that build text compare as in HA.
    var printed: String {
        switch self {
        case .none: "None"
        case .bool(let b): b ? "True" : "False"
        case .number(let n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .string(let s): s
        case .list: "[…]"
        case .object: "{…}"
        }
    }

    var truthy: Bool {
        switch self {
        case .none: false
        case .bool(let b): b
        case .number(let n): n != 0
        case .string(let s): !s.isEmpty
        case .list(let l): !l.isEmpty
        case .object(let o): !o.isEmpty
        }
    }

    var kindName: String {
        switch self {
        case .none: "null"
        case .bool(let b): "\(b)"
        case .number: "the number \(printed)"
        case .string(let s): "the text \"\(s.prefix(20))\""
        case .list: "a list"
        case .object: "an object"
        }
    }
}

/// Evaluates parsed expressions for one payload.
struct TemplateEvaluator {
    let value: String
    let json: TemplateValue?

    mutating func evaluate(_ expression: ValueTemplate.Expression) throws(TemplateProblem) -> TemplateValue? {
        switch expression {
        case .literal(let v): return v
        case .variable("value"): return .string(value)
        case .variable("value_json"):
            guard let json else { throw .evaluation("the payload is not JSON") }
            return json
        case .variable(let name):
            throw .evaluation("'\(name)' is not defined")
        case .member(let base, let key):
            return try member(evaluate(base), key)
        case .index(let base, let key):
            guard let keyValue = try evaluate(key) else { return nil }
            return try member(evaluate(base), keyValue)
        case .filter(let base, let name, let arguments):
            let input = try evaluate(base)
            var args: [TemplateValue] = []
            for argument in arguments {
                guard let value = try evaluate(argument) else { throw .evaluation("an argument of '\(name)' is undefined") }
                args.append(value)
            }
            return try TemplateFilters.apply(name, to: input, arguments: args)
        case .compare(let lhs, let op, let rhs):
            guard let l = try evaluate(lhs), let r = try evaluate(rhs) else { return nil }
            return .bool(try TemplateFilters.compare(l, op, r))
        case .and(let lhs, let rhs):
            guard let l = try evaluate(lhs) else { return nil }
            return l.truthy ? try evaluate(rhs) : l
        case .or(let lhs, let rhs):
            guard let l = try evaluate(lhs) else { return try evaluate(rhs) }
            return l.truthy ? l : try evaluate(rhs)
        case .not(let inner):
            return .bool(!(try evaluate(inner)?.truthy ?? false))
        case .conditional(let then, let condition, let otherwise):
            return (try evaluate(condition)?.truthy ?? false) ? try evaluate(then) : try evaluate(otherwise)
        case .isDefined(let inner, let negated):
            let defined = try evaluate(inner) != nil
            return .bool(defined != negated)
        }
    }

    private func member(_ base: TemplateValue?, _ key: TemplateValue) throws(TemplateProblem) -> TemplateValue? {
        guard let base else { return nil }
        switch (base, key) {
        case (.object(let members), .string(let name)): return members[name]
        case (.list(let items), .number(let n)):
            let index = Int(n) < 0 ? items.count + Int(n) : Int(n)
            return items.indices.contains(index) ? items[index] : nil
        case (.object, _), (.list, _):
            throw .evaluation("cannot look up \(key.kindName) in \(base.kindName)")
        default:
            return nil  // Jinja: an attribute of a scalar is undefined
        }
    }

    private func member(_ base: TemplateValue?, _ key: String) throws(TemplateProblem) -> TemplateValue? {
        try member(base, .string(key))
    }
}
