import GRDB
public import SmollamaCore

/// Which memories a scoped listing selects (the hub's mem0 API: `user_id`, `agent_id`, `run_id`),
/// evaluated in SQL, so a listing or a bulk delete reads only the memories in its scope.
public struct MemoryScope: Sendable, Hashable {
    /// How one scope id must match.
    public enum Match: Sendable, Hashable {
        /// Not part of the scope.
        case any
        /// Present with any value (mem0's `*`).
        case present
        /// Equal, as text.
        case equals(String)
    }

    /// `metadata.user_id`.
    public var user: Match
    /// `metadata.agent_id`, or else the name of the memory's first origin: a memory without an
    /// `agent_id` matches `.equals(name)` when its first origin is one of `agentOrigins`.
    public var agent: Match
    /// The nodes whose name is the agent value (the caller's directory knows names).
    public var agentOrigins: [NodeID]
    /// `metadata.run_id`, or else the UTC day (`2026-11-26`) the memory was created.
    public var run: Match
    /// Only memories believed and valid at this time; nil: closed and expired ones too.
    public var visibleAt: UTCMillis?

    public init(user: Match = .any, agent: Match = .any, agentOrigins: [NodeID] = [], run: Match = .any,
                visibleAt: UTCMillis?) {
        self.user = user
        self.agent = agent
        self.agentOrigins = agentOrigins
        self.run = run
        self.visibleAt = visibleAt
    }

    /// The WHERE clause (`TRUE` when nothing is asked).
    var sql: SQL {
        var parts: [SQL] = []
        switch user {
        case .any: break
        case .present: parts.append("json_extract(metadata, '$.user_id') IS NOT NULL")
        case .equals(let value): parts.append("json_extract(metadata, '$.user_id') = \(value)")
        }
        // Every memory has an agent (its node's name) and a run (its day): `.present` holds always.
        if case .equals(let value) = agent {
            parts.append("""
                (json_extract(metadata, '$.agent_id') = \(value)
                 OR (json_extract(metadata, '$.agent_id') IS NULL AND first_origin IN \(agentOrigins)))
                """)
        }
        if case .equals(let value) = run {
            parts.append("""
                coalesce(json_extract(metadata, '$.run_id'), strftime('%Y-%m-%d', created_at / 1000, 'unixepoch')) = \(value)
                """)
        }
        if let visibleAt {
            parts.append("expired_at IS NULL AND (valid_to IS NULL OR valid_to > \(visibleAt.rawValue))")
        }
        guard let first = parts.first else { return "1" }
        let initial: SQL = "(\(first))"
        return parts.dropFirst().reduce(initial) { (all: SQL, part: SQL) -> SQL in "\(all) AND (\(part))" }
    }
}

extension KnowledgeStore {
    /// Memories in `scope`, newest first (ties by id, so pages never overlap), from `offset`.
    public func memories(in scope: MemoryScope, offset: Int, limit: Int) async throws -> [StoredMemory] {
        try await reader.read { db in
            try MemoryRow.withVersion().filter(literal: scope.sql)
                .order(MemoryRow.Columns.createdAt.desc, MemoryRow.Columns.id.desc)
                .limit(limit, offset: offset).fetchAll(db).map(\.stored)
        }
    }
}
