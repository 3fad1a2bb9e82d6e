public import SmollamaCore

/// The `mqtt:` config section. Every key is defaulted; MQTT is off until `broker` is set.
public struct MQTTConfig: Codable, Sendable, Hashable, ConfigChecked {
    /// Where the broker is: "" = MQTT off; "host:port" (or "host", port 1883) = an existing
    /// broker; "managed" = this node (the hub) starts and supervises mosquitto itself.
    public var broker = ""
    /// Where a managed broker listens. Loopback by default; other nodes need e.g. "0.0.0.0:1883"
    /// (then set username and password).
    public var managedListen = "127.0.0.1:1883"
    public var username = ""
    /// Secret. Prefer SMOLLAMA_MQTT_PASSWORD over writing it into the file.
    public var password = ""
    public var tls = false
    public var tlsCAFile = ""
    public var tlsCertFile = ""
    public var tlsKeyFile = ""
    /// Skip certificate hostname checks (test brokers with self-signed certificates only).
    public var tlsInsecure = false
    /// The client id is `<prefix>-<node id>`: stable, so the broker keeps the session.
    public var clientIDPrefix = "smollama"
    public var topicPrefix = "smollama"
    /// At most one message per sensor per this interval; the latest value wins.
    public var publishInterval = ConfigDuration.seconds(1)
    /// Outgoing messages kept while the broker is unreachable; the oldest go first.
    public var queueSize = 1000
    public var keepalive = ConfigDuration.seconds(30)
    public var reconnectMax = ConfigDuration.seconds(30)
    /// Home Assistant MQTT discovery.
    public var discovery = true
    public var discoveryPrefix = "homeassistant"

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case broker, username, password, tls, discovery, keepalive
        case managedListen = "managed_listen"
        case tlsCAFile = "tls_ca_file"
        case tlsCertFile = "tls_cert_file"
        case tlsKeyFile = "tls_key_file"
        case tlsInsecure = "tls_insecure"
        case clientIDPrefix = "client_id_prefix"
        case topicPrefix = "topic_prefix"
        case publishInterval = "publish_interval"
        case queueSize = "queue_size"
        case reconnectMax = "reconnect_max"
        case discoveryPrefix = "discovery_prefix"
    }

    /// Where the node's client connects, once validated.
    public enum Broker: Hashable, Sendable {
        case off
        case external(host: String, port: Int32)
        /// Started by this node; the client connects to its listener.
        case managed(host: String, port: Int32)

        public var endpoint: (host: String, port: Int32)? {
            switch self {
            case .off: nil
            case .external(let host, let port), .managed(let host, let port): (host, port)
            }
        }
    }

    public init() {}

    public func check() throws(ConfigProblem) {
        func invalid(_ key: CodingKeys, _ problem: String) -> ConfigProblem {
            ConfigProblem(key: key.stringValue, problem: problem)
        }
        do { _ = try Self.parseBroker(broker, managedListen: managedListen) } catch {
            throw invalid(error.key == "broker" ? .broker : .managedListen, error.problem)
        }
        guard queueSize >= 1 else { throw invalid(.queueSize, "must be at least 1") }
        guard keepalive.milliseconds >= 5000 else { throw invalid(.keepalive, "must be at least 5s") }
        guard reconnectMax.milliseconds >= 1000 else { throw invalid(.reconnectMax, "must be at least 1s") }
        for (key, text) in [(CodingKeys.topicPrefix, topicPrefix), (.discoveryPrefix, discoveryPrefix)]
        where text.isEmpty || text.contains(where: { "+#".contains($0) }) || text.hasPrefix("/") || text.hasSuffix("/") {
            throw invalid(key, "'\(text)' is not a usable topic prefix; use words separated by '/', without + or #")
        }
        guard !clientIDPrefix.isEmpty, clientIDPrefix.count <= 40 else {
            throw invalid(.clientIDPrefix, "must be 1 to 40 characters")
        }
        if !password.isEmpty, username.isEmpty { throw invalid(.username, "a password is set but no username") }
        if username.contains(where: { $0 == ":" || $0.isNewline }) || password.contains(where: \.isNewline) {
            throw invalid(username.contains(where: { $0 == ":" || $0.isNewline }) ? .username : .password,
                          "must not contain ':' (username) or a line break")
        }
        if broker == "managed", let (host, _) = try? Self.endpoint(managedListen, key: "managed_listen"),
           !Self.isLoopback(host), username.isEmpty || password.isEmpty {
            throw invalid(.managedListen, "'\(managedListen)' lets anyone on the network publish and read without a "
                          + "password; set mqtt.username and mqtt.password (SMOLLAMA_MQTT_PASSWORD), or listen on "
                          + "127.0.0.1:1883")
        }
        if !tls, !(tlsCAFile + tlsCertFile + tlsKeyFile).isEmpty {
            throw invalid(.tls, "TLS files are set but tls is false; set tls: true")
        }
    }

    /// The validated broker setting.
    public var resolvedBroker: Broker {
        (try? Self.parseBroker(broker, managedListen: managedListen)) ?? .off
    }

    struct BrokerProblem: Error {
        var key: String
        var problem: String
    }

    static func parseBroker(_ text: String, managedListen: String) throws(BrokerProblem) -> Broker {
        switch text {
        case "": return .off
        case "managed":
            var (host, port) = try endpoint(managedListen, key: "managed_listen")
            if host == "0.0.0.0" || host == "::" { host = "127.0.0.1" }  // connect to ourselves on loopback
            return .managed(host: host, port: port)
        case "external":
            throw BrokerProblem(key: "broker", problem: "give the existing broker's address as host:port, e.g. hub.local:1883")
        default:
            let (host, port) = try endpoint(text, key: "broker")
            return .external(host: host, port: port)
        }
    }

    /// A host only this machine reaches (a managed broker there may stay anonymous).
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    static func endpoint(_ text: String, key: String) throws(BrokerProblem) -> (String, Int32) {
        let usage = "write host:port (e.g. hub.local:1883), 'managed' to run mosquitto on this hub, or \"\" for off"
        if text.contains("://") {
            throw BrokerProblem(key: key, problem: "'\(text)' has a scheme; \(usage) (TLS is tls: true)")
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, !parts[0].contains(" ") else {
            throw BrokerProblem(key: key, problem: "'\(text)' is not an address; \(usage)")
        }
        guard parts.count == 2 else { return (String(parts[0]), 1883) }
        guard let port = Int32(parts[1]), (1...65535).contains(port) else {
            throw BrokerProblem(key: key, problem: "'\(parts[1])' is not a port (1-65535); \(usage)")
        }
        return (String(parts[0]), port)
    }

    /// `smollama/<node>`: the node's topic root.
    public func nodeTopic(node: String) -> String { "\(topicPrefix)/\(MQTTTopics.segment(node))" }
}

/// Topic spelling shared by publishing and discovery.
public enum MQTTTopics {
    /// Makes one safe topic level (no `/`, `+`, `#`, spaces; lower case).
    public static func segment(_ text: String) -> String {
        let mapped = text.lowercased().map { c -> Character in
            c.isLetter || c.isNumber || c == "_" || c == "-" || c == "." ? c : "_"
        }
        let result = String(mapped)
        return result.isEmpty ? "_" : result
    }
}
