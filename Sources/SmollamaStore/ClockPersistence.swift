import GRDB
public import SmollamaCore

extension MetaStore {
    /// The largest timestamp this node ever issued: the clock restarts from it, so it never runs
    /// back. Other nodes' events (pushed to a hub, pulled by a node) do not count: a node whose
    /// clock runs a year fast must not drag every store it reaches a year ahead (issue 18); an
    /// edit of another node's version orders after it through `NodeClock.observe` instead.
    public func maxIssuedTimestamp() async throws -> HLCTimestamp? {
        try await reader.read { db in
            let stored = try Int64.fetchOne(db, sql: "SELECT max_hlc FROM clock_state WHERE id = 1")
            let node = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'node_id'").flatMap(NodeID.init(hex:))
            // This node stamps its own events in seq order from a clock that never runs back, so
            // each stream's last seq holds its newest stamp: a primary-key lookup per stream
            // (`max(hlc) … WHERE origin = ?` read every event the node ever wrote, on every page).
            let last = try db.cachedStatement(sql: "SELECT hlc FROM events WHERE origin = ? AND stream = ? ORDER BY seq DESC LIMIT 1")
            let events = try node.flatMap { node in
                try EventStream.allCases.compactMap { try Int64.fetchOne(last, arguments: [node, $0.rawValue]) }.max()
            }
            let readings = try Int64.fetchOne(db, sql: "SELECT time FROM readings ORDER BY id DESC LIMIT 1")
                .map { HLCTimestamp(milliseconds: min(max($0, 0), HLCTimestamp.maxMilliseconds), counter: 0).rawValue }
            return [stored, events, readings].compactMap { $0 }.max().map(HLCTimestamp.init(rawValue:))
        }
    }

    static func raiseClock(_ db: Database, to hlc: HLCTimestamp) throws {
        try db.execute(
            sql: """
                INSERT INTO clock_state (id, max_hlc) VALUES (1, ?)
                ON CONFLICT(id) DO UPDATE SET max_hlc = max(max_hlc, excluded.max_hlc)
                """, arguments: [hlc.rawValue])
    }
}
