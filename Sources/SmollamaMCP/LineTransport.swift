public import Foundation
public import Logging
public import MCP
import Synchronization

/// MCP's stdio framing (one JSON-RPC message per line) over a pair of file handles: stdin and
/// stdout for `smollama mcp`, pipes in the benchmark. Reading is event-driven (the handle's
/// readability handler), unlike the SDK's `StdioTransport`, which polls a non-blocking stdin
/// and sleeps 10 ms whenever it finds nothing: up to 10 ms on every request.
public actor LineTransport: Transport {
    public nonisolated let logger: Logger
    let input: FileHandle
    let output: FileHandle
    let lines: AsyncThrowingStream<Data, any Error>
    let sink: LineSplitter
    /// Answers some requests itself (the reply's bytes) before the server sees them; nil: pass on.
    let shortcut: (@Sendable (Data) async -> Data?)?

    public init(input: FileHandle = .standardInput, output: FileHandle = .standardOutput, logger: Logger,
                shortcut: (@Sendable (Data) async -> Data?)? = nil) {
        self.input = input
        self.output = output
        self.logger = logger
        self.shortcut = shortcut
        let (lines, continuation) = AsyncThrowingStream<Data, any Error>.makeStream()
        self.lines = lines
        sink = LineSplitter(continuation)
    }

    public func connect() async throws {
        input.readabilityHandler = { [sink] handle in
            let chunk = handle.availableData
            guard !chunk.isEmpty else {
                // End of input: the client closed its side.
                handle.readabilityHandler = nil
                sink.finish()
                return
            }
            sink.feed(chunk)
        }
    }

    public func disconnect() async {
        input.readabilityHandler = nil
        sink.finish()
    }

    public func send(_ data: Data) async throws {
        var line = data
        line.append(0x0A)
        do {
            try output.write(contentsOf: line)
        } catch {
            throw MCPError.transportError(error)
        }
    }

    public func receive() -> AsyncThrowingStream<Data, any Error> {
        guard let shortcut else { return lines }
        let (passed, continuation) = AsyncThrowingStream<Data, any Error>.makeStream()
        let lines = lines
        Task {
            do {
                for try await line in lines {
                    if let reply = await shortcut(line) {
                        try await send(reply)
                    } else {
                        continuation.yield(line)
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        return passed
    }
}

/// Cuts the bytes read into lines and hands each non-empty one on.
final class LineSplitter: Sendable {
    private let pending = Mutex(Data())
    private let continuation: AsyncThrowingStream<Data, any Error>.Continuation

    init(_ continuation: AsyncThrowingStream<Data, any Error>.Continuation) { self.continuation = continuation }

    func feed(_ chunk: Data) {
        let complete: [Data] = pending.withLock { buffer in
            buffer.append(chunk)
            var lines: [Data] = []
            while let end = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<end]
                if !line.isEmpty { lines.append(Data(line)) }
                buffer.removeSubrange(buffer.startIndex...end)
            }
            return lines
        }
        for line in complete { continuation.yield(line) }
    }

    func finish() { continuation.finish() }
}
