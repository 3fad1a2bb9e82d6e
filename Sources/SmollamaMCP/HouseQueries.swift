import Foundation
import MCP
import SmollamaCore
public import SmollamaMind
import SmollamaStore

/// Each tool's query: its arguments turned into the library call the CLI command makes.
extension House {
    public func recall(_ arguments: RecallArguments) async throws -> RecallOutput {
        var origins: [NodeID] = []
        for name in arguments.nodes ?? [] {
            origins += try await nodes(matching: name, argument: "nodes", tool: "recall")
        }
        let query = RecallQuery(
            text: arguments.query, kinds: arguments.kind.flatMap(RecallItemKind.init(rawValue:)).map { [$0] },
            recordKinds: arguments.recordKinds.flatMap { $0.isEmpty ? nil : $0 },
            sensors: arguments.sensors.flatMap { $0.isEmpty ? nil : $0 },
            origins: origins.isEmpty ? nil : origins,
            from: try arguments.since.map { try time($0, "since", tool: "recall", default: now()) },
            validOnly: !(arguments.includeClosed ?? false), topK: arguments.top ?? 5)
        return try await guarded("recall", "query") { try await tools.recall(query) }
    }

    public func history(_ arguments: HistoryArguments) async throws -> HistoryOutput {
        let end = try time(arguments.to, "to", tool: "history", default: now())
        let start = try time(arguments.from, "from", tool: "history", default: end - .seconds(86_400))
        guard start < end else {
            throw MCPError.invalidParams("history: argument 'from' must be before 'to'")
        }
        var node: NodeID?
        if let name = arguments.node {
            let matched = try await nodes(matching: name, argument: "node", tool: "history")
            guard matched.count == 1 else {
                throw MCPError.invalidParams("history: argument 'node': '\(name)' matches \(matched.count) nodes; give more of the id")
            }
            // This node's own sensors are in its readings, not in what other nodes synced.
            node = matched[0] == self.node ? nil : matched[0]
        }
        return try await guarded("history", "sensor") { try await tools.history(sensor: arguments.sensor, from: start, to: end, node: node) }
    }

    public func observations(_ arguments: ObservationsArguments) async throws -> ObservationsOutput {
        let end = try time(arguments.to, "to", tool: "observations", default: now())
        let start = try time(arguments.from, "from", tool: "observations", default: end - .seconds(86_400))
        guard start < end else {
            throw MCPError.invalidParams("observations: argument 'from' must be before 'to'")
        }
        var origins: [NodeID]
        if let name = arguments.node {
            origins = try await nodes(matching: name, argument: "node", tool: "observations")
        } else {
            origins = [node]
            if isHub {
                origins += try await database.hubSync.hubNodes(countReadings: false).compactMap { NodeID(hex: $0.node) }
            }
        }
        var found: [StoredObservation] = []
        for origin in Set(origins) {
            found += try await database.knowledge.observations(origin: origin, startingFrom: start, to: end)
        }
        if let kind = arguments.kind { found = found.filter { $0.record.kind == kind } }
        found.sort { ($0.record.timeStart, $0.record.id) > ($1.record.timeStart, $1.record.id) }
        return ObservationsOutput(from: start, to: end,
                                  observations: found.prefix(arguments.limit ?? 100).map(ObservationsOutput.Item.init))
    }

    public func memories(_ arguments: MemoriesArguments) async throws -> MemoriesOutput {
        let time = now()
        let at = try self.time(arguments.validAt, "valid_at", tool: "memories", default: time)
        let limit = arguments.limit ?? 20
        let validity: HubPageStore.MemoryFilter.Validity = arguments.validAt == nil ? .now : .at(at)
        guard let text = arguments.query else {
            let found = try await database.hubPages.memories(
                .init(kind: arguments.kind, validity: validity, superseded: .exclude), limit: limit)
            return MemoriesOutput(query: nil, validAt: at, memories: found.map(MemoriesOutput.Item.init))
        }
        // A query ranks as `recall --kind memory` does; a past `valid_at` widens the search to
        // memories that no longer hold, then keeps those that held then.
        let query = RecallQuery(text: text, kinds: [.memory], recordKinds: arguments.kind.map { [$0] },
                                validOnly: arguments.validAt == nil, topK: arguments.validAt == nil ? limit : 100)
        let hits = try await guarded("memories", "query") { try await tools.recall(query) }.hits.map(\.id)
        let stored = try await database.hubPages.memories(.init(ids: hits, validity: validity), limit: hits.count)
        let byID = Dictionary(stored.map { ($0.record.id, $0) }, uniquingKeysWith: { first, _ in first })
        let ranked = hits.compactMap { byID[$0] }.prefix(limit)
        return MemoriesOutput(query: text, validAt: at, memories: ranked.map(MemoriesOutput.Item.init))
    }

    public func presence(_ arguments: PresenceArguments) async throws -> PresenceOutput {
        let end = try time(arguments.to, "to", tool: "presence", default: now())
        let start = try time(arguments.from, "from", tool: "presence", default: end - .seconds(86_400))
        guard start < end else {
            throw MCPError.invalidParams("presence: argument 'from' must be before 'to'")
        }
        let reader = PresenceReader(database: database, timeZone: timeZone, areas: areas)
        if let room = arguments.room {
            let rooms = try await reader.rooms().map(\.room)
            guard rooms.contains(room) else {
                throw MCPError.invalidParams("presence: argument 'room': no room '\(room)' has a motion, door, CO₂ or "
                                             + "light sensor; rooms: " + (rooms.isEmpty ? "none yet" : rooms.joined(separator: ", ")))
            }
        }
        // As `smollama presence` does: the windows read the 5-minute rollups, brought up to date first.
        try await database.readings.rollUpAll()
        let windows = try await reader.windows(room: arguments.room, from: start, to: end, length: windowLength)
        return PresenceOutput(windows: windows, timeZone: timeZone, length: windowLength)
    }
}
