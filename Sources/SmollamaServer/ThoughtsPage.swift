public import Logging
public import ServiceLifecycle
import SmollamaStore
import AsyncAlgorithms
import Foundation
import Hummingbird
import HTTPTypes
import SmollamaCore

/// Follows the `observations` table in arrival order (a synced node's observations arrive with
/// their own, older stamps, so the log tail's HLC cursor would skip them) and publishes each new
/// one: one query per `interval` whatever the number of open thoughts pages.
public struct ObservationTailService: Service {
    let environment: DashboardEnvironment
    let interval: Duration
    let logger: Logger

    public init(environment: DashboardEnvironment, interval: Duration = .seconds(1), logger: Logger) {
        self.environment = environment
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var cursor = try await environment.database.hubPages.newestArrival()
        for await _ in AsyncTimerSequence(interval: interval, clock: .continuous).cancelOnGracefulShutdown() {
            cursor = await tick(after: cursor)
        }
    }

    /// Publishes observations that arrived after `cursor`; returns the new cursor. Exposed for tests.
    public func tick(after cursor: Int64) async -> Int64 {
        do {
            let arrivals = try await environment.database.hubPages.arrivals(after: cursor, limit: 500)
            guard !arrivals.isEmpty else { return cursor }
            let names = try await DashboardQueries(environment: environment).nodeNames()
            for arrival in arrivals {
                await environment.publisher.publish(.observation(arrival: arrival.arrival,
                                                                 ObservationItem(arrival.observation, names: names)))
            }
            return arrivals.last?.arrival ?? cursor
        } catch {
            logger.warning("observation tail failed; will retry", metadata: ["smollama.error": "\(error)"])
            return cursor
        }
    }
}

/// The thoughts page's filters: `?node=&kind=&id=`.
struct ThoughtsQuery: Sendable, Hashable {
    var node = ""
    var kind = ""
    var id = ""
    static let limit = 50
}

/// `/api/v1/thoughts`: observations from every node, newest first, and the arrival position a
/// live page continues from (`/api/v1/live/observations?after=`).
struct ThoughtsBody: Codable, Sendable, Hashable {
    var observations: [ObservationItem]
    var after: Int64
}

extension DashboardQueries {
    func thoughts(_ query: ThoughtsQuery) async throws -> ThoughtsBody {
        let names = try await nodeNames()
        let pages = environment.database.hubPages
        let after = try await pages.newestArrival()
        if !query.id.isEmpty {
            let one = try await environment.database.knowledge.observation(id: query.id)
            return ThoughtsBody(observations: one.map { [ObservationItem($0, names: names)] } ?? [], after: after)
        }
        let observations = try await pages.observations(
            origins: try names.ids(matching: query.node), kinds: query.kind.isEmpty ? nil : [query.kind], limit: ThoughtsQuery.limit)
        return ThoughtsBody(observations: observations.map { ObservationItem($0, names: names) }, after: after)
    }
}

extension LiveEvents {
    /// `event: observation` messages, `id:` the arrival position; a reconnect (`Last-Event-ID`)
    /// or the page's `after` replays what arrived since from the store first.
    static func observations(request: Request, environment: DashboardEnvironment) async throws -> Response {
        try await LiveEvents.replayingStream(
            request: request, environment: environment,
            replay: { after in
                let names = try await DashboardQueries(environment: environment).nodeNames()
                return try await environment.database.hubPages.arrivals(after: after, limit: 500).map {
                    ($0.arrival, ObservationItem($0.observation, names: names))
                }
            },
            live: { message in
                guard case .observation(let arrival, let item) = message else { return nil }
                return (arrival, item)
            },
            frame: { item, arrival in try frame(item, arrival: arrival) })
    }

    static func frame(_ item: ObservationItem, arrival: Int64) throws -> String {
        let json = String(decoding: try encoder.encode(item), as: UTF8.self)
        return "id: \(arrival)\nevent: observation\n" + data(json) + "\n"
    }
}

extension Pages {
    static func hubThoughts(node: NodeInfo, query: ThoughtsQuery, body thoughts: ThoughtsBody, nodes: [(id: String, name: String)],
                            kinds: [String], signedIn: Bool) -> HTML {
        func options(_ values: [(String, String)], selected: String) -> HTML {
            HTML.join(values.map { value, label in
                let mark: HTML = value == selected ? " selected" : .empty
                return "<option value=\"\(value)\"\(mark)>\(label)</option>"
            })
        }
        let nodeFilter = nodes.first { $0.id == query.node.lowercased() || $0.name == query.node }?.id ?? ""
        let body: HTML = """
            <h1>Thoughts <span class="live">connecting…</span></h1>
            <p class="muted">Observations from every node, newest first; new ones appear as they arrive (a node's arrive with its sync).</p>
            <form class="filters" method="get" action="/thoughts">
            <label>Node<select name="node">\(options([("", "all")] + nodes.map { ($0.id, $0.name) }, selected: nodeFilter))</select></label>
            <label>Kind<select name="kind">\(options([("", "all")] + kinds.map { ($0, $0) }, selected: query.kind))</select></label>
            <button type="submit">Filter</button></form>
            <section class="panel" data-live-observations data-after="\(String(thoughts.after))" data-node="\(nodeFilter)" data-kind="\(query.kind)">
            \(observationList(thoughts.observations, emptyText: "No observations yet. They appear here as nodes write and sync them."))</section>
            <section class="panel" data-thoughts style="margin-top:1rem"><h2>This node's model, token by token</h2>
            <pre class="thoughts" aria-live="polite"></pre></section>
            """
        return Layout.page(title: "Thoughts", node: node, tab: .thoughts, body: body, signedIn: signedIn)
    }
}
