import SmollamaCore
import SmollamaStore

/// One node as `/nodes/ID` shows it: the node's own sensors and their rollups (this node's, or
/// what another node synced to the hub), its newest observations and memories, its sync state.
struct NodeView: Sendable {
    var summary: NodeSummary
    var sensors: [SensorSummary]
    var charts: [(SensorSummary, Series)]
    var range: ChartRange
    /// Nil for this node (it does not sync to itself).
    var sync: HubNodeSummary?
    /// How far the hub has rolled up the node's synced readings; nil for this node.
    var rollup: HubPageStore.RollupProgress?
    var observations: [LogEntry]
    var memories: [LogEntry]
}

/// This node, or a node enrolled with this hub (with its summary).
enum NodeTarget: Sendable {
    case this(NodeID)
    case synced(NodeID, NodeSummary)

    var id: NodeID {
        switch self {
        case .this(let id), .synced(let id, _): id
        }
    }

    /// An enrolled node's summary; nil for this node (the queries' "this node").
    var synced: NodeSummary? {
        if case .synced(_, let summary) = self { return summary }
        return nil
    }
}

extension DashboardQueries {
    /// How many observations and memories a node page lists.
    static let nodePageEntries = 20

    /// A node's own sensors: this node's registry, or the keys another node synced with their
    /// newest values from its rollups.
    func sensors(of node: NodeSummary) async throws -> [SensorSummary] {
        guard !node.isThisNode else { return try await sensors() }
        guard let id = NodeID(hex: node.id) else { return [] }
        return try await environment.database.hubReadings.sensorSummaries(node: id, now: environment.now())
    }

    /// A node's newest events of one stream (observations or memories), newest first.
    func entries(of node: NodeSummary, stream: EventStream, limit: Int) async throws -> [LogEntry] {
        guard let id = NodeID(hex: node.id) else { return [] }
        return try await entries(origin: id, stream: stream, limit: limit)
    }

    func entries(origin: NodeID, stream: EventStream, limit: Int) async throws -> [LogEntry] {
        try await environment.database.events.recentEvents(origin: origin, stream: stream, limit: limit)
            .map(LogEntry.init(event:))
    }

    /// The node a `/api/v1/nodes/ID/…` read is about, or nil for an unknown id. This node needs
    /// no summary (`thisNode()` is four store reads, which made `/api/v1/nodes/ID/series` cost a
    /// third more than `/api/v1/series`); an enrolled node's comes from its listing, one read.
    func target(id: String) async throws -> NodeTarget? {
        let id = id.lowercased()
        if id == environment.node.id.hex { return .this(environment.node.id) }
        guard let node = NodeID(hex: id), let listing = try await listings(only: node).first else { return nil }
        return .synced(node, listing.summary)
    }

    /// What the hub knows of a node's sync; nil for this node.
    func syncState(of node: NodeSummary) async throws -> HubNodeSummary? {
        guard !node.isThisNode, let id = NodeID(hex: node.id) else { return nil }
        return try await environment.database.hubPages.nodeListings(only: id).first?.sync
    }

    func nodeView(_ node: NodeSummary, range: ChartRange) async throws -> NodeView {
        let sensors = try await sensors(of: node)
        // Bounded: a 30-day chart draws two-hour buckets rather than 720 hours.
        let series = try await series(of: sensors.map { (node, $0.sensor) }, range: range).map { $0.bounded(Chart.maxPoints) }
        var rollup: HubPageStore.RollupProgress?
        if !node.isThisNode, let id = NodeID(hex: node.id) { rollup = try await environment.database.hubPages.rollupProgress(node: id) }
        return NodeView(
            summary: node, sensors: sensors, charts: Array(zip(sensors, series)), range: range, sync: try await syncState(of: node),
            rollup: rollup,
            observations: try await entries(of: node, stream: .observations, limit: Self.nodePageEntries),
            memories: try await entries(of: node, stream: .memories, limit: Self.nodePageEntries))
    }
}

extension Pages {
    static func nodeDetail(node: NodeInfo, view: NodeView, now: UTCMillis, signedIn: Bool) -> HTML {
        let summary = view.summary
        var body: HTML = """
            <h1>\(summary.name) <span class="muted">\(summary.role)</span></h1>
            <p class="muted">node id \(summary.id)</p>
            \(nodeCards(summary, now: now))
            """
        if let sync = view.sync { body += syncPanel(sync, rollup: view.rollup, now: now) }
        body += "<h2>Sensors</h2><div class=\"ranges\">"
        for option in ChartRange.allCases {
            let current: HTML = option == view.range ? " aria-current=\"page\"" : .empty
            body += "<a href=\"/nodes/\(summary.id)?range=\(option.rawValue)\"\(current)>\(option.rawValue)</a>"
        }
        body += "</div>"
        if view.charts.isEmpty {
            body += "<p class=\"empty\">\(summary.isThisNode ? "No sensors yet." : "No readings synced from this node yet.")</p>"
        } else {
            body += "<div class=\"grid\">"
            for (sensor, series) in view.charts { body += chartPanel(sensor, series, range: view.range, now: now) }
            body += "</div>"
        }
        body += """
            <div class="grid split" style="margin-top:1rem"><section class="panel"><h2>Observations</h2>
            \(timeline(view.observations, emptyText: "No observations from this node yet.", compact: true))
            <p><a href="/thoughts?node=\(summary.id)">This node's observations as they arrive →</a></p></section>
            <section class="panel"><h2>Memories</h2>
            \(timeline(view.memories, emptyText: "No memories from this node yet.", compact: true))
            <p><a href="/memories?node=\(summary.id)">Explore this node's memories →</a></p></section></div>
            """
        return Layout.page(title: summary.name, node: node, tab: nil, body: body, signedIn: signedIn)
    }

    /// The hub's view of a node's sync: when it last synced, what it still holds back, the
    /// durable mark of every stream.
    static func syncPanel(_ sync: HubNodeSummary, rollup: HubPageStore.RollupProgress?, now: UTCMillis) -> HTML {
        var marks = HTML.empty
        for stream in SyncStream.allCases {
            marks += "<tr><td>\(stream.rawValue)</td><td class=\"num\">\(Format.count(sync.marks[stream.rawValue] ?? 0))</td></tr>"
        }
        let rolled = rollup.map { "Rolled up to reading \(Format.count($0.rolledUpTo)), newest hour \(Format.age($0.newestHour, now: now))" }
            ?? "No readings rolled up yet."
        let revoked: HTML = sync.revokedAt == nil ? .empty : "<p class=\"bad\">Revoked: this node may no longer sync.</p>"
        return """
            <section class="panel" style="margin-bottom:1rem"><h2>Sync</h2>\(revoked)
            <p>Last sync \(Format.age(sync.lastSeen, now: now)) · clock \(sync.clockQuality ?? "unknown")\(sync.clockOffsetMilliseconds.map { " \(Format.clockOffset($0))" } ?? "") ·
            backlog \(Format.count(sync.backlog)) · \(sync.collisions) \(sync.collisions == 1 ? "collision" : "collisions") ·
            incarnation \(sync.incarnation)</p>
            <p class="muted">\(rolled)</p>
            <div class="scroll"><table><thead><tr><th>Stream</th><th>Held up to</th></tr></thead><tbody>\(marks)</tbody></table></div></section>
            """
    }
}
