import Configuration
import Foundation
import SmollamaCore
import Yams

/// Reads `config.yaml`, lays `SMOLLAMA_*` environment variables and `--set key=value` flags over
/// it, and decodes the result over the defaults — turning every problem into an error naming the key.
///
/// The split (see ARCHITECTURE.md, "Configuration"): the file is ours (Yams), because the driver
/// list is a list of mappings and unknown keys must be refused, which swift-configuration's YAML
/// provider cannot do. The environment and `--set` are swift-configuration providers read through
/// one `ConfigReader` (`--set` before environment), asked for every setting the defaults have.
/// Decoding, unknown keys and range checks are `ConfigDecoding` in SmollamaCore.
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
        root = try layer(environment: environment, overrides: overrides, over: root)
        try rejectRemovedKeys(root, file: file)

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
            var config = try ConfigDecoding.decode(NodeConfig.self, from: root, optionalKeys: Settings.optional)
            if let drivers { config.sensors.drivers = drivers }
            return config
        } catch {
            throw describe(error, file: file, prefix: nil)
        }
    }

    /// Sets the file's tree's settings from `--set` flags, else `SMOLLAMA_*` variables.
    static func layer(environment: [String: String], overrides: [String], over file: Node) throws -> Node {
        // Nothing to lay over the file (tests, tools): skip building a reader for every setting.
        guard !environment.isEmpty || !overrides.isEmpty else { return file }
        let settings = try Settings.fromDefaults()
        // A provider only answers for the keys it is asked: refuse variables naming no setting here.
        for variable in environment.keys.sorted() { try settings.checkVariable(variable) }
        var root = file
        var flags: [AbsoluteConfigKey: ConfigValue] = [:]
        for override in overrides {
            let parts = override.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw NodeError.invalidOverride(override) }
            let (key, value) = (parts[0], parts[1])
            guard settings.all.contains(key) else {
                // Not a setting: into the tree as given, so the strict decode names it.
                root = set(key.split(separator: ".").map(String.init), to: Node(value), in: root)
                continue
            }
            let content: ConfigContent = settings.lists.contains(key)
                ? .stringArray(value.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
                : .string(value)
            flags[AbsoluteConfigKey([Settings.scope] + key.split(separator: ".").map(String.init))] =
                ConfigValue(content, isSecret: Settings.secretKeys.contains(key))
        }
        let reader = ConfigReader(providers: [
            InMemoryProvider(name: "--set", values: flags),
            EnvironmentVariablesProvider(
                environmentVariables: environment,
                secretsSpecifier: .specific(Set(Settings.secretKeys.map(Settings.variable(for:))))),
        ]).scoped(to: ConfigKey(Settings.scope))
        for key in settings.all.sorted() {
            let secret = Settings.secretKeys.contains(key)
            let value: Node? = settings.lists.contains(key)
                ? reader.stringArray(forKey: ConfigKey(key), isSecret: secret).map { .sequence(.init($0.map { Node($0) })) }
                : reader.string(forKey: ConfigKey(key), isSecret: secret).map { Node($0) }
            if let value { root = set(key.split(separator: ".").map(String.init), to: value, in: root) }
        }
        return root
    }

    /// The settings the environment and `--set` may name: every leaf of the encoded defaults.
    struct Settings {
        /// The providers' keys are `smollama.<key>`, so `store.batch_size` is `SMOLLAMA_STORE_BATCH_SIZE`.
        static let scope = "smollama"
        /// Settings whose default is "unset", so encoding the defaults does not show them.
        static let optional: Set<String> = [
            "node.timezone", "llm.api_key", "llm.managed.llama_server", "llm.managed.chat_model_file",
            "llm.managed.embedding_model_file",
        ]
        /// Never shown in swift-configuration's access logs.
        static let secretKeys: Set<String> = [
            "http.token", "llm.api_key", "mqtt.password", "mem0.api_key", "mem0.admin_key", "mem0.bridge.api_key",
            "mcp.token",
        ]

        var all: Set<String> = optional
        /// Settings holding a list: `a,b` in a variable or flag.
        var lists: Set<String> = []

        static func fromDefaults() throws -> Settings {
            var settings = Settings()
            func walk(_ node: Node, _ prefix: String) {
                guard let mapping = node.mapping else {
                    settings.all.insert(prefix)
                    if node.sequence != nil { settings.lists.insert(prefix) }
                    return
                }
                for (key, value) in mapping {
                    walk(value, prefix.isEmpty ? key.string ?? "" : prefix + "." + (key.string ?? ""))
                }
            }
            if let node = try Yams.compose(yaml: YAMLEncoder().encode(NodeConfig())) { walk(node, "") }
            return settings
        }

        static func variable(for key: String) -> String {
            "SMOLLAMA_" + key.replacingOccurrences(of: ".", with: "_").uppercased()
        }

        func setting(for variable: String) -> String? {
            all.first { Self.variable(for: $0) == variable }
        }

        /// Variables of other tools that merely share the prefix are ignored; a variable naming a
        /// config section but no setting is an error listing that section's variables.
        func checkVariable(_ variable: String) throws {
            guard variable.hasPrefix("SMOLLAMA_"), setting(for: variable) == nil else { return }
            let removed = ConfigLoader.removedKeys.first { Self.variable(for: $0.path.joined(separator: ".")) == variable }
            if let removed {
                throw NodeError.invalidEnvironment(variable: variable, problem: removed.problem)
            }
            let name = variable.dropFirst("SMOLLAMA_".count).lowercased()
            let sections = Set(NodeConfig.CodingKeys.allCases.map(\.stringValue))
            guard let section = name.split(separator: "_").first.map(String.init), sections.contains(section) else {
                return
            }
            let candidates = all.filter { $0.hasPrefix(section + ".") }.map(Self.variable(for:)).sorted()
            throw NodeError.invalidEnvironment(
                variable: variable, problem: "no such setting; expected one of \(candidates.joined(separator: ", "))")
        }
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
