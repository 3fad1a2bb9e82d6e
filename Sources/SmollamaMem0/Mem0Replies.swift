import Foundation
public import SmollamaLLM

// The mem0 API's replies, in mem0's shapes (snapshotted in Tests/Contracts/mem0-*.json). Keys
// that mem0 sends as null are encoded as null, not left out.

/// A memory item: `GET /memories/{id}`, listings and search hits.
public struct Mem0Item: Encodable, Sendable, Hashable {
    public var id: String
    public var memory: String
    /// MD5 of the text, hex (mem0's `hash`).
    public var hash: String
    public var createdAt: String
    public var updatedAt: String
    public var userID: String?
    /// The writing node's name unless the client set one.
    public var agentID: String
    /// The UTC day of creation unless the client set one (a run is a day).
    public var runID: String
    public var actorID: String?
    public var role: String?
    /// The client's metadata plus the record's fields and the hub's (`kind`, `node`, `source`, …).
    public var metadata: [String: JSONValue]
    public var score: Score

    /// A search hit's score; `null` in a single item; absent in a listing.
    public enum Score: Sendable, Hashable {
        case absent
        case null
        case value(Double)
    }

    enum CodingKeys: String, CodingKey {
        case id, memory, hash, createdAt = "created_at", updatedAt = "updated_at", userID = "user_id"
        case agentID = "agent_id", runID = "run_id", actorID = "actor_id", role, metadata, score
    }

    public func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: CodingKeys.self)
        try fields.encode(id, forKey: .id)
        try fields.encode(memory, forKey: .memory)
        try fields.encode(hash, forKey: .hash)
        try fields.encode(createdAt, forKey: .createdAt)
        try fields.encode(updatedAt, forKey: .updatedAt)
        try fields.encodeIfPresent(userID, forKey: .userID)
        try fields.encode(agentID, forKey: .agentID)
        try fields.encode(runID, forKey: .runID)
        try fields.encodeIfPresent(actorID, forKey: .actorID)
        try fields.encodeIfPresent(role, forKey: .role)
        try fields.encode(metadata, forKey: .metadata)
        switch score {
        case .absent: break
        case .null: try fields.encodeNil(forKey: .score)
        case .value(let value): try fields.encode(value, forKey: .score)
        }
    }

    /// The flat document mem0's filters look at: the metadata and the item's own fields.
    var document: [String: JSONValue] {
        var document = metadata
        for (key, value) in [(CodingKeys.id, id), (.memory, memory), (.hash, hash), (.createdAt, createdAt),
                             (.updatedAt, updatedAt), (.agentID, agentID), (.runID, runID)] {
            document[key.rawValue] = .string(value)
        }
        for (key, value) in [(CodingKeys.userID, userID), (.actorID, actorID), (.role, role)] {
            document[key.rawValue] = value.map(JSONValue.string)
        }
        if case .value(let score) = score { document["score"] = .number(score) }
        return document
    }
}

/// `{"results": [item, …]}`: listings and searches.
public struct Mem0Items: Encodable, Sendable, Hashable {
    public var results: [Mem0Item]
}

/// `POST /memories`: what was stored.
public struct Mem0AddReply: Encodable, Sendable, Hashable {
    public var results: [Added]

    public struct Added: Encodable, Sendable, Hashable {
        public var id: String
        public var memory: String
        /// Always `ADD`: nothing is merged on the way in.
        public var event: String
        public var actorID: String?
        public var role: String

        enum CodingKeys: String, CodingKey { case id, memory, event, actorID = "actor_id", role }

        public func encode(to encoder: any Encoder) throws {
            var fields = encoder.container(keyedBy: CodingKeys.self)
            try fields.encode(id, forKey: .id)
            try fields.encode(memory, forKey: .memory)
            try fields.encode(event, forKey: .event)
            try fields.encode(actorID, forKey: .actorID)  // null when none, as mem0 sends it
            try fields.encode(role, forKey: .role)
        }
    }
}

/// `{"message": "…"}`: updates, deletes, reset.
public struct Mem0MessageReply: Encodable, Sendable, Hashable {
    public var message: String
}

/// One version of a memory, oldest first: `GET /memories/{id}/history`.
public struct Mem0HistoryEntry: Encodable, Sendable, Hashable {
    public var id: String
    public var memoryID: String
    public var oldMemory: String?
    public var newMemory: String?
    /// `ADD`, `UPDATE` or `DELETE`.
    public var event: String
    public var createdAt: String
    public var updatedAt: String
    public var isDeleted: Bool
    /// The name of the node that wrote this version.
    public var actorID: String
    public var role: String?

    enum CodingKeys: String, CodingKey {
        case id, memoryID = "memory_id", oldMemory = "old_memory", newMemory = "new_memory", event
        case createdAt = "created_at", updatedAt = "updated_at", isDeleted = "is_deleted", actorID = "actor_id", role
    }

    public func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: CodingKeys.self)
        try fields.encode(id, forKey: .id)
        try fields.encode(memoryID, forKey: .memoryID)
        try fields.encode(oldMemory, forKey: .oldMemory)
        try fields.encode(newMemory, forKey: .newMemory)
        try fields.encode(event, forKey: .event)
        try fields.encode(createdAt, forKey: .createdAt)
        try fields.encode(updatedAt, forKey: .updatedAt)
        try fields.encode(isDeleted, forKey: .isDeleted)
        try fields.encode(actorID, forKey: .actorID)
        try fields.encode(role, forKey: .role)
    }
}

/// `GET /v1/ping/`: the Python client insists on an organisation and a project; the hub is one of each.
struct Mem0Ping: Encodable {
    var status = "ok"
    var orgID = "smollama"
    var projectID = "hub"
    var userEmail: String?

    enum CodingKeys: String, CodingKey { case status, orgID = "org_id", projectID = "project_id", userEmail = "user_email" }

    func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: CodingKeys.self)
        try fields.encode(status, forKey: .status)
        try fields.encode(orgID, forKey: .orgID)
        try fields.encode(projectID, forKey: .projectID)
        try fields.encode(userEmail, forKey: .userEmail)
    }
}
