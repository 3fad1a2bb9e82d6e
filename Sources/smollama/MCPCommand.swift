import ArgumentParser
import Foundation
import SmollamaMCP
import SmollamaNode

/// `smollama mcp`: this node's Model Context Protocol server over stdin/stdout, for an assistant
/// that starts it (a desktop chat app, a coding agent). On the hub it answers for every node.
struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the home's history, observations and memories to an MCP client over stdio.",
        discussion: """
            Tools: recall, history, current_state, observations, memories, presence and remember \
            (off with mcp.allow_writes: false). Resources: the node list, each node's sensors with \
            units, the latest daily digest. Reads the same store as the daemon while it runs; logs go \
            to stderr. On the hub the daemon also serves it at http://HOST:PORT/mcp (mcp.token).
            """)

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let logger = quietLogger()
            let clock = try await MemoryWiring.commandClock(runtime: runtime)
            let (tools, _) = await commandTools(runtime, clock: clock, logger: logger)
            let house = try await MCPWiring.house(runtime: runtime, tools: tools, logger: logger)
            try await HouseServer.runStdio(house, logger: logger)
        }
    }
}
