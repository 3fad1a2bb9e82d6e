import Foundation
public import SmollamaCore
import SmollamaStore

/// One observation as the hub's pages and API list it, with the node that wrote it.
public struct ObservationItem: Codable, Sendable, Hashable {
    public var id: String
    /// The writing node's id (hex) and name.
    public var node: String
    public var nodeName: String
    public var kind: String
    public var subjects: [String]
    public var text: String
    public var importance: Double
    public var timeStart: UTCMillis
    public var timeEnd: UTCMillis
    /// An anomaly or fault, or important enough to lead the list.
    public var unusual: Bool

    init(_ stored: StoredObservation, names: NodeNames) {
        let record = stored.record
        id = record.id
        node = stored.origin.hex
        nodeName = names[stored.origin]
        kind = record.kind
        subjects = record.subjects
        text = record.text
        importance = record.importance
        timeStart = record.timeStart
        timeEnd = record.timeEnd
        unusual = Self.unusualKinds.contains(record.kind) || record.importance >= Self.unusualImportance
    }

    static let unusualKinds: Set<String> = ["anomaly", "fault"]
    static let unusualImportance = 0.7
}

/// Node ids to display names: this node's own and every enrolled node's.
struct NodeNames: Sendable {
    var names: [String: String]

    subscript(_ node: NodeID) -> String { names[node.hex] ?? String(node.hex.prefix(8)) }
    subscript(hex hex: String) -> String { names[hex] ?? String(hex.prefix(8)) }

    /// Node ids for a filter value: a node's id (hex) or its name; nil for an empty value.
    func ids(matching value: String?) throws -> [NodeID]? {
        guard let value, !value.isEmpty else { return nil }
        let matched = names.filter { $0.key == value.lowercased() || $0.value == value }.keys.compactMap { NodeID(hex: $0) }
        guard !matched.isEmpty else {
            throw DashboardError.notFound("no node '\(value)' is known here: use a node's id or name from /api/v1/nodes")
        }
        return matched
    }
}

/// A few key sensors' hourly means over the last day, drawn small on a node's card.
public struct Sparkline: Codable, Sendable, Hashable {
    public var sensor: SensorID
    public var from: UTCMillis
    /// One mean per hour, oldest first; nil for an hour without readings.
    public var means: [Double?]
}

/// A node's card on the hub's home page.
public struct NodeCard: Codable, Sendable, Hashable {
    public var node: NodeSummary
    /// Items the node still held beyond the hub's marks at its last sync; nil for the hub itself.
    public var backlog: Int64?
    /// Sensors whose newest notice is a fault.
    public var faultySensors: [SensorID]
    public var latestObservation: ObservationItem?
    public var sparklines: [Sparkline]
}

/// `/api/v1/home`: every node's card and the household's latest observations, unusual first.
struct HomeBody: Codable, Sendable, Hashable {
    var nodes: [NodeCard]
    var observations: [ObservationItem]
}

extension DashboardQueries {
    static let homeObservations = 20
    static let sparklineSensors = 2

    func nodeNames() async throws -> NodeNames {
        var names = [environment.node.id.hex: environment.node.name]
        for node in try await environment.database.hubSync.hubNodes(countReadings: false) { names[node.node] = node.name }
        return NodeNames(names: names)
    }

    func home() async throws -> HomeBody {
        let names = try await nodeNames()
        let syncs = try await environment.database.hubSync.hubNodes(countReadings: false)
        var cards: [NodeCard] = []
        for summary in try await nodes() {
            guard let id = NodeID(hex: summary.id) else { continue }
            let latest = try await environment.database.hubPages.observations(origins: [id], limit: 1).first
            cards.append(NodeCard(
                node: summary, backlog: syncs.first { $0.node == summary.id }?.backlog,
                faultySensors: try await faultySensors(of: summary), latestObservation: latest.map { ObservationItem($0, names: names) },
                sparklines: try await sparklines(of: summary)))
        }
        let recent = try await environment.database.hubPages.observations(limit: Self.homeObservations * 2)
            .map { ObservationItem($0, names: names) }
        // Unusual first, each part newest first; a stable order keeps the times in sequence.
        let ordered = recent.filter(\.unusual) + recent.filter { !$0.unusual }
        return HomeBody(nodes: cards, observations: Array(ordered.prefix(Self.homeObservations)))
    }

    /// This node's sensors that are not ok; another node's sensors whose newest notice is a fault.
    func faultySensors(of node: NodeSummary) async throws -> [SensorID] {
        if node.isThisNode { return try await sensors().filter { $0.status != "ok" }.map(\.sensor.id) }
        guard let id = NodeID(hex: node.id) else { return [] }
        var newest: [SensorID: Bool] = [:]
        for event in try await environment.database.events.recentEvents(origin: id, stream: .notices, limit: 500) {
            switch try? event.body {
            case .sensorFault(let fault) where newest[fault.sensor] == nil: newest[fault.sensor] = true
            case .sensorRecovered(let fault) where newest[fault.sensor] == nil: newest[fault.sensor] = false
            default: continue
            }
        }
        return newest.filter(\.value).keys.sorted { $0.rawValue < $1.rawValue }
    }

    /// The node's key sensors (temperatures first, then humidity, then the rest by key), hourly
    /// means of the last 24 hours from rollups.
    func sparklines(of node: NodeSummary) async throws -> [Sparkline] {
        func rank(_ key: SensorID) -> Int {
            key.rawValue.hasSuffix("temperature") ? 0 : key.rawValue.hasSuffix("humidity") ? 1 : 2
        }
        let sensors = try await sensors(of: node).filter { $0.sensor.kind == .numeric }
            .sorted { (rank($0.sensor.id), $0.sensor.id.rawValue) < (rank($1.sensor.id), $1.sensor.id.rawValue) }
        var lines: [Sparkline] = []
        for sensor in sensors.prefix(Self.sparklineSensors) {
            let series = try await series(sensor: sensor, range: .day, node: node, resolution: .hour)
            var means = [Double?](repeating: nil, count: 24)
            for point in series.points {
                let index = Int((point.start - series.from).wholeMilliseconds / Rollup.Resolution.hour.milliseconds)
                if means.indices.contains(index) { means[index] = point.mean }
            }
            lines.append(Sparkline(sensor: sensor.sensor.id, from: series.from, means: means))
        }
        return lines
    }
}

extension Pages {
    static func home(node: NodeInfo, home: HomeBody, now: UTCMillis, signedIn: Bool) -> HTML {
        var cards = HTML.empty
        for card in home.nodes { cards += nodeCard(card, now: now) }
        let body: HTML = """
            <h1>The household</h1>
            <div class="nodecards">\(cards)</div>
            <section class="panel"><h2>Latest observations <span class="muted">unusual first</span></h2>
            \(observationList(home.observations, emptyText: "No observations from any node yet."))
            <p><a href="/thoughts">Every observation as it arrives →</a></p></section>
            """
        return Layout.page(title: "Home", node: node, tab: .overview, body: body, signedIn: signedIn)
    }

    static func nodeCard(_ card: NodeCard, now: UTCMillis) -> HTML {
        let node = card.node
        let clock = node.clockQuality?.rawValue ?? "unknown"
        let faults: HTML = card.faultySensors.isEmpty
            ? "no sensor faults"
            : "<span class=\"bad\">\(card.faultySensors.count) faulty: \(card.faultySensors.map(\.rawValue).joined(separator: ", "))</span>"
        var lines = HTML.empty
        for line in card.sparklines {
            lines += "<div class=\"spark\"><span class=\"muted\">\(line.sensor.rawValue)</span>\(Chart.sparkline(line.means))</div>"
        }
        let latest: HTML = card.latestObservation.map {
            "<p class=\"latest\"><span class=\"stream\">\($0.kind)</span> \($0.text)</p>"
        } ?? "<p class=\"latest muted\">No observations yet.</p>"
        let this: HTML = node.isThisNode ? " <span class=\"muted\">(this hub)</span>" : .empty
        return """
            <section class="card nodecard" data-node="\(node.id)"><div class="value name"><a href="/nodes/\(node.id)">\(node.name)</a>\(this)</div>
            <div class="sub">\(node.role) · <span class="badge \(node.state.rawValue)">\(node.state.rawValue)</span> last seen \(Format.age(node.lastSeen, now: now))</div>
            <div class="sub">clock <span class="\(clock)">\(clock)</span> · backlog \(card.backlog.map(Format.count) ?? "–") · \(faults)</div>
            \(lines)\(latest)</section>
            """
    }

    /// Observations with their node, kind and time; unusual ones marked.
    static func observationList(_ items: [ObservationItem], emptyText: String) -> HTML {
        var rows = HTML.empty
        for item in items {
            let unusual: HTML = item.unusual ? " class=\"unusual\"" : .empty
            rows += """
                <li\(unusual) data-id="\(item.id)" data-node="\(item.node)" data-kind="\(item.kind)"><div class="meta"><time data-ms="\(item.timeEnd.rawValue)">\(Format.tick(item.timeEnd, range: .week)) \(Format.tick(item.timeEnd, range: .day))</time>
                <a href="/nodes/\(item.node)">\(item.nodeName)</a> <span class="stream">\(item.kind)</span></div><div class="text">\(item.text)</div></li>
                """
        }
        let empty: HTML = items.isEmpty ? "<p class=\"empty\">\(emptyText)</p>" : .empty
        return "\(empty)<ol class=\"timeline compact observations\">\(rows)</ol>"
    }
}
