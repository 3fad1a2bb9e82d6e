public import SmollamaCore

/// The `mem0:` section: the hub's mem0-compatible API (`/mem0`) and the optional bridge to an
/// external mem0 server. Every key is defaulted; unknown keys are refused.
public struct Mem0Config: Codable, Sendable, Hashable, ConfigChecked {
    /// Secret. The API is served only on the hub (role `llama`) and only while this is set;
    /// `smollama init --role llama` generates one. Clients send `X-API-Key: KEY` or
    /// `Authorization: Token KEY` (or `Bearer KEY`).
    public var apiKey = ""
    /// Secret. Needed for the destructive calls (`POST /reset`, `DELETE /memories`); empty
    /// turns them off. Also accepted wherever the API key is.
    public var adminKey = ""
    /// Largest request body accepted.
    public var maxBodyBytes = 1_048_576
    public var bridge = Mem0BridgeConfig()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case apiKey = "api_key"
        case adminKey = "admin_key"
        case maxBodyBytes = "max_body_bytes"
        case bridge
    }

    public init(apiKey: String = "", adminKey: String = "", bridge: Mem0BridgeConfig = Mem0BridgeConfig()) {
        self.apiKey = apiKey
        self.adminKey = adminKey
        self.bridge = bridge
    }

    public func check() throws(ConfigProblem) {
        for (key, value) in [("api_key", apiKey), ("admin_key", adminKey)] {
            try ConfigProblem.require(
                value.isEmpty || value.count >= 16, key,
                "is shorter than 16 characters; use a long random secret (e.g. `openssl rand -hex 24`)")
        }
        try ConfigProblem.require(maxBodyBytes >= 1024, "max_body_bytes", "must be at least 1024")
        try bridge.check(under: "bridge")
    }
}

/// `mem0.bridge`: copies every node's memories to an external mem0 server (its self-hosted REST
/// API: `POST /memories` with `infer: false`, `PUT`/`DELETE /memories/{id}`).
public struct Mem0BridgeConfig: Codable, Sendable, Hashable, ConfigChecked {
    /// Base URL of the mem0 server, e.g. `http://mem0.local:8888`; empty = bridge off.
    public var url = ""
    /// Secret sent as `X-API-Key` and `Authorization: Token …` when set.
    public var apiKey = ""
    /// How often the bridge looks for memories it has not sent yet.
    public var interval = ConfigDuration.seconds(30)
    /// Longest wait between attempts while the server fails (the wait doubles from `interval`).
    public var maxBackoff = ConfigDuration.minutes(5)
    /// Memory versions sent per node per pass.
    public var batchSize = 100
    /// One request's time limit.
    public var timeout = ConfigDuration.seconds(30)

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url
        case apiKey = "api_key"
        case interval
        case maxBackoff = "max_backoff"
        case batchSize = "batch_size"
        case timeout
    }

    public init(url: String = "", apiKey: String = "", interval: ConfigDuration = .seconds(30),
                maxBackoff: ConfigDuration = .minutes(5), batchSize: Int = 100, timeout: ConfigDuration = .seconds(30)) {
        self.url = url
        self.apiKey = apiKey
        self.interval = interval
        self.maxBackoff = maxBackoff
        self.batchSize = batchSize
        self.timeout = timeout
    }

    public func check() throws(ConfigProblem) {
        try ConfigProblem.require(
            url.isEmpty || url.hasPrefix("http://") || url.hasPrefix("https://"), "url",
            "must start with http:// or https:// (e.g. http://mem0.local:8888)")
        try ConfigProblem.require(batchSize >= 1, "batch_size", "must be at least 1")
        try ConfigProblem.require(
            interval.milliseconds > 0 && maxBackoff >= interval && timeout.milliseconds > 0, "interval",
            "interval and timeout must be > 0, max_backoff ≥ interval")
    }

    public var isEnabled: Bool { !url.isEmpty }
}
