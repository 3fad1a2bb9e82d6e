import Foundation

/// A recursive-descent parser for one `{{ expression }}` of the `ValueTemplate` subset.
///
///     conditional := or ('if' or 'else' conditional)?
///     or          := and ('or' and)*
///     and         := not ('and' not)*
///     not         := 'not' not | comparison
///     comparison  := filtered (('==' | '!=' | '<' | '<=' | '>' | '>=') filtered
///                    | 'is' 'not'? 'defined')?
///     filtered    := postfix ('|' name ('(' arguments ')')?)*
///     postfix     := primary ('.' name | '[' conditional ']')*
///     primary     := number | 'text' | "text" | true | false | none | name | '(' conditional ')'
struct TemplateParser {
    enum Token: Hashable {
        case name(String), number(Double), string(String), symbol(String)
    }

    private var tokens: [Token] = []
    private var position = 0
    private var lexError: TemplateProblem?

    init(_ text: String) {
        do { tokens = try Self.lex(text) } catch { lexError = error }
    }

    mutating func parseAll() throws(TemplateProblem) -> ValueTemplate.Expression {
        if let lexError { throw lexError }
        guard !tokens.isEmpty else { throw .syntax("an empty {{ }}") }
        let expression = try conditional()
        guard position == tokens.count else { throw .syntax("unexpected \(describe(tokens[position]))") }
        return expression
    }

    private var next: Token? { position < tokens.count ? tokens[position] : nil }

    private mutating func take(_ token: Token) -> Bool {
        guard next == token else { return false }
        position += 1
        return true
    }

    private mutating func expect(_ token: Token) throws(TemplateProblem) {
        guard take(token) else { throw .syntax("expected \(describe(token)) \(next.map { "before \(describe($0))" } ?? "at the end")") }
    }

    private func describe(_ token: Token) -> String {
        switch token {
        case .name(let n): "'\(n)'"
        case .number(let n): "'\(n)'"
        case .string(let s): "'\(s)'"
        case .symbol(let s): "'\(s)'"
        }
    }

    private mutating func conditional() throws(TemplateProblem) -> ValueTemplate.Expression {
        let then = try or()
        guard take(.name("if")) else { return then }
        let condition = try or()
        // Jinja allows a missing else (undefined); the projects we read always write one.
        try expect(.name("else"))
        return .conditional(then, condition: condition, otherwise: try conditional())
    }

    private mutating func or() throws(TemplateProblem) -> ValueTemplate.Expression {
        var lhs = try and()
        while take(.name("or")) { lhs = .or(lhs, try and()) }
        return lhs
    }

    private mutating func and() throws(TemplateProblem) -> ValueTemplate.Expression {
        var lhs = try not()
        while take(.name("and")) { lhs = .and(lhs, try not()) }
        return lhs
    }

    private mutating func not() throws(TemplateProblem) -> ValueTemplate.Expression {
        take(.name("not")) ? .not(try not()) : try comparison()
    }

    private mutating func comparison() throws(TemplateProblem) -> ValueTemplate.Expression {
        let lhs = try filtered()
        for op in ["==", "!=", "<=", ">=", "<", ">"] where take(.symbol(op)) {
            return .compare(lhs, op, try filtered())
        }
        if take(.name("is")) {
            let negated = take(.name("not"))
            guard case .name(let test)? = next else { throw .syntax("expected a test after 'is'") }
            position += 1
            guard test == "defined" || test == "undefined" else { throw .unsupported("the test 'is \(test)'") }
            return .isDefined(lhs, negated: negated != (test == "undefined"))
        }
        if case .name(let word)? = next, word == "in" { throw .unsupported("the 'in' operator") }
        return lhs
    }

    private mutating func filtered() throws(TemplateProblem) -> ValueTemplate.Expression {
        var base = try postfix()
        while take(.symbol("|")) {
            guard case .name(let name)? = next else { throw .syntax("expected a filter name after '|'") }
            position += 1
            guard ValueTemplate.filters.contains(name) else { throw .unsupported("the filter '\(name)'") }
            var arguments: [ValueTemplate.Expression] = []
            if take(.symbol("(")) {
                if !take(.symbol(")")) {
                    repeat { arguments.append(try conditional()) } while take(.symbol(","))
                    try expect(.symbol(")"))
                }
            }
            base = .filter(base, name, arguments)
        }
        return base
    }

    private mutating func postfix() throws(TemplateProblem) -> ValueTemplate.Expression {
        var base = try primary()
        while true {
            if take(.symbol(".")) {
                switch next {
                case .name(let key)?: base = .member(base, key)
                case .number(let n)? where n >= 0 && n == n.rounded(): base = .index(base, .literal(.number(n)))
                default: throw .syntax("expected a key after '.'")
                }
                position += 1
            } else if take(.symbol("[")) {
                if next == .symbol(":") { throw .unsupported("slices ([a:b])") }
                let key = try conditional()
                if next == .symbol(":") { throw .unsupported("slices ([a:b])") }
                try expect(.symbol("]"))
                base = .index(base, key)
            } else if next == .symbol("(") {
                throw .unsupported("function and method calls")
            } else {
                return base
            }
        }
    }

    private mutating func primary() throws(TemplateProblem) -> ValueTemplate.Expression {
        guard let token = next else { throw .syntax("the expression ends too early") }
        position += 1
        switch token {
        case .number(let n): return .literal(.number(n))
        case .string(let s): return .literal(.string(s))
        case .name("true"), .name("True"): return .literal(.bool(true))
        case .name("false"), .name("False"): return .literal(.bool(false))
        case .name("none"), .name("None"): return .literal(.none)
        case .name(let name) where name == "value" || name == "value_json":
            return .variable(name)
        case .name(let name):
            throw .unsupported("the name '\(name)' (only value and value_json are known)")
        case .symbol("("):
            let inner = try conditional()
            try expect(.symbol(")"))
            return inner
        case .symbol("-"):
            guard case .number(let n)? = next else { throw .unsupported("'-' other than before a number") }
            position += 1
            return .literal(.number(-n))
        case .symbol(let s):
            throw .syntax("unexpected '\(s)'")
        }
    }

    static func lex(_ text: String) throws(TemplateProblem) -> [Token] {
        var tokens: [Token] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace {
                i += 1
            } else if c.isLetter || c == "_" {
                var j = i
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                tokens.append(.name(String(chars[i..<j])))
                i = j
            } else if c.isNumber {
                var j = i
                while j < chars.count, chars[j].isNumber || chars[j] == "." && j + 1 < chars.count && chars[j + 1].isNumber {
                    j += 1
                }
                guard let n = Double(String(chars[i..<j])) else { throw .syntax("bad number") }
                tokens.append(.number(n))
                i = j
            } else if c == "'" || c == "\"" {
                var j = i + 1
                var s = ""
                while j < chars.count, chars[j] != c {
                    if chars[j] == "\\", j + 1 < chars.count { j += 1 }
                    s.append(chars[j])
                    j += 1
                }
                guard j < chars.count else { throw .syntax("a text without its closing quote") }
                tokens.append(.string(s))
                i = j + 1
            } else {
                let two = i + 1 < chars.count ? String(chars[i...i + 1]) : ""
                if ["==", "!=", "<=", ">="].contains(two) {
                    tokens.append(.symbol(two))
                    i += 2
                } else if "|.[](),<>:-".contains(c) {
                    tokens.append(.symbol(String(c)))
                    i += 1
                } else if "+*/%~".contains(c) {
                    throw .unsupported("arithmetic and '~' ('\(c)')")
                } else {
                    throw .syntax("unexpected '\(c)'")
                }
            }
        }
        return tokens
    }
}

/// The filters and comparisons of the subset, with Jinja's (Python's) meaning.
enum TemplateFilters {
    static func apply(_ name: String, to input: TemplateValue?, arguments: [TemplateValue]) throws(TemplateProblem)
        -> TemplateValue?
    {
        if name == "is_defined" {
            // HA's is_defined raises on undefined: here the value is simply missing.
            return input
        }
        guard let input else { return nil }  // a partial update: nothing to convert
        switch name {
        case "float":
            if let n = number(input) { return .number(n) }
            if let fallback = arguments.first { return fallback }
            throw .evaluation("float of \(input.kindName)")
        case "int":
            if let n = number(input), n.isFinite { return .number(n.rounded(.towardZero)) }
            if let fallback = arguments.first { return fallback }
            throw .evaluation("int of \(input.kindName)")
        case "round":
            guard let n = number(input) else { throw .evaluation("round of \(input.kindName)") }
            var digits = 0.0
            if case .number(let d)? = arguments.first { digits = d }
            let scale = pow(10, digits)
            return .number((n * scale).rounded(.toNearestOrAwayFromZero) / scale)
        case "lower":
            return .string(input.printed.lowercased())
        case "upper":
            return .string(input.printed.uppercased())
        case "string":
            return .string(input.printed)
        default:
            throw .unsupported("the filter '\(name)'")
        }
    }

    /// Python's float(): numbers, numeric text and booleans (True = 1).
    static func number(_ value: TemplateValue) -> Double? {
        switch value {
        case .number(let n): n
        case .bool(let b): b ? 1 : 0
        case .string(let s): Double(s.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil }
        default: nil
        }
    }

    static func compare(_ l: TemplateValue, _ op: String, _ r: TemplateValue) throws(TemplateProblem) -> Bool {
        let ordered: (Double, Double)? = switch (l, r) {
        case (.number(let a), .number(let b)): (a, b)
        case (.bool(let a), .number(let b)): (a ? 1 : 0, b)
        case (.number(let a), .bool(let b)): (a, b ? 1 : 0)
        default: nil
        }
        switch op {
        case "==": return ordered.map { $0.0 == $0.1 } ?? (l == r)
        case "!=": return ordered.map { $0.0 != $0.1 } ?? (l != r)
        default:
            let result: Bool
            if let (a, b) = ordered {
                result = op == "<" ? a < b : op == "<=" ? a <= b : op == ">" ? a > b : a >= b
            } else if case .string(let a) = l, case .string(let b) = r {
                result = op == "<" ? a < b : op == "<=" ? a <= b : op == ">" ? a > b : a >= b
            } else {
                throw .evaluation("cannot compare \(l.kindName) \(op) \(r.kindName)")
            }
            return result
        }
    }
}
