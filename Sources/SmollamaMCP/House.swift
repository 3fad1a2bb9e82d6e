public import Foundation
public import Logging
public import MCP
public import SmollamaCore
import SmollamaMem0
public import SmollamaMind
public import SmollamaStore

/// What the MCP server answers from: the node's store and the mind's tools (the same `MindTools`
/// the CLI's `recall`, `history`, `state` and `remember` call), this node's identity and zone.
/// Transport-free: `MCPServerFactory` puts it behind stdio or streamable HTTP.
public struct House: Sendable {
    public var tools: MindTools
    public var database: SmollamaDatabase { tools.database }
    public var node: NodeID { tools.node }
    public var nodeName: String
    /// A hub answers for every node that syncs to it.
    public var isHub: Bool
    public var timeZone: TimeZone
    /// Rooms named in `areas:` (sensor → room), for presence.
    public var areas: [SensorID: String]
    /// The observation window (`observe.interval`), for presence.
    public var windowLength: Duration
    public var allowWrites: Bool
    public var logger: Logger
    let now: @Sendable () -> UTCMillis

    public init(tools: MindTools, nodeName: String, isHub: Bool, timeZone: TimeZone, areas: [SensorID: String],
                windowLength: Duration, allowWrites: Bool, logger: Logger,
                now: @escaping @Sendable () -> UTCMillis = { UTCMillis.now() }) {
        self.tools = tools
        self.nodeName = nodeName
        self.isHub = isHub
        self.timeZone = timeZone
        self.areas = areas
        self.windowLength = windowLength
        self.allowWrites = allowWrites
        self.logger = logger
        self.now = now
    }

    /// The tools offered, in the order a client lists them. `remember` only with writes allowed.
    public var toolList: [Tool] {
        var list = [
            Self.tool("recall", RecallArguments.self,
                      "Search remembered routines, facts and past observations of this home (embeddings and words, "
                          + "ranked with recency and importance). Each hit has an id to cite.", readOnly: true),
            Self.tool("history", HistoryArguments.self,
                      "One sensor's rollups over a time range: min/mean/max per bucket for numeric sensors, "
                          + "activations and time on for binary ones.", readOnly: true),
            Self.tool("current_state", CurrentStateArguments.self,
                      "The latest value, age and health of this node's sensors (all when none are named).", readOnly: true),
            Self.tool("observations", ObservationsArguments.self,
                      "What was observed in a time range: the sentences the node wrote, with kind, subjects and ids.",
                      readOnly: true),
            Self.tool("memories", MemoriesArguments.self,
                      "The memories (routines, baselines, ranges, facts) that hold now or held at a time; "
                          + "with a query, the best matches.", readOnly: true),
            Self.tool("presence", PresenceArguments.self,
                      "Whether each room was occupied, window by window, with a confidence and the facts it rests on.",
                      readOnly: true),
        ]
        if allowWrites {
            list.append(Self.tool("remember", RememberArguments.self,
                                  "Store a fact the user states about the home, so it can be recalled later.",
                                  readOnly: false))
        }
        return list
    }

    static func tool<Arguments: ToolArguments>(_ name: String, _ type: Arguments.Type, _ description: String,
                                               readOnly: Bool) -> Tool {
        Tool(name: name, description: description, inputSchema: Arguments.inputSchema,
             annotations: .init(readOnlyHint: readOnly, destructiveHint: false, idempotentHint: readOnly,
                                openWorldHint: false))
    }

    /// Runs a `tools/call`. Arguments that are missing, unknown, of the wrong type, or that name a
    /// sensor, node or room that does not exist throw `MCPError.invalidParams` naming the argument.
    public func call(_ name: String, arguments: [String: Value]?) async throws -> CallTool.Result {
        switch name {
        case "recall":
            let output = try await recall(RecallArguments.decode(arguments, tool: name))
            return try result(output, cited: output.hits.map(\.id))
        case "history":
            return try result(try await history(HistoryArguments.decode(arguments, tool: name)), cited: [])
        case "current_state":
            let arguments = try CurrentStateArguments.decode(arguments, tool: name)
            return try result(try await guarded(name, "sensors") { try await tools.currentState(sensors: arguments.sensors) }, cited: [])
        case "observations":
            let output = try await observations(ObservationsArguments.decode(arguments, tool: name))
            return try result(output, cited: output.observations.map(\.observation.id))
        case "memories":
            let output = try await memories(MemoriesArguments.decode(arguments, tool: name))
            return try result(output, cited: output.memories.map(\.memory.id))
        case "presence":
            return try result(try await presence(PresenceArguments.decode(arguments, tool: name)), cited: [])
        case "remember":
            guard allowWrites else {
                throw MCPError.invalidRequest(
                    "remember is turned off on this node (mcp.allow_writes: false); nothing was written")
            }
            let arguments = try RememberArguments.decode(arguments, tool: name)
            let output = try await guarded(name, "text") { try await tools.remember(arguments.text, subjects: arguments.sensors) }
            return try result(output, cited: [output.id])
        default:
            throw MCPError.methodNotFound(
                "no tool named '\(name)'; tools: " + toolList.map(\.name).joined(separator: ", "))
        }
    }

    // MARK: - Results

    /// The tool's output as the CLI's `--json` writes it (snake_case keys, sorted), with times as
    /// ISO 8601 in the node's zone and `cited_ids`: the memory and observation ids it contains.
    func result(_ output: some Encodable & Sendable, cited: [String]) throws -> CallTool.Result {
        CallTool.Result(content: [.text(text: try json(Cited(output: output, citedIDs: cited)), annotations: nil, _meta: nil)],
                        isError: false)
    }

    /// The mind's refusals (unknown sensor, empty range, text too long) are the caller's to fix:
    /// `invalidParams` naming the argument they came from.
    func guarded<T>(_ tool: String, _ argument: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as MindToolError {
            throw MCPError.invalidParams("\(tool): argument '\(argument)': \(error)")
        }
    }

    /// A time argument against this server's clock.
    func time(_ text: String?, _ argument: String, tool: String, default fallback: UTCMillis) throws -> UTCMillis {
        guard let text else { return fallback }
        guard let time = ToolTime.parse(text, now: now()) else {
            throw MCPError.invalidParams("\(tool): argument '\(argument)' must be \(ArgumentType.time.expected) (got \"\(text)\")")
        }
        return time
    }

    /// Nodes matching a name, id or id prefix (the hub's enrolled nodes and this node).
    func nodes(matching name: String, argument: String, tool: String) async throws -> [NodeID] {
        let directory = DatabaseNodeDirectory(database: database, node: node, nodeName: nodeName)
        let matched = await directory.nodes(matching: name)
        guard !matched.isEmpty else {
            let enrolled = (try? await database.hubSync.hubNodes(countReadings: false)) ?? []
            let known = [nodeName] + enrolled.map(\.name)
            throw MCPError.invalidParams("\(tool): argument '\(argument)': no node is '\(name)'; nodes: "
                                         + known.joined(separator: ", "))
        }
        return matched
    }
}

/// An output with `cited_ids` added beside its own keys.
struct Cited<Output: Encodable & Sendable>: Encodable, Sendable {
    var output: Output
    var citedIDs: [String]

    enum CodingKeys: String, CodingKey { case citedIDs = "cited_ids" }

    func encode(to encoder: any Encoder) throws {
        try output.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(citedIDs, forKey: .citedIDs)
    }
}
