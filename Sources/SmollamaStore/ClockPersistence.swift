import GRDB
public import SmollamaCore

extension MetaStore {
    /// The largest timestamp ever stored here: the clock restarts from it, so it never runs back.
    public func maxIssuedTimestamp() async throws -> HLCTimestamp? {
        try await reader.read { db in
            let stored = try Int64.fetchOne(db, sql: "SELECT max_hlc FROM clock_state WHERE id = 1")
            let events = try Int64.fetchOne(db, sql: "SELECT max(hlc) FROM events")
            let readings = try Int64.fetchOne(db, sql: "SELECT time FROM readings ORDER BY id DESC LIMIT 1")
                .map { HLCTimestamp(milliseconds: $0, counter: 0).rawValue }
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
