import Foundation

/// Where a node keeps its files. Everything lives under one home directory (`SMOLLAMA_HOME`,
/// default `~/.smollama`), so several nodes can run side by side and tests use temp dirs.
public struct SmollamaPaths: Sendable, Hashable {
    public var home: String
    public var configFile: String
    public var dataDirectory: String

    public init(home: String, configFile: String? = nil, dataDirectory: String? = nil) {
        self.home = home
        self.configFile = configFile ?? home + "/config.yaml"
        self.dataDirectory = dataDirectory ?? home + "/data"
    }

    /// `SMOLLAMA_HOME`, else `~/.smollama`.
    public static func resolveHome(environment: [String: String]) -> String {
        if let home = environment["SMOLLAMA_HOME"], !home.isEmpty { return home }
        let user = environment["HOME"] ?? NSHomeDirectory()
        return user + "/.smollama"
    }

    public var databaseFile: String { dataDirectory + "/smollama.sqlite" }
    /// Damaged stores moved aside at start (`NodeRuntime.open`).
    public var quarantineDirectory: String { dataDirectory + "/quarantine" }
    public var identityFile: String { dataDirectory + "/identity.json" }
    public var keyFile: String { dataDirectory + "/node.key" }
    public var pidFile: String { dataDirectory + "/smollama.pid" }
    /// The running daemon's MQTT state, for `smollama status`.
    public var mqttStateFile: String { dataDirectory + "/mqtt.json" }
    /// The hub this node enrolled with (`smollama enroll`): URL, hub id, hub public key.
    public var hubFile: String { dataDirectory + "/hub.json" }
    /// A managed broker's config, password file and persistence.
    public var brokerDirectory: String { dataDirectory + "/mosquitto" }
}
