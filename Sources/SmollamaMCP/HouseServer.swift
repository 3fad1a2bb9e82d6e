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
        let transport = LineTransport(input: input, output: output, logger: logger) { line in
            await answerToolCall(house, line: line)
        }
        try await server.start(transport: transport)
        await server.waitUntilCompleted()
        await server.stop()
    }

    /// A `tools/call` request answered here instead of by the SDK's `Server`, which encodes a
    /// handler's result, decodes that into its `Value` tree and encodes it again: ~0.1 ms per KB
    /// of reply (+3.5 ms for a day's history). The same SDK types (`Request<CallTool>`,
    /// `Response<CallTool>`, `MCPError`) and encoder settings; the reply's one text (the tool's
    /// JSON) is escaped once by `JSONText.quoted` and put in place of a marker, the rest encoded
    /// by the SDK's types. Nil for any other line (the server answers it, malformed ones included).
    static func answerToolCall(_ house: House, line: Data) async -> Data? {
        guard line.range(of: Data(#""tools/call""#.utf8)) != nil,
              let request = try? JSONDecoder().decode(Request<CallTool>.self, from: line),
              request.method == CallTool.name
        else { return nil }
        do {
            return try reply(id: request.id, result: try await house.call(request.params.name,
                                                                            arguments: request.params.arguments))
        } catch {
            let failure = error as? MCPError ?? .internalError(error.localizedDescription)
            return try? encoder.encode(Response<CallTool>(id: request.id, error: failure))
        }
    }

    /// The SDK's encoder, with the settings its `Server` uses.
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The bytes of `Response<CallTool>` for `result`: a one-text result's text escaped once in
    /// place of the marker; any other result encoded as it is.
    static func reply(id: ID, result: CallTool.Result) throws -> Data {
        guard result.content.count == 1, case .text(let text, let annotations, let meta) = result.content[0] else {
            return try encoder.encode(Response<CallTool>(id: id, result: result))
        }
        let marked = CallTool.Result(content: [.text(text: JSONText.marker, annotations: annotations, _meta: meta)],
                                     isError: result.isError)
        var reply = try encoder.encode(Response<CallTool>(id: id, result: marked))
        guard let at = reply.range(of: Data(("\"" + JSONText.marker + "\"").utf8)) else {
            return try encoder.encode(Response<CallTool>(id: id, result: result))
        }
        reply.replaceSubrange(at, with: JSONText.quoted(text))
        return reply
    }
}

/// JSON string literals written directly (RFC 8259 §7), as Foundation's encoder writes them with
/// `.withoutEscapingSlashes`: `"` and `\` escaped, control characters as `\n`, `\r`, `\t`, `\b`,
/// `\f` or `\u00XX`, everything else (UTF-8 included) as it is.
enum JSONText {
    /// Stands in for the text while the rest of a reply is encoded; plain ASCII, so encoded as is.
    static let marker = "@@smollama.mcp.text@@"

    static func quoted(_ text: String) -> Data {
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(text.utf8.count + text.utf8.count / 8 + 2)
        out.append(0x22)
        for byte in text.utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0x08: out += [0x5C, 0x62]
            case 0x0C: out += [0x5C, 0x66]
            case 0..<0x20: out += [0x5C, 0x75, 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(0x22)
        return Data(out)
    }
}
