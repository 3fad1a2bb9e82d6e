public import Foundation
public import Logging
public import MCP
import SmollamaCore

/// The MCP server over a `House`: `initialize`, `ping`, `tools/list`, `tools/call`,
/// `resources/list` and `resources/read`, from modelcontextprotocol/swift-sdk's `Server`.
public enum HouseServer {
    static let instructions = """
        Smollama knows this home's sensor history, what it observed and the routines it learned. \
        Use recall for questions about habits and past events (cite the ids it returns), history for a \
        sensor's values over time, current_state for now, observations and memories to list, presence for \
        who was where. Times are ISO 8601 with the home's offset.
        """

    /// A server with the house's handlers, not yet started on a transport.
    public static func make(_ house: House) async -> Server {
        let server = Server(
            name: "smollama", version: SmollamaVersion.current, title: "Smollama (\(house.nodeName))",
            instructions: instructions,
            capabilities: .init(resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: house.toolList) }
        await server.withMethodHandler(CallTool.self) { params in
            try await house.call(params.name, arguments: params.arguments)
        }
        await server.withMethodHandler(ListResources.self) { _ in
            ListResources.Result(resources: try await house.resourceList())
        }
        await server.withMethodHandler(ReadResource.self) { params in try await house.read(params.uri) }
        return server
    }

    /// Serves one client over this process's stdin and stdout (newline-delimited JSON-RPC) until
    /// stdin closes, or over other handles (the benchmark's pipes). Logs go to stderr: stdout
    /// carries only the protocol.
    public static func runStdio(_ house: House, input: FileHandle = .standardInput,
                                output: FileHandle = .standardOutput, logger: Logger) async throws {
        let server = await make(house)
        try await server.start(transport: LineTransport(input: input, output: output, logger: logger))
        await server.waitUntilCompleted()
        await server.stop()
    }
}
