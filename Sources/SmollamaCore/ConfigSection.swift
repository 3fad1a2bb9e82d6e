public import Yams

/// Configuration sections are decoded by laying the keys a person gave over the section's
/// encoded defaults, so each section's `Codable` conformance is the synthesized one: no
/// hand-written decoding per key. Keys the defaults do not have are
/// refused by name, and range checks live in `check()`, which names the key too.
///
/// Durations (`10s`), enums and lists decode through their own `Codable` as before; a `null`
/// means "not given" and keeps the default.

/// A section that can be decoded on its own: the root `NodeConfig`, and the sections tests
/// decode directly.
public protocol ConfigSection: Codable, Sendable, ConfigChecked {
    /// The values missing keys take. Most sections return `Self()`; a section whose defaults
    /// depend on keys that were given (the LLM backend switches URLs and models) reads them here.
    static func defaults(given: ConfigGiven) -> Self
}

/// A section with range and consistency checks that decoding alone cannot express.
public protocol ConfigChecked {
    /// Throws the first problem found, naming the key relative to this section.
    func check() throws(ConfigProblem)
}

extension ConfigChecked {
    /// Runs `check()`, naming keys under `section` (e.g. `batch_size` → `store.batch_size`).
    public func check(under section: String) throws(ConfigProblem) {
        do { try check() } catch { throw error.under(section) }
    }
}

/// A setting whose value is out of range or inconsistent with another.
public struct ConfigProblem: Error, Equatable, Sendable, CustomStringConvertible {
    /// The dotted key, e.g. `store.batch_size`.
    public var key: String
    public var problem: String

    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }

    /// Throws unless `condition` holds.
    public static func require(_ condition: Bool, _ key: String, _ problem: @autoclosure () -> String)
        throws(ConfigProblem)
    {
        if !condition { throw ConfigProblem(key: key, problem: problem()) }
    }

    public func under(_ section: String) -> ConfigProblem {
        ConfigProblem(key: section + "." + key, problem: problem)
    }

    public var description: String { "\(key): \(problem)" }
}

/// The keys a person gave for a section, before decoding: what `defaults(given:)` may look at.
public struct ConfigGiven {
    let node: Node?

    public init(_ node: Node?) { self.node = node }

    /// The scalar text given for `key`, if any (`backend: ollama` → "ollama").
    public func text(_ key: String) -> String? { node?.mapping?[key]?.scalar?.string }

    /// The keys given under the sub-section `key`.
    public func section(_ key: String) -> ConfigGiven { ConfigGiven(node?.mapping?[key]) }
}

public enum ConfigDecoding {
    /// Decodes a section from YAML (or JSON, which is YAML) laid over its defaults.
    public static func decode<T: ConfigSection>(_ type: T.Type, from yaml: String) throws -> T {
        try decode(type, from: Yams.compose(yaml: yaml) ?? .mapping(.init([])))
    }

    /// Decodes a section from a YAML tree laid over its defaults. Throws `UnknownConfigKey` for
    /// a key no setting reads, and `DecodingError` with the key's coding path for a value of the
    /// wrong type or one `check()` refuses (`dataCorrupted`, the problem as its description).
    ///
    /// `optionalKeys` (dotted) are settings whose default is unset, so the encoded defaults lack
    /// them; they complete the list of keys an unknown-key error offers.
    public static func decode<T: ConfigSection>(_ type: T.Type, from tree: Node, optionalKeys: Set<String> = [])
        throws -> T
    {
        let given = withoutNulls(tree) ?? .mapping(.init([]))
        let defaults = try encoded(T.defaults(given: ConfigGiven(given)))
        let value = try YAMLDecoder().decode(T.self, from: merge(given, over: defaults))
        // Optional settings (`llm.api_key`) are absent from the defaults but present once given.
        var optional = Node.mapping(.init([]))
        for key in optionalKeys {
            let path = key.split(separator: ".").map(String.init)
            let leaf = path.reversed().reduce(Node("")) { inner, name in .mapping(.init([(Node(name), inner)])) }
            optional = merge(leaf, over: optional)
        }
        try refuseUnknownKeys(in: given, known: [defaults, try encoded(value), optional], path: [])
        do { try value.check() } catch {
            let path = error.key.split(separator: ".").map { AnyCodingKey(String($0)) }
            throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: error.problem))
        }
        return value
    }

    static func encoded(_ value: some Encodable) throws -> Node {
        try Yams.compose(yaml: YAMLEncoder().encode(value)) ?? .mapping(.init([]))
    }

    /// `key: ~` or an empty `key:` means "not given", as it always has.
    static func withoutNulls(_ node: Node) -> Node? {
        if node.null != nil { return nil }
        guard let mapping = node.mapping else { return node }
        let pairs = mapping.compactMap { key, value in withoutNulls(value).map { (key, $0) } }
        return .mapping(.init(pairs))
    }

    /// The given tree with every key it lacks taken from `defaults`; given values win.
    static func merge(_ given: Node, over defaults: Node) -> Node {
        guard var merged = defaults.mapping, let mapping = given.mapping else { return given }
        for (key, value) in mapping {
            merged[key] = merged[key].map { merge(value, over: $0) } ?? value
        }
        return .mapping(merged)
    }

    static func refuseUnknownKeys(in given: Node, known: [Node], path: [String]) throws {
        guard let mapping = given.mapping else { return }
        let knownMappings = known.compactMap(\.mapping)
        guard !knownMappings.isEmpty else { return }  // a scalar or list setting: its own type checks it
        let allowed = Set(knownMappings.flatMap { $0.keys.compactMap(\.string) })
        for (key, value) in mapping {
            let name = key.string ?? "\(key)"
            guard allowed.contains(name) else {
                throw UnknownConfigKey(path: (path + [name]).joined(separator: "."), allowed: Array(allowed))
            }
            try refuseUnknownKeys(in: value, known: knownMappings.compactMap { $0[name] }, path: path + [name])
        }
    }
}
