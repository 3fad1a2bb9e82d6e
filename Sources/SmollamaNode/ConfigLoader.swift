import Foundation
import SmollamaCore
import Yams

/// Reads `config.yaml`, applies `SMOLLAMA_*` environment variables and `--set key=value`
/// overrides, and decodes the result — turning every problem into an error naming the key.
public enum ConfigLoader {
    /// Loads the node's config. A missing file is an error: a node is made by `smollama init`.
    public static func load(file: String, environment: [String: String] = [:], overrides: [String] = [])
        throws -> NodeConfig
    {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw NodeError.configFileMissing(path: file)
        }
        return try parse(String(decoding: data, as: UTF8.self), file: file, environment: environment,
                         overrides: overrides)
    }

    public static func parse(_ yaml: String, file: String = "config.yaml", environment: [String: String] = [:],
                             overrides: [String] = []) throws -> NodeConfig
    {
        var root: Node
        do {
            root = try Yams.compose(yaml: yaml) ?? Node.mapping(.init([]))
        } catch {
            throw NodeError.invalidConfig(path: file, key: "(syntax)", problem: "not valid YAML: \(error)")
        }
        if case .scalar(let scalar) = root, scalar.string.isEmpty || scalar.string == "~" || scalar.string == "null" {
            root = .mapping(.init([]))  // an empty or all-comment file means "all defaults"
        }
        guard root.mapping != nil else {
            throw NodeError.invalidConfig(path: file, key: "(top level)", problem: "expected a mapping of sections")
        }
        let leaves = try leafPaths()
        for (variable, value) in environment.sorted(by: { $0.key < $1.key }) {
            guard let path = try environmentPath(variable, leaves: leaves) else { continue }
            root = set(path.split(separator: ".").map(String.init), to: Node(value), in: root)
        }
        for override in overrides {
            let parts = override.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw NodeError.invalidOverride(override) }
            root = set(parts[0].split(separator: ".").map(String.init), to: Node(parts[1]), in: root)
        }

        // The driver list is decoded per kind later; take it out before the strict decode.
        var drivers: [DriverEntry]?
        if var top = root.mapping, var sensors = top["sensors"]?.mapping, let list = sensors["drivers"] {
            guard case .sequence(let sequence) = list else {
                throw NodeError.invalidConfig(path: file, key: "sensors.drivers", problem: "expected a list of drivers")
            }
            drivers = try sequence.enumerated().map { try DriverEntry.parse($1, position: $0, file: file) }
            sensors["drivers"] = nil
            top["sensors"] = .mapping(sensors)
            root = .mapping(top)
        }
        do {
            var config = try YAMLDecoder().decode(NodeConfig.self, from: root)
            if let drivers { config.sensors.drivers = drivers }
            return config
        } catch {
            throw describe(error, file: file, prefix: nil)
        }
    }

    /// Settings whose default is "unset", so encoding the defaults does not show them.
    static let optionalLeaves: Set<String> = [
        "llm.api_key", "llm.managed.llama_server", "llm.managed.chat_model_file", "llm.managed.embedding_model_file",
    ]

    /// Every scalar setting's dotted path, from the defaults: the keys env variables may set.
    static func leafPaths() throws -> Set<String> {
        let yaml = try YAMLEncoder().encode(NodeConfig())
        var paths = Set<String>()
        func walk(_ node: Node, _ prefix: String) {
            guard let mapping = node.mapping else {
                paths.insert(prefix)
                return
            }
            for (key, value) in mapping {
                walk(value, prefix.isEmpty ? key.string ?? "" : prefix + "." + (key.string ?? ""))
            }
        }
        if let node = try Yams.compose(yaml: yaml) { walk(node, "") }
        return paths.union(optionalLeaves)
    }

    /// `SMOLLAMA_STORE_BATCH_SIZE` → `store.batch_size`. Variables of other tools that merely
    /// share the prefix are ignored; a variable naming a config section but no key is an error.
    static func environmentPath(_ variable: String, leaves: Set<String>) throws -> String? {
        guard variable.hasPrefix("SMOLLAMA_") else { return nil }
        let name = variable.dropFirst("SMOLLAMA_".count).lowercased()
        let sections = Set(NodeConfig.CodingKeys.allCases.map(\.stringValue))
        guard let section = name.split(separator: "_").first.map(String.init), sections.contains(section) else {
            return nil
        }
        let rest = name.dropFirst(section.count + 1)
        let path = section + "." + rest
        guard leaves.contains(path) else {
            let candidates = leaves.filter { $0.hasPrefix(section + ".") }.sorted()
                .map { "SMOLLAMA_" + $0.replacingOccurrences(of: ".", with: "_").uppercased() }
            throw NodeError.invalidEnvironment(
                variable: variable, problem: "no such setting; expected one of \(candidates.joined(separator: ", "))")
        }
        return path
    }

    static func set(_ path: [String], to value: Node, in node: Node) -> Node {
        guard let key = path.first else { return value }
        var mapping = node.mapping ?? .init([])
        mapping[key] = set(Array(path.dropFirst()), to: value, in: mapping[key] ?? .mapping(.init([])))
        return .mapping(mapping)
    }

    /// Turns decoding errors into a sentence naming the key.
    static func describe(_ error: any Error, file: String, prefix: String?) -> NodeError {
        func join(_ path: [any CodingKey]) -> String {
            let keys = path.map { key in key.intValue.map { "[\($0)]" } ?? key.stringValue }
            var text = prefix ?? ""
            for key in keys {
                text += key.hasPrefix("[") || text.isEmpty ? key : "." + key
            }
            return text.isEmpty ? "(top level)" : text
        }
        switch error {
        case let error as NodeError:
            return error
        case let error as UnknownConfigKey:
            let key = prefix.map { $0 + "." + error.path } ?? error.path
            return .invalidConfig(
                path: file, key: key,
                problem: "unknown key; expected one of: \(error.allowed.sorted().joined(separator: ", "))")
        case DecodingError.typeMismatch(let type, let context):
            return .invalidConfig(path: file, key: join(context.codingPath),
                                  problem: "expected \(describe(type)). \(context.debugDescription)")
        case DecodingError.valueNotFound(let type, let context):
            return .invalidConfig(path: file, key: join(context.codingPath), problem: "expected \(describe(type))")
        case DecodingError.keyNotFound(let key, let context):
            return .invalidConfig(path: file, key: join(context.codingPath + [key]), problem: "missing; this key is required")
        case DecodingError.dataCorrupted(let context):
            return .invalidConfig(path: file, key: join(context.codingPath), problem: context.debugDescription)
        default:
            return .invalidConfig(path: file, key: prefix ?? "(top level)", problem: "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type, is UInt64.Type: "a whole number"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is String.Type: "text"
        default: "\(type)"
        }
    }
}
