public import Foundation
public import SmollamaCore
public import SmollamaStore

/// Who this node is, as the dashboard shows it. Nothing secret.
public struct NodeInfo: Sendable, Codable, Hashable {
    public var id: NodeID
    public var name: String
    /// `alpaca` or `llama`.
    public var role: String

    public init(id: NodeID, name: String, role: String) {
        self.id = id
        self.name = name
        self.role = role
    }

    public var isHub: Bool { role == "llama" }
}

/// Everything the server reads from. Built once by the daemon (or a test) and shared.
public struct DashboardEnvironment: Sendable {
    public var node: NodeInfo
    public var database: SmollamaDatabase
    /// The store's file, for its size; nil for in-memory stores.
    public var databasePath: String?
    public var http: HTTPConfig
    public var publisher: LivePublisher
    /// Wall-clock milliseconds; tests pass a fixed clock.
    public var now: @Sendable () -> UTCMillis
    /// Who writes observations and why ("smollm2-135m: 0/23 narration tasks verified —
    /// observations written by rules; …"), shown above the log; nil shows nothing.
    public var writer: @Sendable () async -> String? = { nil }
    /// Signed-in browsers (random session ids) and the login throttle.
    public var sessions = DashboardSessions()
    /// The household's time zone (`node.timezone`): the compare chart's axis is drawn in it.
    public var timeZone = TimeZone(identifier: "UTC") ?? .current
    /// Recall and `ask` for the hub's memory explorer and ask page; nil where the mind is not
    /// wired (the explorer then lists by filters only, and ask answers 503).
    public var mind: HubMind?

    public init(node: NodeInfo, database: SmollamaDatabase, databasePath: String?, http: HTTPConfig,
                publisher: LivePublisher = LivePublisher(),
                now: @escaping @Sendable () -> UTCMillis = { UTCMillis.now() }) {
        self.node = node
        self.database = database
        self.databasePath = databasePath
        self.http = http
        self.publisher = publisher
        self.now = now
    }
}

/// One node on the overview. The hub will list every synced node; today it lists itself.
public struct NodeSummary: Sendable, Codable, Hashable {
    public enum State: String, Sendable, Codable { case online, stale, offline }
    public var id: String
    public var name: String
    public var role: String
    public var state: State
    public var lastSeen: UTCMillis?
    public var clockQuality: ClockQuality?
    /// A synced node's wall clock minus the hub's at its last handshake (nil: this node, or not reported).
    public var clockOffsetMilliseconds: Int64?
    public var sensorCount: Int
    public var faultySensorCount: Int
    public var databaseBytes: Int64
    public var readingCount: Int64
    public var eventCount: Int64
    public var rollupLag: Int64
    public var observationCount: Int
    public var memoryCount: Int
    public var isThisNode: Bool
}

/// `/api/v1/status`: this node with its sensors.
public struct NodeDetail: Sendable, Codable, Hashable {
    public var node: NodeSummary
    public var sensors: [SensorSummary]
}

/// A chart's data: one point per rollup bucket.
public struct Series: Sendable, Codable, Hashable {
    public struct Point: Sendable, Codable, Hashable {
        public var start: UTCMillis
        public var count: Int64
        public var min: Double?
        public var max: Double?
        public var mean: Double?
        /// Binary sensors: milliseconds on within the bucket.
        public var onDuration: Int64
        public var onCount: Int64
    }
    public var sensor: SensorID
    public var name: String
    public var kind: SensorDescriptor.Kind
    public var unit: String
    public var range: ChartRange
    public var resolutionMilliseconds: Int64
    public var from: UTCMillis
    public var to: UTCMillis
    public var points: [Point]
}

/// The chart ranges offered: each picks a rollup resolution that gives a few hundred points.
public enum ChartRange: String, Sendable, Codable, CaseIterable {
    case day = "24h"
    case week = "7d"
    case month = "30d"

    public var duration: Duration {
        switch self {
        case .day: .seconds(86_400)
        case .week: .seconds(7 * 86_400)
        case .month: .seconds(30 * 86_400)
        }
    }
    public var resolution: Rollup.Resolution { self == .day ? .fiveMinutes : .hour }
}

/// Reads the store into the view models both the JSON API and the pages use.
struct DashboardQueries: Sendable {
    let environment: DashboardEnvironment

    /// A node is online when its newest reading is younger than this, stale below `offlineAfter`.
    static let staleAfter: Duration = .seconds(5 * 60)
    static let offlineAfter: Duration = .seconds(60 * 60)

    /// This node, then (on a hub) every node that syncs to it.
    /// `sensors`: this node's, when the caller has read them already.
    func nodes(sensors: [SensorSummary]? = nil) async throws -> [NodeSummary] {
        [try await thisNode(sensors: sensors)] + (try await syncedNodes())
    }

    /// Nodes enrolled with this hub, from what they synced. Their state follows their last sync;
    /// the readings count is the hub's durable mark (counting would scan every raw reading).
    func syncedNodes() async throws -> [NodeSummary] {
        try await listings().map(\.summary)
    }

    /// Enrolled nodes (or only `node`) with what sync knows of them, in one read.
    func listings(only node: NodeID? = nil) async throws -> [(summary: NodeSummary, sync: HubNodeSummary)] {
        let now = environment.now()
        return try await environment.database.hubPages.nodeListings(only: node).compactMap { listing in
            let node = listing.sync
            guard NodeID(hex: node.node) != nil else { return nil }
            let counts = listing.eventCounts
            let age = node.lastSeen.map { now - $0 } ?? .seconds(Int64.max)
            let state: NodeSummary.State = age < Self.staleAfter ? .online : age < Self.offlineAfter ? .stale : .offline
            return (NodeSummary(
                id: node.node, name: node.name, role: node.revokedAt == nil ? "alpaca" : "alpaca (revoked)",
                state: state, lastSeen: node.lastSeen, clockQuality: node.clockQuality.flatMap(ClockQuality.init(rawValue:)),
                clockOffsetMilliseconds: node.clockOffsetMilliseconds,
                sensorCount: listing.sensorCount, faultySensorCount: 0, databaseBytes: node.diskUse.bytes,
                readingCount: node.marks[SyncStream.readings.rawValue] ?? 0, eventCount: Int64(counts.values.reduce(0, +)),
                rollupLag: 0, observationCount: counts[.observations] ?? 0, memoryCount: counts[.memories] ?? 0,
                isThisNode: false), node)
        }
    }

    /// One node by id (hex): this node, or one enrolled here; nil for an unknown id.
    func node(id: String) async throws -> NodeSummary? {
        let id = id.lowercased()
        if id == environment.node.id.hex { return try await thisNode() }
        guard let node = NodeID(hex: id) else { return nil }
        return try await listings(only: node).first?.summary
    }

    /// This node. Its `state` and `lastSeen` follow its newest reading, as every node's sensors
    /// do; a node with no sensors of its own has nothing to go quiet, and it is answering this
    /// request, so it is online (with no reading, `lastSeen` stays nil). Its clock quality is its
    /// newest clock epoch's (readings), else that of the newest stamp on an event it wrote.
    /// The store status, the event counts and (when not given) the sensors are read at once.
    func thisNode(sensors: [SensorSummary]? = nil) async throws -> NodeSummary {
        async let partsRead = thisNodeParts()
        let sensors = if let sensors { sensors } else { try await self.sensors() }
        return thisNode(try await partsRead, sensors: sensors)
    }

    /// What `thisNode` reads besides the sensors.
    struct ThisNodeParts: Sendable {
        var store: StoreStatus
        var counts: [EventStream: Int]
        var clockQuality: ClockQuality?
    }

    /// The store status and the event counts at once (each a hop to a pooled reader).
    func thisNodeParts() async throws -> ThisNodeParts {
        async let storeRead = environment.database.storeStatus()
        async let countsRead = environment.database.events.eventCounts(streams: [.observations, .memories])
        let store = try await storeRead
        return ThisNodeParts(store: store, counts: try await countsRead, clockQuality: try await clockQuality(store))
    }

    func thisNode(_ parts: ThisNodeParts, sensors: [SensorSummary]) -> NodeSummary {
        let now = environment.now()
        let store = parts.store
        let lastSeen = store.newestReadingTime
        let age = lastSeen.map { now - $0 } ?? .seconds(Int64.max)
        let state: NodeSummary.State = sensors.isEmpty ? .online
            : age < Self.staleAfter ? .online : age < Self.offlineAfter ? .stale : .offline
        return NodeSummary(
            id: environment.node.id.hex, name: environment.node.name, role: environment.node.role, state: state,
            lastSeen: lastSeen, clockQuality: parts.clockQuality, sensorCount: sensors.count,
            faultySensorCount: sensors.filter { $0.status != "ok" }.count,
            databaseBytes: environment.databasePath.map(SmollamaDatabase.fileSize(path:)) ?? 0,
            readingCount: store.readingCount, eventCount: store.eventCount, rollupLag: store.rollupLag,
            observationCount: parts.counts[.observations] ?? 0, memoryCount: parts.counts[.memories] ?? 0,
            isThisNode: true)
    }

    func clockQuality(_ store: StoreStatus) async throws -> ClockQuality? {
        if let quality = store.clockQuality { return quality }
        return try await environment.database.events.newestStampQuality(origin: environment.node.id)
    }

    func sensors() async throws -> [SensorSummary] {
        try await environment.database.sensorSummaries(now: environment.now())
    }

    /// A sensor's chart from its rollups: this node's, or (`node` another one) what that node
    /// synced to the hub.
    /// `resolution` overrides the range's own.
    func series(sensor: SensorSummary, range: ChartRange, node: NodeSummary? = nil,
                resolution: Rollup.Resolution? = nil) async throws -> Series {
        try await series(of: [(node, sensor.sensor)], range: range, resolution: resolution)[0]
    }

    /// Charts of several sensors (each of this node when its node is nil or this node, else of
    /// that synced node), in the order given: every synced node's rollups in one read.
    func series(of charts: [(node: NodeSummary?, sensor: SensorDescriptor)], range: ChartRange,
                resolution: Rollup.Resolution? = nil) async throws -> [Series] {
        let to = environment.now()
        let resolution = resolution ?? range.resolution
        let from = resolution.bucketStart(to - range.duration) + resolution.duration
        var foreign: [(node: NodeID, sensor: SensorID)] = []
        for (node, sensor) in charts {
            guard let node, !node.isThisNode else { continue }
            guard let id = NodeID(hex: node.id) else { throw DashboardError.notFound("no node with id '\(node.id)' is known here") }
            foreign.append((id, sensor.id))
        }
        let synced = foreign.isEmpty ? [:] : try await environment.database.hubPages.rollups(
            foreign, resolution: resolution, from: from, to: to + .milliseconds(1))
        let own = charts.compactMap { $0.node?.isThisNode == false ? nil : $0.sensor.id }
        let local = own.isEmpty ? [:] : try await environment.database.readings.rollups(
            sensors: own, resolution: resolution, from: from, to: to + .milliseconds(1))
        var all: [Series] = []
        for (node, sensor) in charts {
            let rollups: [Rollup]
            if let node, !node.isThisNode, let id = NodeID(hex: node.id) {
                rollups = synced[id]?[sensor.id] ?? []
            } else {
                rollups = local[sensor.id] ?? []
            }
            let points = rollups.map { rollup in
                let has = rollup.count > 0
                return Series.Point(
                    start: rollup.bucketStart, count: rollup.count, min: has ? rollup.min : nil, max: has ? rollup.max : nil,
                    mean: has ? rollup.mean : nil, onDuration: rollup.onDuration, onCount: rollup.onCount)
            }
            all.append(Series(
                sensor: sensor.id, name: sensor.name, kind: sensor.kind, unit: sensor.unit,
                range: range, resolutionMilliseconds: resolution.milliseconds, from: from, to: to, points: points))
        }
        return all
    }

    /// Log entries, newest first, filtered.
    /// Matches are looked for among the newest `LogFilter.window` events. Without a subject or
    /// text filter every event matches, so only `limit` are read; with one, the read widens
    /// fourfold until enough match or the window is read.
    func log(filter: LogFilter) async throws -> [LogEntry] {
        let streams = filter.stream.map { [$0] } ?? LogEntry.streams
        var read = filter.matchesEverything ? filter.limit : max(200, filter.limit * 4)
        while true {
            read = min(read, LogFilter.window)
            let events = try await environment.database.events.recentEvents(streams: streams, limit: read)
            var entries: [LogEntry] = []
            for event in events {
                let entry = LogEntry(event: event)
                if filter.matches(entry) { entries.append(entry) }
                if entries.count >= filter.limit { break }
            }
            if entries.count >= filter.limit || events.count < read || read == LogFilter.window { return entries }
            read *= 4
        }
    }
}

/// `?stream=&subject=&q=&limit=` on the log and observations.
public struct LogFilter: Sendable, Hashable {
    public var stream: EventStream?
    public var subject: String?
    public var query: String?
    public var limit: Int

    public init(stream: EventStream? = nil, subject: String? = nil, query: String? = nil, limit: Int = 200) {
        self.stream = stream
        self.subject = subject
        self.query = query
        self.limit = limit
    }

    /// How far back a filtered log looks: the newest this many events.
    static let window = 5_000

    var matchesEverything: Bool { (subject ?? "").isEmpty && (query ?? "").isEmpty }

    func matches(_ entry: LogEntry) -> Bool {
        if let subject, !subject.isEmpty, entry.subject != subject { return false }
        if let query, !query.isEmpty,
           !entry.message.localizedCaseInsensitiveContains(query), !entry.subject.localizedCaseInsensitiveContains(query)
        {
            return false
        }
        return true
    }
}
