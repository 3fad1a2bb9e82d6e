public import SmollamaCore

/// The `http:` section: where the dashboard and JSON API listen, and the token that guards them
/// when they listen beyond this machine. Every key is defaulted; unknown keys are refused.
public struct HTTPConfig: Codable, Sendable, Hashable, ConfigChecked {
    /// Loopback by default: nothing but this machine can reach the dashboard.
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests); the URL actually served is logged.
    public var port = 8080
    /// Secret. Required when `host` is not a loopback address; then every request must carry it
    /// (`Authorization: Bearer …`, or the HttpOnly cookie the login form sets). Never rendered.
    public var token = ""

    enum CodingKeys: String, CodingKey, CaseIterable { case host, port, token }

    public init(host: String = "127.0.0.1", port: Int = 8080, token: String = "") {
        self.host = host
        self.port = port
        self.token = token
    }

    /// Range checks at load time; `validate()` below is the start-time rule about tokens.
    public func check() throws(ConfigProblem) {
        try ConfigProblem.require((0...65_535).contains(port), "port", "must be 0…65535")
        try ConfigProblem.require(!host.isEmpty, "host", "must not be empty")
    }

    /// True for 127.0.0.0/8, ::1 and `localhost`.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    /// Whether requests must carry the token: always when one is set, and it must be set off loopback.
    public var requiresToken: Bool { !token.isEmpty }

    /// Refuses a public bind without a token, with a sentence saying how to fix it.
    public func validate() throws(HTTPConfigError) {
        if !isLoopback && token.isEmpty { throw .tokenRequired(host: host) }
        if !token.isEmpty && token.count < 16 { throw .tokenTooShort }
    }

    /// The URL people open, e.g. `http://127.0.0.1:8080/`.
    public func url(port actualPort: Int? = nil) -> String {
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "http://\(shownHost):\(actualPort ?? port)/"
    }
}

public enum HTTPConfigError: Error, CustomStringConvertible, Equatable {
    case tokenRequired(host: String)
    case tokenTooShort

    public var description: String {
        switch self {
        case .tokenRequired(let host):
            "http.host is \(host), which other machines can reach, but http.token is empty. Set http.token "
                + "to a long random secret (e.g. `openssl rand -hex 24`), or bind http.host to 127.0.0.1."
        case .tokenTooShort:
            "http.token is shorter than 16 characters; use a long random secret (e.g. `openssl rand -hex 24`)."
        }
    }
}
