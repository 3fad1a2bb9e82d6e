import Foundation
public import SmollamaCore
import SmollamaStore

/// The memory explorer's query: `?q=&node=&kind=&valid=now|any|YYYY-MM-DD&superseded=include|exclude|only&id=`.
struct MemoryQuery: Sendable, Hashable {
    var text = ""
    var node = ""
    var kind = ""
    /// `now`, `any` or a date (`2026-12-01`, midnight in the household's zone).
    var valid = "any"
    var superseded = HubPageStore.MemoryFilter.Superseded.include
    /// One memory only (a citation's link).
    var id = ""

    static let limit = 50
}

/// One memory with its history and where it came from, as the explorer and its API show it.
public struct MemoryItem: Codable, Sendable, Hashable {
    /// One version: who wrote it and what it said.
    public struct Version: Codable, Sendable, Hashable {
        public var node: String
        public var nodeName: String
        /// `node`, `hub` or `mem0 API`.
        public var changedBy: String
        public var seq: Int64
        public var time: UTCMillis
        public var text: String
        public var source: MemorySource
        public var validTo: UTCMillis?
        public var expiredAt: UTCMillis?
    }

    public var id: String
    public var kind: String
    public var text: String
    public var subjects: [String]
    /// The node that first wrote it.
    public var node: String
    public var nodeName: String
    public var confidence: Double
    public var validFrom: UTCMillis
    public var validTo: UTCMillis?
    public var createdAt: UTCMillis
    public var expiredAt: UTCMillis?
    public var current: Bool
    public var supersedes: String?
    public var supersededBy: String?
    /// The search's score, when the list came from a search.
    public var score: Double?
    public var versions: [Version]
    /// The first node's observations about the same sensors up to when the memory was learned
    /// (memories keep no evidence ids; these are what reflection read).
    public var observations: [ObservationItem]
}

/// `/api/v1/memories/explore`.
struct MemoryExplorerBody: Codable, Sendable, Hashable {
    var memories: [MemoryItem]
    /// False when the list is by filters only (no words given, or no recall wired here).
    var searched: Bool
}

extension DashboardQueries {
    static let memoryObservations = 5
    static let learnedFrom: Duration = .seconds(30 * 86_400)

    func exploreMemories(_ query: MemoryQuery) async throws -> MemoryExplorerBody {
        let names = try await nodeNames()
        let pages = environment.database.hubPages
        var filter = HubPageStore.MemoryFilter(
            origins: try names.ids(matching: query.node), kind: query.kind.isEmpty ? nil : query.kind,
            ids: query.id.isEmpty ? nil : [query.id], validity: try validity(query.valid), superseded: query.superseded)
        var scores: [String: Double] = [:]
        var searched = false
        if !query.text.trimmingCharacters(in: .whitespaces).isEmpty, let mind = environment.mind {
            let recall = RecallFilter(kinds: [.memory], recordKinds: filter.kind.map { [$0] }, origins: filter.origins,
                                      validOnly: filter.validity == .now)
            let hits = try await mind.search(query.text, recall, MemoryQuery.limit)
            for hit in hits where hit.kind == RecallItemKind.memory.rawValue { scores[hit.id] = hit.score }
            filter.ids = (filter.ids ?? Array(scores.keys)).filter { scores[$0] != nil }
            searched = true
        }
        var memories = try await pages.memories(filter, limit: MemoryQuery.limit)
        if searched { memories.sort { (scores[$0.record.id] ?? 0) > (scores[$1.record.id] ?? 0) } }
        let ids = memories.map(\.record.id)
        let newer = try await pages.supersededBy(ids)
        let history = try await environment.database.knowledge.memoryVersions(ids: ids, known: memories)
        let sources = try await pages.sources(
            of: memories.map { memory in
                let record = memory.record
                return (record.id, memory.firstOrigin, record.subjects, min(record.validFrom, record.createdAt) - Self.learnedFrom,
                        record.createdAt + .milliseconds(1))
            }, limit: Self.memoryObservations)
        var items: [MemoryItem] = []
        for memory in memories {
            let record = memory.record
            var versions: [MemoryItem.Version] = []
            for version in history[record.id] ?? [] {
                let origin = version.version.origin
                let changedBy = version.record.source == .api ? "mem0 API" : origin == environment.node.id ? "hub" : "node"
                versions.append(.init(
                    node: origin.hex, nodeName: names[origin], changedBy: changedBy, seq: version.version.seq,
                    time: version.hlc.time, text: version.record.text, source: version.record.source,
                    validTo: version.record.validTo, expiredAt: version.record.expiredAt))
            }
            items.append(MemoryItem(
                id: record.id, kind: record.kind, text: record.text, subjects: record.subjects, node: memory.firstOrigin.hex,
                nodeName: names[memory.firstOrigin], confidence: record.confidence, validFrom: record.validFrom,
                validTo: record.validTo, createdAt: record.createdAt, expiredAt: record.expiredAt, current: record.isCurrent,
                supersedes: record.supersedes, supersededBy: newer[record.id], score: scores[record.id], versions: versions,
                observations: (sources[record.id] ?? []).map { ObservationItem($0, names: names) }))
        }
        return MemoryExplorerBody(memories: items, searched: searched)
    }

    func validity(_ text: String) throws -> HubPageStore.MemoryFilter.Validity {
        switch text {
        case "", "any": return .any
        case "now": return .now
        default:
            let parts = text.split(separator: "-").compactMap { Int($0) }
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = environment.timeZone
            guard parts.count == 3,
                  let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))
            else { throw DashboardError.badRequest("valid must be now, any or a date like 2026-12-01") }
            return .at(UTCMillis(rawValue: Int64((date.timeIntervalSince1970 * 1000).rounded())))
        }
    }
}

extension Pages {
    static func memoryExplorer(node: NodeInfo, query: MemoryQuery, body explorer: MemoryExplorerBody, nodes: [(id: String, name: String)],
                               kinds: [String], canSearch: Bool, now: UTCMillis, signedIn: Bool) -> HTML {
        func options(_ values: [(String, String)], selected: String) -> HTML {
            HTML.join(values.map { value, label in
                let mark: HTML = value == selected ? " selected" : .empty
                return "<option value=\"\(value)\"\(mark)>\(label)</option>"
            })
        }
        let nodeOptions = options([("", "all")] + nodes.map { ($0.id, $0.name) }, selected: query.node)
        let kindOptions = options([("", "all")] + kinds.map { ($0, $0) }, selected: query.kind)
        let supersededOptions = options(
            [("include", "shown"), ("exclude", "hidden"), ("only", "only")], selected: query.superseded.rawValue)
        let searchNote: HTML = canSearch ? .empty : "<p class=\"muted\">Word and meaning search needs the hub's recall; the list below is by filters only.</p>"
        var list = HTML.empty
        for memory in explorer.memories { list += memoryPanel(memory, now: now) }
        let empty: HTML = explorer.memories.isEmpty ? "<p class=\"empty\">No memories match.</p>" : .empty
        let body: HTML = """
            <h1>Memories</h1>\(searchNote)
            <form class="filters" method="get" action="/memories" data-memory-search>
            <label>Search<input type="search" name="q" value="\(query.text)" placeholder="words or a question"></label>
            <label>Node<select name="node">\(nodeOptions)</select></label>
            <label>Kind<select name="kind">\(kindOptions)</select></label>
            <label>Valid<input name="valid" value="\(query.valid)" placeholder="now, any or 2026-12-01" size="11"></label>
            <label>Superseded<select name="superseded">\(supersededOptions)</select></label>
            <button type="submit">Search</button></form>
            <p class="muted">\(explorer.memories.count) \(explorer.memories.count == 1 ? "memory" : "memories")\(explorer.searched ? HTML(", best match first") : .empty)</p>
            \(empty)<div class="memories">\(list)</div>
            """
        return Layout.page(title: "Memories", node: node, tab: .memories, body: body, signedIn: signedIn)
    }

    static func memoryPanel(_ memory: MemoryItem, now: UTCMillis) -> HTML {
        var versions = HTML.empty
        for version in memory.versions {
            let closed: HTML = version.expiredAt != nil ? " · no longer believed" : version.validTo != nil ? " · validity closed" : .empty
            versions += """
                <tr><td class="num"><time data-ms="\(version.time.rawValue)">\(Format.tick(version.time, range: .week)) \(Format.tick(version.time, range: .day))</time></td>
                <td>\(version.changedBy) <a href="/nodes/\(version.node)">\(version.nodeName)</a> <span class="muted">(\(version.source.rawValue))</span></td><td>\(version.text)\(closed)</td></tr>
                """
        }
        let state: HTML = memory.current ? "<span class=\"badge ok\">valid now</span>" : "<span class=\"badge stale\">closed</span>"
        let replaced: HTML = memory.supersededBy.map { "<span class=\"badge stale\">superseded by <a href=\"/memories?id=\($0)\">\(String($0.prefix(12)))</a></span>" } ?? .empty
        let replaces: HTML = memory.supersedes.map { " · replaces <a href=\"/memories?id=\($0)\">\(String($0.prefix(12)))</a>" } ?? .empty
        let score: HTML = memory.score.map { " · score \(String(format: "%.2f", $0))" } ?? .empty
        return """
            <section class="panel memory" id="m-\(memory.id)"><div class="meta"><span class="stream">\(memory.kind)</span> \(state) \(replaced)
            <span class="muted">from <a href="/nodes/\(memory.node)">\(memory.nodeName)</a> · confidence \(String(format: "%.2f", memory.confidence))\(score)\(replaces)</span></div>
            <p class="text">\(memory.text)</p>
            <details><summary>\(memory.versions.count) \(memory.versions.count == 1 ? "version" : "versions") · \(memory.observations.count) observations it came from</summary>
            <div class="scroll"><table><thead><tr><th>When</th><th>Changed by</th><th>Text</th></tr></thead><tbody>\(versions)</tbody></table></div>
            \(observationList(memory.observations, emptyText: "No observations of these sensors from that node before it was learned."))</details></section>
            """
    }
}
