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
    /// This node first, then the enrolled nodes by name: the order of the pages' node filters.
    var ordered: [(id: String, name: String)]
    var names: [String: String]

    init(ordered: [(id: String, name: String)]) {
        self.ordered = ordered
        names = Dictionary(ordered.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
    }

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
    /// Sensors whose values a simulated driver makes up (the demo house), as the node reported.
    public var simulatedSensors: [SensorID]
}

/// `/api/v1/home`: every node's card and the household's latest observations, unusual first.
struct HomeBody: Codable, Sendable, Hashable {
    var nodes: [NodeCard]
    var observations: [ObservationItem]
}

extension DashboardQueries {
    static let homeObservations = 20
    static let sparklineSensors = 2
    /// How many of a node's newest notices its card reads for its sensors' fault state.
    static let cardNotices = 500

    func nodeNames() async throws -> NodeNames {
        let enrolled = try await environment.database.hubPages.nodeNames()
        return NodeNames(ordered: [(environment.node.id.hex, environment.node.name)] + enrolled.map { ($0.id.hex, $0.name) })
    }

    /// Every node's card, each part read for all nodes at once: the node list with its counts,
    /// newest observations, sensor notices and sparkline rollups are one read each. Reads that
    /// do not depend on each other run at once (each is a hop to a pooled reader and back).
    func home() async throws -> HomeBody {
        let pages = environment.database.hubPages
        async let thisRead = thisNode()
        async let listingsRead = listings()
        async let ownRead = sensors()
        async let simulatedRead = environment.database.hubSync.simulatedSensors()
        async let recentRead = pages.observations(limit: Self.homeObservations * 2)
        let listings = try await listingsRead
        let ids = listings.compactMap { NodeID(hex: $0.summary.id) }
        async let newestRead = pages.newestObservations(origins: [environment.node.id] + ids)
        async let noticesRead = pages.recentNotices(origins: ids, limit: Self.cardNotices)
        async let sparklinesRead = sparklines(ids: ids)
        let own = try await ownRead
        async let ownSparklinesRead = ownSparklines(own.map(\.sensor))
        let this = try await thisRead
        let names = NodeNames(ordered: [(this.id, this.name)] + listings.map { ($0.summary.id, $0.summary.name) })
        let (newest, notices, sparklines) = try await (newestRead, noticesRead, sparklinesRead)
        let simulated = try await simulatedRead
        var cards: [NodeCard] = []
        cards.append(NodeCard(
            node: this, backlog: nil, faultySensors: own.filter { $0.status != "ok" }.map(\.sensor.id),
            latestObservation: newest[environment.node.id].map { ObservationItem($0, names: names) },
            sparklines: try await ownSparklinesRead,
            simulatedSensors: own.filter(\.simulated).map(\.sensor.id)))
        for (summary, sync) in listings {
            guard let id = NodeID(hex: summary.id) else { continue }
            cards.append(NodeCard(
                node: summary, backlog: sync.backlog, faultySensors: Self.faultySensors(notices[id] ?? []),
                latestObservation: newest[id].map { ObservationItem($0, names: names) }, sparklines: sparklines[id] ?? [],
                simulatedSensors: (simulated[id] ?? []).map { SensorID($0) }))
        }
        let recent = try await recentRead.map { ObservationItem($0, names: names) }
        // Unusual first, each part newest first; a stable order keeps the times in sequence.
        let ordered = recent.filter(\.unusual) + recent.filter { !$0.unusual }
        return HomeBody(nodes: cards, observations: Array(ordered.prefix(Self.homeObservations)))
    }

    /// Sensors whose newest notice (of `notices`, newest first) is a fault.
    static func faultySensors(_ notices: [Event]) -> [SensorID] {
        var newest: [SensorID: Bool] = [:]
        for event in notices {
            switch try? event.body {
            case .sensorFault(let fault) where newest[fault.sensor] == nil: newest[fault.sensor] = true
            case .sensorRecovered(let fault) where newest[fault.sensor] == nil: newest[fault.sensor] = false
            default: continue
            }
        }
        return newest.filter(\.value).keys.sorted { $0.rawValue < $1.rawValue }
    }

    /// A node's key sensors: numeric ones, temperatures first, then humidity, then the rest by key.
    static func keySensors(_ sensors: [SensorDescriptor]) -> [SensorDescriptor] {
        func rank(_ key: SensorID) -> Int {
            key.rawValue.hasSuffix("temperature") ? 0 : key.rawValue.hasSuffix("humidity") ? 1 : 2
        }
        return Array(sensors.filter { $0.kind == .numeric }
            .sorted { (rank($0.id), $0.id.rawValue) < (rank($1.id), $1.id.rawValue) }.prefix(sparklineSensors))
    }

    /// The hours a sparkline covers: the last 24 whole hours up to now's.
    var sparklineHours: (from: UTCMillis, to: UTCMillis) {
        let now = environment.now()
        let hour = Rollup.Resolution.hour
        return (hour.bucketStart(now - ChartRange.day.duration) + hour.duration, now + .milliseconds(1))
    }

    /// Hourly means of the last 24 hours from rollups, one slot per hour (nil: no readings).
    func sparkline(_ sensor: SensorID, _ rollups: [Rollup]) -> Sparkline {
        let from = sparklineHours.from
        var means = [Double?](repeating: nil, count: 24)
        for rollup in rollups where rollup.count > 0 {
            let index = Int((rollup.bucketStart - from).wholeMilliseconds / Rollup.Resolution.hour.milliseconds)
            if means.indices.contains(index) { means[index] = rollup.mean }
        }
        return Sparkline(sensor: sensor, from: from, means: means)
    }

    /// Enrolled nodes' sparklines: their synced sensor keys and those sensors' hourly rollups,
    /// two reads for every node.
    func sparklines(ids: [NodeID]) async throws -> [NodeID: [Sparkline]] {
        let keys = try await environment.database.hubPages.foreignSensorKeys()
        var pairs: [(node: NodeID, sensor: SensorID)] = []
        for id in ids {
            for sensor in Self.keySensors((keys[id] ?? []).map { SensorDescriptor(id: $0, name: $0.rawValue) }) {
                pairs.append((id, sensor.id))
            }
        }
        let hours = sparklineHours
        let rollups = try await environment.database.hubPages.rollups(pairs, resolution: .hour, from: hours.from, to: hours.to)
        var lines: [NodeID: [Sparkline]] = [:]
        for (node, sensor) in pairs {
            lines[node, default: []].append(sparkline(sensor, rollups[node]?[sensor] ?? []))
        }
        return lines
    }

    /// This node's sparklines, from its own registry and rollups.
    func ownSparklines(_ sensors: [SensorDescriptor]) async throws -> [Sparkline] {
        let hours = sparklineHours
        var lines: [Sparkline] = []
        for sensor in Self.keySensors(sensors) {
            let rollups = try await environment.database.readings.rollups(
                sensor: sensor.id, resolution: .hour, from: hours.from, to: hours.to)
            lines.append(sparkline(sensor.id, rollups))
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
        // This node answers the page; its readings are what "last reading" dates. Another node
        // was last seen at its last sync.
        let seen: HTML = node.isThisNode
            ? "answering now · \(node.sensorCount == 0 ? "no sensors of its own" : "last reading \(Format.age(node.lastSeen, now: now))")"
            : "last seen \(Format.age(node.lastSeen, now: now))"
        let offset: HTML = node.clockOffsetMilliseconds.map { " <span class=\"offset\">\(Format.clockOffset($0))</span>" } ?? .empty
        let simulated: HTML = card.simulatedSensors.isEmpty
            ? .empty
            : " <span class=\"badge simulated\" title=\"\(card.simulatedSensors.map(\.rawValue).joined(separator: ", "))\">simulated data: \(card.simulatedSensors.count) sensors</span>"
        return """
            <section class="card nodecard" data-node="\(node.id)"><div class="value name"><a href="/nodes/\(node.id)">\(node.name)</a>\(this)\(simulated)</div>
            <div class="sub">\(node.role) · <span class="badge \(node.state.rawValue)">\(node.state.rawValue)</span> \(seen)</div>
            <div class="sub">clock <span class="\(clock)">\(clock)</span>\(offset) · backlog \(card.backlog.map(Format.count) ?? "–") · \(faults)</div>
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
