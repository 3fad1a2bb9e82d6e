public import SmollamaCore

/// The `mcp:` section: the Model Context Protocol server (`smollama mcp` over stdio on any node,
/// and `/mcp` on the hub's HTTP server). Every key is defaulted; unknown keys are refused.
public struct MCPConfig: Codable, Sendable, Hashable, ConfigChecked {
    /// Whether the `remember` tool (the only write) is offered. `false` leaves the tools read-only.
    public var allowWrites = true
    /// Secret. The bearer token `/mcp` on the hub asks for (`Authorization: Bearer TOKEN`); never
    /// the dashboard's `http.token`. Empty: `/mcp` answers requests addressed to loopback only.
    public var token = ""
    /// Largest request body `/mcp` accepts.
    public var maxBodyBytes = 262_144

    enum CodingKeys: String, CodingKey, CaseIterable {
        case allowWrites = "allow_writes"
        case token
        case maxBodyBytes = "max_body_bytes"
    }

    public init(allowWrites: Bool = true, token: String = "", maxBodyBytes: Int = 262_144) {
        self.allowWrites = allowWrites
        self.token = token
        self.maxBodyBytes = maxBodyBytes
    }

    public func check() throws(ConfigProblem) {
        try ConfigProblem.require(
            token.isEmpty || token.count >= 16, "token",
            "is shorter than 16 characters; use a long random secret (e.g. `openssl rand -hex 24`)")
        try ConfigProblem.require(maxBodyBytes >= 1024, "max_body_bytes", "must be at least 1024")
    }

    /// The rule across sections: an assistant's token must not open the dashboard too.
    public func check(dashboardToken: String) throws(ConfigProblem) {
        try ConfigProblem.require(
            token.isEmpty || token != dashboardToken, "mcp.token",
            "is the same as http.token; give MCP clients their own secret (e.g. `openssl rand -hex 24`) so "
                + "an assistant's token cannot open the dashboard")
    }
}
