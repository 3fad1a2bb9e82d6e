import Foundation
public import SmollamaCore

/// One entity announced with Home Assistant MQTT discovery (a retained JSON config on
/// `<prefix>/<component>/[<node_id>/]<object_id>/config`), as far as we read it: the state
/// topic, how to read a value out of it, what the value means, and when the device is away.
/// Zigbee2MQTT writes full key names; Tasmota and ESPHome write HA's abbreviations (`stat_t`,
/// `val_tpl`, `dev`...) and Tasmota a `~` base topic: both are expanded first.
///
/// This is the incoming side; `HomeAssistantDiscovery` is what this node announces itself.
public struct HAAnnouncement: Hashable, Sendable {
    public struct Availability: Hashable, Sendable {
        public var topic: String
        /// Compared as payload words (`PayloadExtractor.word`).
        public var payloadAvailable: String
        public var payloadNotAvailable: String
        public var template: ValueTemplate?
    }

    public var configTopic: String
    public var component: String
    /// `<node_id>_<object_id>` from the topic, made safe for sensor ids: stable across renames.
    public var entityID: String
    public var uniqueID: String?
    public var name: String
    public var deviceName: String?
    public var suggestedArea: String?
    public var stateTopic: String
    public var valueTemplate: ValueTemplate?
    public var unit: String
    public var deviceClass: String?
    public var payloadOn: String
    public var payloadOff: String
    public var availability: [Availability]
    /// `latest` (HA's default), `all` or `any`.
    public var availabilityMode: String
    public var enabledByDefault: Bool

    public var kind: SensorDescriptor.Kind { component == "binary_sensor" ? .binary : .numeric }

    /// What a config message means.
    public enum Parsed: Hashable, Sendable {
        case entity(HAAnnouncement)
        /// An empty (retained) config: the entity is gone.
        case removed(configTopic: String)
        /// Announced but not read, with the reason (shown by `sensors discover`, counted).
        case skipped(configTopic: String, entityID: String, reason: String)
    }

    public static let components: Set<String> = ["sensor", "binary_sensor"]
    /// Real configs are well under 2 KiB; a bigger one is not parsed.
    static let maxConfigBytes = 65536
    static let smollamaReason = "announced by a smollama node (this one or another: their sensors reach the hub by sync)"

    /// Reads one message from the discovery wildcards. `nil`: not a discovery config topic.
    public static func parse(topic: String, payload: [UInt8], prefix: String) -> Parsed? {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let prefixLevels = prefix.split(separator: "/").count
        guard levels.count == prefixLevels + 3 || levels.count == prefixLevels + 4, levels.last == "config",
              levels.prefix(prefixLevels).joined(separator: "/") == prefix else { return nil }
        let component = levels[prefixLevels]
        let ids = levels[(prefixLevels + 1)..<(levels.count - 1)]
        let entityID = safeID(ids.joined(separator: "_"))
        guard !payload.isEmpty else { return .removed(configTopic: topic) }
        func skip(_ reason: String) -> Parsed { .skipped(configTopic: topic, entityID: entityID, reason: reason) }
        guard payload.count <= maxConfigBytes else { return skip("the config is larger than \(maxConfigBytes) bytes") }
        guard components.contains(component) else {
            return skip(component == "device" ? "device-based discovery (one config for a whole device) is not read yet"
                        : "component '\(component)' is not read (only sensor and binary_sensor)")
        }
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(payload)),
              case .object(let raw) = json else { return skip("the config is not a JSON object") }
        let config = expand(raw)
        func text(_ key: String) -> String? {
            switch config[key] {
            case .string(let s)?: s
            case .number(let n)?: TemplateValue.number(n).printed
            default: nil
            }
        }
        func word(_ key: String, _ fallback: String) -> String {
            config[key].map { PayloadExtractor.word(TemplateValue($0)) } ?? PayloadExtractor.word(.string(fallback))
        }
        var device: [String: JSONValue] = [:]
        if case .object(let d)? = config["device"] { device = d }
        let identifiers: [String] = switch device["identifiers"] {
        case .string(let s)?: [s]
        case .array(let a)?: a.compactMap { if case .string(let s) = $0 { s } else { nil } }
        default: []
        }
        let uniqueID = text("unique_id")
        // This node's own announcements (HomeAssistantDiscovery: unique ids and device identifiers
        // `smollama_<node id>...`) and other nodes': adopting them would loop values back in, and
        // other nodes' sensors reach the hub by sync already.
        if (uniqueID ?? "").hasPrefix("smollama_") || identifiers.contains(where: { $0.hasPrefix("smollama_") }) {
            return skip(Self.smollamaReason)
        }
        guard let stateTopic = text("state_topic"), !stateTopic.isEmpty,
              !stateTopic.contains("+"), !stateTopic.contains("#") else {
            return skip("no usable state_topic")
        }
        var template: ValueTemplate?
        if let source = text("value_template") {
            do { template = try ValueTemplate(source) } catch { return skip("\(error)") }
        }
        var availability: [Availability] = []
        func entry(_ values: [String: JSONValue], topicKey: String, templateKey: String) throws(TemplateProblem) -> Availability? {
            guard case .string(var topic)? = values[topicKey] else { return nil }
            if case .string(let base)? = raw["~"], topic.hasPrefix("~") { topic = base + topic.dropFirst() }
            let available = values["payload_available"].map { PayloadExtractor.word(TemplateValue($0)) } ?? "online"
            let away = values["payload_not_available"].map { PayloadExtractor.word(TemplateValue($0)) } ?? "offline"
            var template: ValueTemplate?
            if case .string(let source)? = values[templateKey] { template = try ValueTemplate(source) }
            return Availability(topic: topic, payloadAvailable: available, payloadNotAvailable: away, template: template)
        }
        do {
            if let single = try entry(config, topicKey: "availability_topic", templateKey: "availability_template") {
                availability.append(single)
            }
            if case .array(let list)? = config["availability"] {
                for case .object(let item) in list {
                    if let one = try entry(expand(item), topicKey: "topic", templateKey: "value_template") {
                        availability.append(one)
                    }
                }
            }
        } catch {
            return skip("availability: \(error)")
        }
        if availability.contains(where: { $0.topic.isEmpty || $0.topic.contains("+") || $0.topic.contains("#") }) {
            return skip("an availability topic is empty or has a wildcard")
        }
        let deviceName: String? = if case .string(let s)? = device["name"] { s } else { nil }
        let suggestedArea: String? = if case .string(let s)? = device["suggested_area"] { s } else { nil }
        // HA: an entity `name` of null means "the device's name".
        let entityName = text("name")
        let name = switch (deviceName, entityName) {
        case (let d?, let e?) where !e.lowercased().hasPrefix(d.lowercased()): "\(d) \(e)"
        case (_, let e?): e
        case (let d?, nil): d
        case (nil, nil): entityID
        }
        let enabled: Bool = if case .bool(let b)? = config["enabled_by_default"] { b } else { true }
        return .entity(HAAnnouncement(
            configTopic: topic, component: component, entityID: entityID, uniqueID: uniqueID, name: name,
            deviceName: deviceName, suggestedArea: suggestedArea, stateTopic: stateTopic, valueTemplate: template,
            unit: text("unit_of_measurement")?.trimmingCharacters(in: .whitespaces) ?? "",
            deviceClass: text("device_class"), payloadOn: word("payload_on", "ON"), payloadOff: word("payload_off", "OFF"),
            availability: availability, availabilityMode: text("availability_mode") ?? "latest",
            enabledByDefault: enabled))
    }

    /// Lower-case letters, digits, `_` and `-`; at most 48 characters (a long id keeps its start
    /// and a hash of the whole, so it stays unique and stable).
    static func safeID(_ text: String) -> String {
        var id = String(text.lowercased().map { c -> Character in
            c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-") ? c : "_"
        })
        if id.isEmpty { id = "_" }
        guard id.count > 48 else { return id }
        var hash: UInt32 = 2166136261  // FNV-1a: stable across runs, unlike Hasher
        for byte in id.utf8 { hash = (hash ^ UInt32(byte)) &* 16777619 }
        return id.prefix(39) + "_" + String(hash, radix: 16).leftPadded(to: 8)
    }

    /// Full key names for HA's abbreviations, and the `~` base topic substituted.
    static func expand(_ raw: [String: JSONValue]) -> [String: JSONValue] {
        var config: [String: JSONValue] = [:]
        for (key, value) in raw { config[abbreviations[key] ?? key] = value }
        if case .object(let device)? = config["device"] {
            var expanded: [String: JSONValue] = [:]
            for (key, value) in device { expanded[deviceAbbreviations[key] ?? key] = value }
            config["device"] = .object(expanded)
        }
        if case .string(let base)? = config["~"] {
            for (key, value) in config where key.hasSuffix("_topic") || key == "topic" {
                guard case .string(let topic) = value else { continue }
                if topic.hasPrefix("~") { config[key] = .string(base + topic.dropFirst()) }
                else if topic.hasSuffix("~") { config[key] = .string(topic.dropLast() + base) }
            }
        }
        return config
    }

    /// The abbreviations of keys we read (HA's list is longer; the others we ignore anyway).
    static let abbreviations: [String: String] = [
        "stat_t": "state_topic", "val_tpl": "value_template", "unit_of_meas": "unit_of_measurement",
        "dev_cla": "device_class", "uniq_id": "unique_id", "obj_id": "object_id", "pl_on": "payload_on",
        "pl_off": "payload_off", "avty_t": "availability_topic", "avty": "availability", "avty_mode": "availability_mode",
        "avty_tpl": "availability_template", "pl_avail": "payload_available", "pl_not_avail": "payload_not_available",
        "dev": "device", "en": "enabled_by_default", "stat_cla": "state_class", "t": "topic",
        "exp_aft": "expire_after", "frc_upd": "force_update", "off_dly": "off_delay", "json_attr_t": "json_attributes_topic",
    ]
    static let deviceAbbreviations: [String: String] = [
        "ids": "identifiers", "mf": "manufacturer", "mdl": "model", "sa": "suggested_area", "sw": "sw_version",
        "cns": "connections",
    ]
}

extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}

/// Glob matching for `include`/`exclude` (`*` any run, `?` one character), on entity ids.
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
