import Crypto
import Foundation
import HTTPTypes
public import SmollamaCore
import SmollamaLLM
public import SmollamaStore

/// A memory id and how well it matched a query (higher is better, 0…1).
public struct ScoredMemoryID: Sendable, Hashable {
    public var id: String
    public var score: Double

    public init(id: String, score: Double) {
        self.id = id
        self.score = score
    }
}

/// The seam to the recall engine (SmollamaMind): candidates for a query, best first. The mem0
/// API applies its own scope and metadata filters afterwards, so it asks for more than `top_k`.
public protocol MemorySearching: Sendable {
    func searchMemories(_ query: String, origins: [NodeID]?, limit: Int) async throws -> [ScoredMemoryID]
}

/// What a `mem0` request body asks for once validated.
public struct Mem0Scope: Sendable, Hashable {
    public var userID: String?
    public var agentID: String?
    public var runID: String?

    public init(userID: String? = nil, agentID: String? = nil, runID: String? = nil) {
        self.userID = userID
        self.agentID = agentID
        self.runID = runID
    }

    public var isEmpty: Bool { userID == nil && agentID == nil && runID == nil }

    /// As a filter: each given id must match (`*` matches any value).
    var filter: Mem0Filter {
        var parts: [Mem0Filter] = []
        for (key, value) in [("user_id", userID), ("agent_id", agentID), ("run_id", runID)] {
            guard let value else { continue }
            parts.append(.condition(key: key, op: value == "*" ? .exists : .eq, value: .string(value)))
        }
        return .all(parts)
    }
}

/// The hub's shared memory seen the way mem0 sees memories. Every write is a memory version
/// event (`SmollamaDatabase.record`), so it syncs like anything else; nothing is ever erased:
/// an update is a new version naming its parent, a delete closes validity (a tombstone).
public struct SharedMemory: Sendable {
    public let database: SmollamaDatabase
    /// The hub: the origin of every version written through the API.
    public let node: NodeID
    public let clock: NodeClock
    public let directory: any NodeDirectory
    public let extractor: (any FactExtracting)?
    public let searcher: (any MemorySearching)?

    /// Keys of a memory item that mem0 promotes out of `metadata` to the item itself.
    static let scopeKeys = ["user_id", "agent_id", "run_id", "actor_id", "role"]
    /// Metadata keys that set a MemoryRecord field rather than free-form metadata.
    static let fieldKeys: Set<String> = ["kind", "subjects", "confidence", "importance", "valid_from", "valid_to"]
    /// Keys shown in `metadata` on output that clients cannot set.
    static let outputOnlyKeys: Set<String> = ["node", "node_id", "source", "supersedes"]
    /// Names (comma-separated) of metadata values kept as JSON text because they were not strings.
    static let jsonKeysKey = "mem0.json_keys"
    /// How many memories a listing or filter pass considers at most.
    static let scanLimit = 100_000
    /// Memories read at a time while a listing's metadata filters run over its scope.
    static let scanChunk = 500

    public init(database: SmollamaDatabase, node: NodeID, clock: NodeClock, directory: any NodeDirectory,
                extractor: (any FactExtracting)? = nil, searcher: (any MemorySearching)? = nil) {
        self.database = database
        self.node = node
        self.clock = clock
        self.directory = directory
        self.extractor = extractor
        self.searcher = searcher
    }

    // MARK: - Requests

    /// `POST /memories`.
    public func add(_ request: Mem0AddRequest) async throws -> Mem0AddReply {
        let messages = request.messages
        var template = try template(metadata: request.metadata, scope: request.scope)
        let now = await clock.now()
        template.createdAt = now
        if template.validFrom == 0 { template.validFrom = now }

        var records: [(MemoryRecord, String)] = []
        if request.infer {
            guard let extractor else {
                throw Mem0Error(.serviceUnavailable,
                                "infer: true needs the hub's LLM (the llm: section), which is not available here; "
                                    + "send infer: false to store the messages as given")
            }
            let facts: [ExtractedFact]
            do {
                facts = try await extractor.extract(from: messages)
            } catch {
                throw Mem0Error(.badGateway, "the LLM could not extract facts (\(Self.short(error))); retry, "
                                    + "or send infer: false")
            }
            for fact in facts {
                var record = template
                record.id = node.newRecordID()
                record.text = fact.text
                if record.subjects.isEmpty { record.subjects = fact.subjects }
                record.source = .inferred
                record.confidence = template.metadata["mem0.confidence_given"] != nil ? template.confidence : 0.5
                record.metadata["provenance"] = fact.provenance
                records.append((record, "user"))
            }
        } else {
            for message in messages where message.role != "system" {
                var record = template
                record.id = node.newRecordID()
                record.text = message.content
                record.metadata["role"] = message.role
                if let name = message.name { record.metadata["actor_id"] = name }
                records.append((record, message.role))
            }
            guard !records.isEmpty else {
                throw Mem0Error.badRequest("messages hold no user or assistant message to store")
            }
        }
        var results: [Mem0AddReply.Added] = []
        for (var record, role) in records {
            record.metadata["mem0.confidence_given"] = nil
            let stamp = await clock.eventStamp()
            try await database.knowledge.record(record, origin: node, stamp: stamp)
            results.append(.init(id: record.id, memory: record.text, event: "ADD", actorID: record.metadata["actor_id"],
                                 role: role))
        }
        return Mem0AddReply(results: results)
    }

    /// `GET /memories`: the current memories in scope that pass the filters, newest first, page
    /// `page` (from 1) of `limit` each. The scope is selected in SQL; the metadata filters (capped
    /// in size, `Mem0Filter.maxConditions`) run over the scoped memories only.
    public func list(scope: Mem0Scope, filters: Mem0Filter, limit: Int, page: Int = 1, showExpired: Bool) async throws
        -> Mem0Items
    {
        guard !scope.isEmpty else {
            throw Mem0Error.badRequest(
                "At least one identifier (user_id, agent_id, run_id) is required; use agent_id=* for every node")
        }
        let selection = await storeScope(scope, visibleAt: showExpired ? nil : await clock.now())
        let skip = (page - 1) * limit
        if filters == .matchAll {
            var results: [Mem0Item] = []
            for stored in try await database.knowledge.memories(in: selection, offset: skip, limit: limit) {
                results.append(await item(stored))
            }
            return Mem0Items(results: results)
        }
        var results: [Mem0Item] = []
        var passed = 0
        var offset = 0
        while results.count < limit && offset < Self.scanLimit {
            let chunk = try await database.knowledge.memories(in: selection, offset: offset, limit: Self.scanChunk)
            for stored in chunk where results.count < limit {
                let item = await item(stored)
                guard filters.matches(item.document) else { continue }
                passed += 1
                if passed > skip { results.append(item) }
            }
            guard chunk.count == Self.scanChunk else { break }
            offset += chunk.count
        }
        return Mem0Items(results: results)
    }

    /// The scope as the store selects it: `*` is "present", an agent name also matches the
    /// memories without `agent_id` whose first origin has that name.
    func storeScope(_ scope: Mem0Scope, visibleAt: UTCMillis?) async -> MemoryScope {
        func match(_ value: String?) -> MemoryScope.Match { value.map { $0 == "*" ? .present : .equals($0) } ?? .any }
        var origins: [NodeID] = []
        if let agent = scope.agentID, agent != "*" {
            for node in await directory.nodes(matching: agent) where await directory.name(of: node) == agent {
                origins.append(node)
            }
        }
        return MemoryScope(user: match(scope.userID), agent: match(scope.agentID), agentOrigins: origins,
                           run: match(scope.runID), visibleAt: visibleAt)
    }

    /// `GET /memories/{id}`.
    public func get(id: String) async throws -> Mem0Item {
        // mem0's `get` answers a whole MemoryItem, whose score is null outside a search.
        await item(try await current(id), score: .null)
    }

    /// `PUT /memories/{id}`: a new version of the memory naming the one it edits.
    public func update(id: String, _ request: Mem0UpdateRequest) async throws -> Mem0MessageReply {
        let stored = try await current(id)
        var record = stored.record
        if let text = request.text { record.text = text }
        if let changes = request.metadata { try Self.apply(changes, to: &record, allowScope: false) }
        record.parent = stored.version
        record.metadata["mem0.confidence_given"] = nil
        try await write(record, editing: stored)
        return Mem0MessageReply(message: "Memory updated successfully!")
    }

    /// `DELETE /memories/{id}`: a tombstone version (validity and belief closed); history stays.
    public func delete(id: String) async throws -> Mem0MessageReply {
        let stored = try await current(id)
        try await close(stored)
        return Mem0MessageReply(message: "Memory deleted successfully!")
    }

    /// `DELETE /memories?user_id=…` (admin): tombstones every current memory in scope.
    public func deleteAll(scope: Mem0Scope) async throws -> Mem0MessageReply {
        guard !scope.isEmpty else {
            throw Mem0Error.badRequest("At least one identifier (user_id, agent_id, run_id) is required.")
        }
        let selection = await storeScope(scope, visibleAt: await clock.now())
        for stored in try await database.knowledge.memories(in: selection, offset: 0, limit: Self.scanLimit) {
            try await close(stored)
        }
        return Mem0MessageReply(message: "Memories deleted successfully!")
    }

    /// `POST /reset` (admin): tombstones every current memory. Nothing is erased: history stays.
    public func reset() async throws -> Mem0MessageReply {
        let everything = MemoryScope(visibleAt: await clock.now())
        for stored in try await database.knowledge.memories(in: everything, offset: 0, limit: Self.scanLimit) {
            try await close(stored)
        }
        return Mem0MessageReply(message: "All memories reset")
    }

    /// `GET /memories/{id}/history`: every version, oldest first, as mem0's history entries.
    public func history(id: String) async throws -> [Mem0HistoryEntry] {
        let versions = try await database.knowledge.memoryVersions(id: id)
        guard !versions.isEmpty else { throw Mem0Error.notFound(id) }
        let byRef = Dictionary(versions.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        var entries: [Mem0HistoryEntry] = []
        for version in versions {
            let record = version.record
            let previous = record.parent.flatMap { byRef[$0] }
            let event = record.parent == nil ? "ADD" : record.expiredAt == nil ? "UPDATE" : "DELETE"
            entries.append(Mem0HistoryEntry(
                id: "\(version.version.origin.hex)-\(version.version.seq)", memoryID: id,
                oldMemory: previous?.record.text, newMemory: event == "DELETE" ? nil : record.text, event: event,
                createdAt: Self.iso(record.createdAt), updatedAt: Self.iso(version.hlc.time),
                isDeleted: event == "DELETE", actorID: await directory.name(of: version.version.origin),
                role: record.metadata["role"]))
        }
        return entries
    }

    /// `POST /search`.
    public func search(_ request: Mem0SearchRequest) async throws -> Mem0Items {
        let scope = request.scope
        let filters = Mem0Filter.all([scope.filter, request.filters])
        let topK = request.topK
        guard let searcher else {
            throw Mem0Error(.serviceUnavailable, "search needs the recall engine, which is not running on this hub")
        }
        var origins: [NodeID]?
        if let agent = scope.agentID, agent != "*" {
            let matched = await directory.nodes(matching: agent)
            if !matched.isEmpty { origins = matched }
        }
        let hits = try await searcher.searchMemories(request.query, origins: origins, limit: max(topK * 5, 100))
        let now = await clock.now()
        var results: [Mem0Item] = []
        for hit in hits where hit.score >= request.threshold {
            guard let stored = try await database.knowledge.memory(id: hit.id), Self.isVisible(stored.record, now: now)
            else { continue }
            let item = await item(stored, score: .value(hit.score))
            guard filters.matches(item.document) else { continue }
            results.append(item)
            if results.count >= topK { break }
        }
        return Mem0Items(results: results)
    }

    // MARK: - Mapping

    private func current(_ id: String) async throws -> StoredMemory {
        guard let stored = try await database.knowledge.memory(id: id), Self.isVisible(stored.record, now: await clock.now())
        else { throw Mem0Error.notFound(id) }
        return stored
    }

    /// What mem0 shows: believed (not deleted) and still valid now (a `valid_to` ahead is fine).
    static func isVisible(_ record: MemoryRecord, now: UTCMillis) -> Bool {
        record.expiredAt == nil && (record.validTo.map { $0 > now } ?? true)
    }

    private func close(_ stored: StoredMemory) async throws {
        var record = stored.record
        let now = await clock.now()
        record.validTo = min(record.validTo ?? now, now)
        record.expiredAt = now
        record.parent = stored.version
        try await write(record, editing: stored)
    }

    /// Writes a new version of `stored`, ordered after it whoever wrote that, and checks that it
    /// is now the memory's version: an edit that cannot take effect (the store refused it, or
    /// a version stamped later won) is an error, never a "success".
    private func write(_ record: MemoryRecord, editing stored: StoredMemory) async throws {
        await clock.observe(stored.hlc)
        let stamp = await clock.eventStamp()
        let event = try await database.knowledge.record(record, origin: node, stamp: stamp)
        guard try await database.knowledge.memory(id: record.id)?.version == MemoryVersionRef(origin: node, seq: event.seq)
        else {
            throw Mem0Error(.conflict, "Memory with id \(record.id) was not changed: a later version of it (from "
                            + "\(await directory.name(of: stored.version.origin))) stays current; read it again and "
                            + "retry, or check the hub's clock with `smollama status`")
        }
    }

    /// A mem0 memory item: the promoted scope keys, and in `metadata` the client's keys plus the
    /// record's fields and the hub's (`node`, `node_id`, `source`, `supersedes`).
    func item(_ stored: StoredMemory, score: Mem0Item.Score = .absent) async -> Mem0Item {
        let record = stored.record
        let nodeName = await directory.name(of: stored.firstOrigin)
        var metadata = Self.userMetadata(record)
        metadata["kind"] = .string(record.kind)
        metadata["subjects"] = .array(record.subjects.map(JSONValue.string))
        metadata["confidence"] = .number(record.confidence)
        metadata["importance"] = .number(record.importance)
        metadata["valid_from"] = .string(Self.iso(record.validFrom))
        metadata["valid_to"] = record.validTo.map { .string(Self.iso($0)) }
        metadata["supersedes"] = record.supersedes.map(JSONValue.string)
        metadata["source"] = .string(record.source.rawValue)
        metadata["node"] = .string(nodeName)
        metadata["node_id"] = .string(stored.firstOrigin.hex)
        return Mem0Item(
            id: record.id, memory: record.text, hash: Self.hash(record.text), createdAt: Self.iso(record.createdAt),
            updatedAt: Self.iso(stored.hlc.time), userID: record.metadata["user_id"],
            agentID: record.metadata["agent_id"] ?? nodeName, runID: record.metadata["run_id"] ?? Self.day(record.createdAt),
            actorID: record.metadata["actor_id"], role: record.metadata["role"], metadata: metadata, score: score)
    }

    /// Free-form metadata as given (JSON values restored), without scope and internal keys.
    static func userMetadata(_ record: MemoryRecord) -> [String: JSONValue] {
        let jsonKeys = Set((record.metadata[jsonKeysKey] ?? "").split(separator: ",").map(String.init))
        var result: [String: JSONValue] = [:]
        for (key, value) in record.metadata where !scopeKeys.contains(key) && !key.hasPrefix("mem0.") {
            result[key] = jsonKeys.contains(key) ? ((try? JSONValue(parsing: value)) ?? .string(value)) : .string(value)
        }
        return result
    }

    /// The record a new memory starts from: scope ids and metadata applied.
    private func template(metadata: [String: JSONValue]?, scope: Mem0Scope) throws -> MemoryRecord {
        var record = MemoryRecord(
            id: "", kind: "fact", subjects: [], text: "", confidence: 1, importance: 0.5, validFrom: 0, createdAt: 0,
            source: .api)
        if let metadata { try Self.apply(metadata, to: &record, allowScope: true) }
        if let user = scope.userID { record.metadata["user_id"] = user }
        if let agent = scope.agentID { record.metadata["agent_id"] = agent }
        if let run = scope.runID { record.metadata["run_id"] = run }
        return record
    }

    /// Node-clock milliseconds as ISO 8601 in UTC, e.g. `2026-11-26T04:34:05.816Z`.
    static func iso(_ time: UTCMillis) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: time.date)
    }

    /// The UTC day of a time, `2026-11-26`: the default `run_id` (a run is a day).
    static func day(_ time: UTCMillis) -> String { String(iso(time).prefix(10)) }

    /// mem0's `hash`: the MD5 of the text, in hex.
    static func hash(_ text: String) -> String {
        Insecure.MD5.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func short(_ error: any Error) -> String { String("\(error)".prefix(200)) }
}
