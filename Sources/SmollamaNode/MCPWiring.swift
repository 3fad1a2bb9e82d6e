public import Logging
import SmollamaCore
public import SmollamaMCP
public import SmollamaMind
import SmollamaServer
import SmollamaStore

/// The MCP server's house: the node's store and the same `MindTools` the CLI commands use,
/// with the node's zone, areas and observation window. `smollama mcp` serves it over stdio;
/// on the hub the daemon also mounts it at `/mcp` on the dashboard's server.
public enum MCPWiring {
    public static func house(runtime: NodeRuntime, tools: MindTools, logger: Logger) async throws -> House {
        let config = runtime.config
        return House(
            tools: tools, nodeName: config.node.name, isHub: config.node.role == .llama, timeZone: config.node.timeZone,
            areas: try await runtime.areas(), windowLength: config.observe.interval.duration,
            allowWrites: config.mcp.allowWrites, logger: logger)
    }

    /// The hub's `/mcp` (none on other roles). Its token was checked with the config (16+
    /// characters, not `http.token`); without one it answers a loopback-bound server only.
    static func mounts(runtime: NodeRuntime, clock: NodeClock, logger: Logger) async throws -> [RouteMount] {
        guard runtime.config.node.role == .llama else { return [] }
        let tools = MemoryWiring.tools(runtime: runtime, clock: clock, logger: logger, interactive: false)
        let house = try await house(runtime: runtime, tools: tools, logger: logger)
        let config = runtime.config
        if config.mcp.token.isEmpty && !config.http.isLoopback {
            logger.notice("mcp: /mcp refuses every request: http.host is beyond loopback and mcp.token is empty")
        }
        logger.info("mcp: served under the dashboard's address", metadata: ["smollama.path": "\(MCPRoutes.prefix)"])
        return [MCPRoutes(house: house, config: config.mcp, loopbackOnly: config.http.isLoopback).mount]
    }
}
