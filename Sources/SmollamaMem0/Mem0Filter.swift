import Foundation
public import SmollamaLLM

/// mem0's metadata filters, parsed once (so bad input is refused before anything runs) and then
/// evaluated against each memory's flat document (its scope ids, fields and metadata).
///
/// Accepted, as in mem0ai 2.2.1 (`Memory.search` / `get_all`): `{"key": "value"}` (equals),
/// `{"key": "*"}` (present), `{"key": {"eq"|"ne"|"in"|"nin"|"gt"|"gte"|"lt"|"lte"|"contains"|"icontains": …}}`,
/// `{"AND": [f, …]}`, `{"OR": [f, …]}`, `{"NOT": [f, …]}` (none of them). Keys side by side must all hold.
public indirect enum Mem0Filter: Sendable, Hashable {
    case all([Mem0Filter])
    case any([Mem0Filter])
    case none([Mem0Filter])
    case condition(key: String, op: Operator, value: JSONValue)

    public enum Operator: String, Sendable, Hashable, CaseIterable {
        case eq, ne, `in`, nin, gt, gte, lt, lte, contains, icontains
        /// `"*"`: the key is present with any value.
        case exists
    }

    public static let matchAll = Mem0Filter.all([])

    /// A filter is evaluated for every memory in scope, so its size is capped: at most this many
    /// conditions, `AND`/`OR`/`NOT` nested at most `maxDepth` deep, `in`/`nin` lists of at most
    /// `maxListValues`, and a query-string filter of at most `maxQueryBytes`.
    public static let maxConditions = 64
    public static let maxDepth = 8
    public static let maxListValues = 256
    public static let maxQueryBytes = 8 << 10

    /// Parses a filter object; throws `Mem0Error.badRequest` naming what is wrong.
    public static func parse(_ value: JSONValue, path: String = "filters") throws(Mem0Error) -> Mem0Filter {
        let filter = try parse(value, path: path, depth: 0)
        guard filter.conditionCount <= maxConditions else {
            throw .badRequest("\(path) holds \(filter.conditionCount) conditions; at most \(maxConditions) are allowed")
        }
        return filter
    }

    /// Conditions in the whole tree.
    var conditionCount: Int {
        switch self {
        case .all(let parts), .any(let parts), .none(let parts): parts.reduce(0) { $0 + $1.conditionCount }
        case .condition: 1
        }
    }

    private static func parse(_ value: JSONValue, path: String, depth: Int) throws(Mem0Error) -> Mem0Filter {
        guard depth <= maxDepth else {
            throw .badRequest("\(path) nests AND/OR/NOT more than \(maxDepth) deep")
        }
        guard let object = value.objectValue else {
            throw .badRequest("\(path) must be an object such as {\"user_id\": \"alice\"}, not \(value.typeName)")
        }
        var parts: [Mem0Filter] = []
        for key in object.keys.sorted() {
            let item = object[key] ?? .null
            switch key {
            case "AND", "OR", "NOT":
                guard let list = item.arrayValue, !list.isEmpty else {
                    throw .badRequest("\(path).\(key) must be a non-empty array of filter objects")
                }
                var children: [Mem0Filter] = []
                for (index, child) in list.enumerated() {
                    children.append(try parse(child, path: "\(path).\(key)[\(index)]", depth: depth + 1))
                }
                parts.append(key == "AND" ? .all(children) : key == "OR" ? .any(children) : .none(children))
            default:
                parts.append(contentsOf: try conditions(key: key, item, path: "\(path).\(key)"))
            }
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    private static func conditions(key: String, _ value: JSONValue, path: String) throws(Mem0Error) -> [Mem0Filter] {
        guard !key.isEmpty else { throw .badRequest("\(path): filter keys must not be empty") }
        switch value {
        case .string("*"):
            return [.condition(key: key, op: .exists, value: .null)]
        case .object(let operators):
            guard !operators.isEmpty else { throw .badRequest("\(path) needs an operator, e.g. {\"eq\": \"x\"}") }
            var result: [Mem0Filter] = []
            for name in operators.keys.sorted() {
                let operand = operators[name] ?? .null
                guard let op = Operator(rawValue: name), op != .exists else {
                    let known = Operator.allCases.filter { $0 != .exists }.map(\.rawValue).joined(separator: ", ")
                    throw .badRequest("Unsupported metadata filter operator: \(name) (in \(path)); use one of \(known)")
                }
                switch op {
                case .in, .nin:
                    guard let list = operand.arrayValue else { throw .badRequest("\(path).\(name) must be an array") }
                    guard list.count <= maxListValues else {
                        throw .badRequest("\(path).\(name) lists \(list.count) values; at most \(maxListValues) are allowed")
                    }
                case .gt, .gte, .lt, .lte:
                    guard operand.doubleValue != nil || operand.stringValue != nil else {
                        throw .badRequest("\(path).\(name) must be a number or a string, not \(operand.typeName)")
                    }
                case .contains, .icontains:
                    guard operand.stringValue != nil || operand.doubleValue != nil else {
                        throw .badRequest("\(path).\(name) must be a string")
                    }
                default: break
                }
                result.append(.condition(key: key, op: op, value: operand))
            }
            return result
        case .array:
            throw .badRequest("\(path): use {\"in\": [...]} to match one of several values")
        default:
            return [.condition(key: key, op: .eq, value: value)]
        }
    }

    /// Whether a memory's flat document passes.
    public func matches(_ document: [String: JSONValue]) -> Bool {
        switch self {
        case .all(let parts): return parts.allSatisfy { $0.matches(document) }
        case .any(let parts): return parts.contains { $0.matches(document) }
        case .none(let parts): return !parts.contains { $0.matches(document) }
        case .condition(let key, let op, let operand):
            let value = document[key]
            switch op {
            case .exists: return value != nil && value != .null
            case .eq: return value.map { Self.equal($0, operand) } ?? false
            case .ne: return !(value.map { Self.equal($0, operand) } ?? false)
            case .in: return value.map { v in operand.arrayValue?.contains { Self.equal(v, $0) } ?? false } ?? false
            case .nin: return !(value.map { v in operand.arrayValue?.contains { Self.equal(v, $0) } ?? false } ?? false)
            case .gt, .gte, .lt, .lte:
                guard let value, let order = Self.compare(value, operand) else { return false }
                switch op {
                case .gt: return order == .orderedDescending
                case .gte: return order != .orderedAscending
                case .lt: return order == .orderedAscending
                default: return order != .orderedDescending
                }
            case .contains, .icontains:
                guard let value else { return false }
                let needle = operand.stringValue ?? Self.text(operand)
                let fold = op == .icontains
                if let list = value.arrayValue {
                    return list.contains { Self.text($0).compare(needle, options: fold ? .caseInsensitive : []) == .orderedSame }
                }
                return Self.text(value).range(of: needle, options: fold ? .caseInsensitive : []) != nil
            }
        }
    }

    /// Numbers compare as numbers (also when one side is numeric text), everything else as text.
    static func compare(_ lhs: JSONValue, _ rhs: JSONValue) -> ComparisonResult? {
        if let a = number(lhs), let b = number(rhs) {
            return a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame
        }
        guard let a = lhs.stringValue, let b = rhs.stringValue else { return nil }
        return a < b ? .orderedAscending : a > b ? .orderedDescending : .orderedSame
    }

    static func equal(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        if lhs == rhs { return true }
        if let a = number(lhs), let b = number(rhs) { return a == b }
        if let list = lhs.arrayValue { return list.contains(rhs) }
        return false
    }

    static func number(_ value: JSONValue) -> Double? {
        switch value {
        case .number(let n): n
        case .string(let s): Double(s)
        default: nil
        }
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let s): s
        case .number(let n): n.rounded() == n && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        case .bool(let b): String(b)
        default: value.jsonString
        }
    }
}
