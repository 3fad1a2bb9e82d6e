import ArgumentParser
import Foundation
import Logging
import MCP
import Synchronization
import SmollamaCore
import SmollamaMCP
import SmollamaMind
import SmollamaStore

/// `recall` and `history` through MCP over stdio framing against the same calls through the
/// library path the CLI takes (`MindTools` plus its `--json` encoding), over a week of the
/// simulated house and a few hundred memories. The MCP side is the real server (`HouseServer`
/// on `LineTransport`) over a pair of pipes, the client writing one JSON-RPC line and reading
/// the reply line: everything but process start-up, which an assistant pays once.
struct MCPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp", abstract: "recall and history p50/p99 through MCP (stdio) vs the library path.")

    @Option(help: "Calls of each tool on each path.") var calls = 300
    @Option(help: "Memories stored for recall.") var memories = 500
    @Flag(help: "Print the result as JSON.") var json = false

    struct Row: Codable {
        var tool: String
        var path: String
        var p50Ms: Double
        var p99Ms: Double
        /// The process's CPU time per call (every thread).
        var cpuMs: Double
    }

    func run() async throws {
        let path = FileManager.default.temporaryDirectory.path + "/smollama-bench-mcp-\(UUID().uuidString).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try SmollamaDatabase.open(path: path)
        let node = NodeID(bytes: Array(repeating: 9, count: 16))
        try await database.meta.claim(for: node, incarnation: 1)
        let end = UTCMillis(rawValue: WeekReportBench.monday) + .seconds(7 * 86_400)
        try await WeekReportBench.seed(database, node: node, from: end - .seconds(7 * 86_400), to: end)
        let counter = WeekReportBench.Counter(start: end.rawValue)
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let tools = MindTools(
            database: database, recall: Recall(database: database, embedder: nil, vectorSearch: .off, logger: logger,
                                               now: { end }),
            node: node, indexer: nil, logger: logger, now: { end }, stamp: { counter.stamp() })
        let words = ["motion", "hallway", "kitchen", "door", "window", "heating", "morning", "evening", "night", "weekend"]
        for index in 0..<memories {
            _ = try await tools.remember("Fact \(index): the \(words[index % 10]) is busy in the \(words[(index / 10) % 10]).")
        }
        let house = House(tools: tools, nodeName: "bench", isHub: false, timeZone: TimeZone(identifier: "UTC")!,
                          areas: [:], windowLength: .seconds(900), allowWrites: false, logger: logger, now: { end })

        let recallQuery = RecallQuery(text: "hallway motion", topK: 5)
        let from = end - .seconds(86_400)
        let library: [(String, @Sendable () async throws -> Void)] = [
            ("recall", { _ = try MindTools.json(try await tools.recall(recallQuery)) }),
            ("history", { _ = try MindTools.json(try await tools.history(sensor: "living_room.temperature", from: from, to: end)) }),
        ]
        let inProcess: [(String, @Sendable () async throws -> Void)] = [
            ("recall", { _ = try await house.call("recall", arguments: ["query": "hallway motion", "top": 5]) }),
            ("history", { _ = try await house.call("history", arguments: [
                "sensor": "living_room.temperature", "from": .string("\(from.rawValue)"), "to": .string("\(end.rawValue)")]) }),
        ]
        let requests = [
            ("recall", #"{"name":"recall","arguments":{"query":"hallway motion","top":5}}"#),
            ("history", #"{"name":"history","arguments":{"sensor":"living_room.temperature","from":"\#(from.rawValue)","to":"\#(end.rawValue)"}}"#),
        ]

        let client = try await PipeClient(house: house, logger: logger)
        _ = try await client.call(#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}"#)
        var rows: [Row] = []
        for (((tool, direct), (_, params)), (_, local)) in zip(zip(library, requests), inProcess) {
            let paths: [(String, @Sendable () async throws -> Void)] = [
                ("library (MindTools + --json)", direct),
                ("House.call (no transport)", local),
                ("MCP over stdio framing", {
                    // One call at a time, so one id serves them all.
                    let reply = try await client.call(#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":\#(params)}"#)
                    guard reply.range(of: Data(#""isError":false"#.utf8)) != nil else {
                        throw ValidationError("\(tool) failed over MCP: \(String(decoding: reply.prefix(300), as: UTF8.self))")
                    }
                }),
            ]
            // Each path in its own loop after a warm-up: wall time per call, and the process's CPU
            // time per call (client and server both run here), which other load on the machine
            // does not inflate the way it does wall time.
            for (name, body) in paths {
                for _ in 0..<20 { try await body() }
                var times: [Double] = []
                let cpuBefore = RecallBench.processCPUMilliseconds()
                for _ in 0..<calls {
                    let clock = ContinuousClock()
                    let start = clock.now
                    try await body()
                    times.append(Self.ms(clock.now - start))
                }
                let cpu = (RecallBench.processCPUMilliseconds() - cpuBefore) / Double(calls)
                rows.append(Row(tool: tool, path: name, p50Ms: Self.percentile(times, 0.5),
                                p99Ms: Self.percentile(times, 0.99), cpuMs: cpu))
            }
        }
        await client.close()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.keyEncodingStrategy = .snakeCaseWords
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        print("tool     path                            p50 ms   p99 ms   cpu ms")
        for row in rows {
            print(row.tool.padding(toLength: 9, withPad: " ", startingAt: 0)
                  + row.path.padding(toLength: 32, withPad: " ", startingAt: 0)
                  + String(format: "%7.3f  %7.3f  %7.3f", row.p50Ms, row.p99Ms, row.cpuMs))
        }
    }

    static func ms(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]
    }
}

/// The client end of two pipes whose other ends a `HouseServer` serves: one request line out,
/// one reply line back.
final class PipeClient: Sendable {
    let toServer = Pipe()
    let fromServer = Pipe()
    let replies: AsyncStream<Data>
    let server: Task<Void, any Error>

    init(house: House, logger: Logger) async throws {
        let (replies, continuation) = AsyncStream<Data>.makeStream()
        self.replies = replies
        let buffer = LineBuffer()
        fromServer.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                continuation.finish()
            }
            for line in buffer.feed(chunk) { continuation.yield(line) }
        }
        let input = toServer.fileHandleForReading, output = fromServer.fileHandleForWriting
        server = Task { try await HouseServer.runStdio(house, input: input, output: output, logger: logger) }
    }

    /// Sends one request line; returns the reply line as bytes (the client only checks it).
    func call(_ request: String) async throws -> Data {
        try toServer.fileHandleForWriting.write(contentsOf: Data((request + "\n").utf8))
        for await reply in replies { return reply }
        throw ValidationError("the MCP server closed its output")
    }

    func close() async {
        try? toServer.fileHandleForWriting.close()
        _ = try? await server.value
    }

    final class LineBuffer: Sendable {
        let pending = Mutex(Data())

        /// Scans only the new chunk for line ends (a 30 KB reply arrives in pipe-sized chunks;
        /// scanning the whole buffer again on each one cost ~2 ms a reply, which was the client's
        /// time, not the server's).
        func feed(_ chunk: Data) -> [Data] {
            pending.withLock { buffer in
                var lines: [Data] = []
                chunk.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                    guard var start = bytes.baseAddress else { return }
                    var left = bytes.count
                    // memchr: Data's generic firstIndex(of:) walks a byte at a time.
                    while left > 0, let newline = memchr(start, 0x0A, left) {
                        let length = start.distance(to: UnsafeRawPointer(newline))
                        buffer.append(start.assumingMemoryBound(to: UInt8.self), count: length)
                        lines.append(buffer)
                        buffer = Data()
                        start = UnsafeRawPointer(newline) + 1
                        left -= length + 1
                    }
                    if left > 0 { buffer.append(start.assumingMemoryBound(to: UInt8.self), count: left) }
                }
                return lines
            }
        }
    }
}
