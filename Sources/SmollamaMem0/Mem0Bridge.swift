import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
import SmollamaCore
import SmollamaLLM
public import SmollamaStore

/// Copies every node's memories to an external mem0 server, through the paths of mem0's
/// self-hosted REST server: a new memory is `POST /memories` with `infer: false`, a later winning
/// version is `PUT /memories/{id}`, a tombstone is `DELETE /memories/{id}`.
///
/// Progress is per origin (the last memory event handled) in the store's `meta` table, with the
/// remote id of each memory, so a restart resumes where it stopped. An item is marked done only
/// after the server said yes; a failure stops that origin's pass and the service backs off. A
/// crash between the server's yes and our record is resolved without a duplicate: the memory is
/// marked in flight before the POST, and a retry first looks for it on the server (by
/// `metadata.smollama_id`) before posting again.
public struct Mem0Bridge: Service {
    public let database: SmollamaDatabase
    public let config: Mem0BridgeConfig
    public let directory: any NodeDirectory
    public let logger: Logger
    let client: HTTPClient

    public init(database: SmollamaDatabase, config: Mem0BridgeConfig, directory: any NodeDirectory, logger: Logger) {
        self.database = database
        self.config = config
        self.directory = directory
        self.logger = logger
        self.client = HTTPClient.shared
    }

    /// What one pass did.
    public struct Pass: Sendable, Hashable {
        public var handled = 0
        public var posted = 0
        public var updated = 0
        public var deleted = 0
    }

    static let prefix = "mem0.bridge."
    static func cursorKey(_ origin: NodeID) -> String { prefix + "cursor." + origin.hex }
    static func remoteKey(_ memoryID: String) -> String { prefix + "remote." + memoryID }
    static func inflightKey(_ memoryID: String) -> String { prefix + "inflight." + memoryID }
    static let urlKey = prefix + "url"
    /// The remote value of a memory deleted there.
    static let deletedMarker = "-"

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var delay = config.interval.duration
            while !Task.isCancelled {
                do {
                    let pass = try await tick()
                    if pass.handled > 0 {
                        logger.info("mem0 bridge pass", metadata: [
                            "smollama.mem0.handled": "\(pass.handled)", "smollama.mem0.posted": "\(pass.posted)",
                            "smollama.mem0.updated": "\(pass.updated)", "smollama.mem0.deleted": "\(pass.deleted)",
                        ])
                    }
                    delay = config.interval.duration
                } catch is CancellationError {
                    return
                } catch {
                    delay = min(delay * 2, config.maxBackoff.duration)
                    logger.warning("mem0 bridge: server failed; nothing was marked sent, retrying later", metadata: [
                        "smollama.mem0.url": "\(config.url)", "smollama.error": "\(error)",
                        "smollama.mem0.retry_in": "\(delay)",
                    ])
                }
                try await Task.sleep(for: delay)
            }
        }
    }

    /// One pass over every origin's memory events not handled yet. Throws the first failure
    /// (after keeping the progress made before it).
    @discardableResult
    public func tick() async throws -> Pass {
        try await resetProgressIfServerChanged()
        var pass = Pass()
        var failure: (any Error)?
        for origin in try await database.events.eventOrigins(stream: .memories) {
            do {
                try await drain(origin: origin, pass: &pass)
            } catch {
                failure = failure ?? error
            }
        }
        if let failure { throw failure }
        return pass
    }

    private func resetProgressIfServerChanged() async throws {
        let previous = try await database.meta.metaValue(Self.urlKey)
        guard previous != config.url else { return }
        var changes: [String: String?] = [:]
        for key in try await database.meta.metaValues(prefix: Self.prefix).keys { changes[key] = .some(nil) }
        changes[Self.urlKey] = config.url
        try await database.meta.setMetaValues(changes)
        if previous != nil {
            logger.notice("mem0 bridge: the server changed; every memory will be sent to the new one",
                          metadata: ["smollama.mem0.url": "\(config.url)"])
        }
    }

    private func drain(origin: NodeID, pass: inout Pass) async throws {
        var cursor = Int64(try await database.meta.metaValue(Self.cursorKey(origin)) ?? "0") ?? 0
        while true {
            let events = try await database.events.fetch(origin: origin, stream: .memories, afterSeq: cursor,
                                                   limit: config.batchSize)
            guard !events.isEmpty else { return }
            for event in events {
                var changes = try await handle(event, pass: &pass)
                changes[Self.cursorKey(origin)] = String(event.seq)
                try await database.meta.setMetaValues(changes)
                cursor = event.seq
                pass.handled += 1
            }
            if events.count < config.batchSize { return }
        }
    }

    /// Brings the server in line with the memory's current winner. Returns the meta changes to
    /// record with the cursor once the server has agreed.
    private func handle(_ event: Event, pass: inout Pass) async throws -> [String: String?] {
        guard case .memoryVersion(let record) = try? event.body,
              let winner = try await database.knowledge.memory(id: record.id)
        else { return [:] }
        let remote = try await database.meta.metaValue(Self.remoteKey(record.id))
        let parts = remote?.split(separator: " ", maxSplits: 1).map(String.init) ?? []
        let remoteID = parts.first
        if remoteID == Self.deletedMarker { return [:] }
        if winner.record.expiredAt != nil {
            if let remoteID {
                try await send(.DELETE, path: "/memories/\(Self.escape(remoteID))", body: nil, allowNotFound: true)
                pass.deleted += 1
            }
            return [Self.remoteKey(record.id): Self.deletedMarker]
        }
        let hash = SharedMemory.hash(winner.record.text)
        if let remoteID {
            guard parts.count < 2 || parts[1] != hash else { return [:] }
            try await send(.PUT, path: "/memories/\(Self.escape(remoteID))",
                           body: ["text": .string(winner.record.text)], allowNotFound: false)
            pass.updated += 1
            return [Self.remoteKey(record.id): "\(remoteID) \(hash)"]
        }
        let body = await addBody(winner, event: event)
        if try await database.meta.metaValue(Self.inflightKey(record.id)) != nil,
           let found = try await findRemote(memoryID: record.id, scope: body) {
            return [Self.remoteKey(record.id): "\(found) \(hash)", Self.inflightKey(record.id): String?.none]
        }
        try await database.meta.setMetaValues([Self.inflightKey(record.id): "\(event.origin.hex):\(event.seq)"])
        let reply = try await send(.POST, path: "/memories", body: body, allowNotFound: false)
        guard let id = reply["results"]?.arrayValue?.first?["id"]?.stringValue else {
            throw BridgeError.unexpectedReply("POST /memories answered without results[0].id: \(reply.jsonString.prefix(200))")
        }
        pass.posted += 1
        return [Self.remoteKey(record.id): "\(id) \(hash)", Self.inflightKey(record.id): String?.none]
    }

    /// The `POST /memories` body: the text as one user message, `infer: false`, the node as
    /// `agent_id`, and metadata keeping where it came from, its validity and confidence.
    func addBody(_ stored: StoredMemory, event: Event) async -> JSONValue {
        let record = stored.record
        let node = await directory.name(of: stored.firstOrigin)
        var metadata = SharedMemory.userMetadata(record)
        metadata["smollama_id"] = .string(record.id)
        metadata["smollama_event"] = .string("\(event.origin.hex):\(event.seq)")
        metadata["smollama_node"] = .string(node)
        metadata["smollama_kind"] = .string(record.kind)
        metadata["smollama_source"] = .string(record.source.rawValue)
        metadata["smollama_subjects"] = .string(record.subjects.joined(separator: ","))
        metadata["smollama_confidence"] = .number(record.confidence)
        metadata["smollama_valid_from"] = .string(SharedMemory.iso(record.validFrom))
        if let validTo = record.validTo { metadata["smollama_valid_to"] = .string(SharedMemory.iso(validTo)) }
        var body: [String: JSONValue] = [
            "messages": [["role": "user", "content": .string(record.text)]],
            "agent_id": .string(record.metadata["agent_id"] ?? node),
            "infer": false,
            "metadata": .object(metadata),
        ]
        if let user = record.metadata["user_id"] { body["user_id"] = .string(user) }
        if let run = record.metadata["run_id"] { body["run_id"] = .string(run) }
        return .object(body)
    }

    /// Looks for a memory we may have posted before a crash, by `metadata.smollama_id`.
    private func findRemote(memoryID: String, scope: JSONValue) async throws -> String? {
        var query: [String] = []
        for key in ["user_id", "agent_id", "run_id"] {
            if let value = scope[key]?.stringValue { query.append("\(key)=\(Self.escape(value))") }
        }
        let reply = try await send(.GET, path: "/memories?" + query.joined(separator: "&"), body: nil,
                                   allowNotFound: false)
        let items = reply["results"]?.arrayValue ?? reply.arrayValue ?? []
        return items.first { $0["metadata"]?["smollama_id"]?.stringValue == memoryID }?["id"]?.stringValue
    }

    @discardableResult
    private func send(_ method: HTTPMethod, path: String, body: JSONValue?, allowNotFound: Bool) async throws
        -> JSONValue
    {
        let base = config.url.hasSuffix("/") ? String(config.url.dropLast()) : config.url
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        if !config.apiKey.isEmpty {
            request.headers.add(name: "X-API-Key", value: config.apiKey)
            request.headers.add(name: "Authorization", value: "Token \(config.apiKey)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonString))
        }
        let response = try await client.execute(request, timeout: .milliseconds(config.timeout.milliseconds))
        let bytes = try await response.body.collect(upTo: 8 * 1024 * 1024)
        let text = String(buffer: bytes)
        if allowNotFound && response.status == .notFound { return .null }
        guard (200..<300).contains(Int(response.status.code)) else {
            throw BridgeError.status(Int(response.status.code), "\(method) \(path)", String(text.prefix(300)))
        }
        return (try? JSONValue(parsing: text)) ?? .null
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/", "?", "&", "=", "+"])) ?? text
    }
}

public enum BridgeError: Error, CustomStringConvertible {
    case status(Int, String, String)
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .status(let code, let call, let body): "the mem0 server answered \(code) to \(call): \(body)"
        case .unexpectedReply(let what): what
        }
    }
}
