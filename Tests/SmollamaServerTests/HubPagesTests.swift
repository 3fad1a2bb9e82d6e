import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SmollamaCore
@testable import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing

/// The hub's pages and their API over real HTTP on loopback (`.live`), against a hub store with
/// a synced node whose name, sensor key, observation and memory are hostile (HubNodePageTests).
@Suite struct HubPagesTests {
    static let pages = ["/", "/compare?quantity=temperature", "/compare?quantity=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
                        "/memories", "/memories?q=Remembered", "/memories?valid=now&superseded=exclude", "/thoughts",
                        "/ask"]

    /// The fixture hub, with a memory version edited through the mem0 API on the hub, a second
    /// memory superseding the first, an unusual observation, and a mind whose search matches words
    /// in the store's memories and whose answer cites a memory, an observation and an unknown id.
    static func hub(http: HTTPConfig = HTTPConfig()) async throws -> (fixture: ServerFixture, node: NodeID) {
        let hub = try await HubNodePageTests.hub(http: http)
        var fixture = hub.fixture
        let node = hub.node
        let database = fixture.store.database
        // Garage's sensors: the hostile one faulty, the temperature faulty and then recovered.
        let faults: [EventBody] = [
            .sensorFault(.init(sensor: "garage.temperature", reason: "timeout", consecutiveFailures: 3)),
            .sensorFault(.init(sensor: SensorID(HubNodePageTests.hostileKey), reason: ServerFixture.evil, consecutiveFailures: 3)),
            .sensorRecovered(.init(sensor: "garage.temperature", reason: "", consecutiveFailures: 0)),
        ]
        for (index, fault) in faults.enumerated() {
            _ = try await database.events.apply(try Event(
                origin: node, seq: Int64(index + 1), stamp: .test(ServerFixture.now.rawValue - 100_000 + Int64(index)), body: fault))
        }
        let now = ServerFixture.now
        let edited = MemoryRecord(
            id: "m-1", kind: "routine", subjects: ["garage.temperature"], text: "Edited by api " + ServerFixture.evil,
            confidence: 0.8, importance: 0.5, validFrom: now - 86_400_000, createdAt: now - 60_000, source: .api,
            parent: MemoryVersionRef(origin: node, seq: 1))
        try await database.knowledge.record(edited, origin: fixture.store.node, stamp: .test(now.rawValue - 40_000))
        let replacement = MemoryRecord(
            id: "m-2", kind: "routine", subjects: ["garage.temperature"], text: "Garage warms later now",
            confidence: 0.7, importance: 0.5, validFrom: now - 30_000, createdAt: now - 30_000, supersedes: "m-1",
            source: .reflection)
        _ = try await database.events.apply(try Event(origin: node, seq: 2, stamp: .test(now.rawValue - 30_000),
                                                      body: .memoryVersion(replacement)))
        let unusual = ObservationRecord(
            id: "o-2", kind: "anomaly", subjects: ["garage.temperature"], text: "Garage unusually hot", evidenceIDs: [],
            importance: 0.9, generator: .rules, timeStart: now - 7_200_000, timeEnd: now - 7_000_000)
        _ = try await database.events.apply(try Event(origin: node, seq: 2, stamp: .test(now.rawValue - 20_000),
                                                      body: .observation(unusual)))
        fixture.environment.mind = HubMind(
            search: { text, filter, topK in
                let words = text.lowercased().split(separator: " ")
                return try await database.hubPages.memories(.init(origins: filter.origins), limit: topK)
                    .filter { memory in words.contains { memory.record.text.lowercased().contains($0) } }
                    .map { HubMind.Hit(id: $0.record.id, kind: "memory", score: 0.5) }
            },
            ask: { question in
                HubMind.Answer(question: question, answer: "It is warm " + ServerFixture.evil,
                               citations: ["m-1", "o-1", "zz<b>"], mode: "rules", model: "test")
            })
        return (fixture, node)
    }

    static func live<Value: Sendable>(_ fixture: ServerFixture, _ body: @Sendable (any TestClientProtocol) async throws -> Value)
        async throws -> Value
    {
        try await fixture.app().test(.live, body)
    }

    @Test func homeShowsEveryNodesCardAndUnusualObservationsFirst() async throws {
        let (fixture, node) = try await Self.hub()
        try await Self.live(fixture) { client in
            let home = try await client.execute(uri: "/api/v1/home", method: .get) { try $0.json(HomeBody.self) }
            #expect(home.nodes.map(\.node.id) == [fixture.store.node.hex, node.hex])
            let garage = try #require(home.nodes.last)
            #expect(garage.latestObservation?.id == "o-1", "newest by the end of its span")
            #expect(garage.backlog == 0)
            #expect(garage.sparklines.map(\.sensor.rawValue) == ["garage.temperature", HubNodePageTests.hostileKey])
            #expect(garage.sparklines[0].means.compactMap { $0 }.count >= 23, "hourly means of the last day")
            #expect(home.observations.map(\.id) == ["o-2", "o-1"], "the anomaly leads")
            #expect(home.observations.first?.unusual == true && home.observations.last?.unusual == false)
            #expect(garage.faultySensors.map(\.rawValue) == [HubNodePageTests.hostileKey], "its newest notice is a fault")
            try await client.execute(uri: "/", method: .get) { response in
                let page = response.text
                #expect(page.components(separatedBy: "class=\"card nodecard\"").count == 3)
                #expect(page.components(separatedBy: "<svg class=\"sparkline\"").count >= 4)
                #expect(page.contains("Garage unusually hot"))
                let list = try #require(page.range(of: "Latest observations")).upperBound
                let hot = try #require(page.range(of: "Garage unusually hot", range: list..<page.endIndex))
                let warm = try #require(page.range(of: "Warm ", range: list..<page.endIndex))
                #expect(hot.lowerBound < warm.lowerBound, "the anomaly first")
            }
        }
    }

    @Test func compareDrawsOneQuantityOfEveryNodeInTheHouseholdsZone() async throws {
        let hub = try await Self.hub()
        var fixture = hub.fixture
        let node = hub.node
        fixture.environment.timeZone = try #require(TimeZone(identifier: "Asia/Kolkata"))
        let hubID = fixture.store.node
        try await Self.live(fixture) { client in
            let body = try await client.execute(uri: "/api/v1/compare?quantity=temperature&range=30d", method: .get) {
                try $0.json(CompareBody.self)
            }
            #expect(body.lines.map(\.series.sensor.rawValue) == ["shed.temperature", "garage.temperature"])
            #expect(body.lines.map(\.node) == [hubID.hex, node.hex])
            #expect(body.lines.allSatisfy { $0.series.points.count <= Chart.maxPoints }, "bounded")
            #expect(body.timeZone == "Asia/Kolkata")
            #expect(body.quantities.contains("temperature") && body.quantities.contains("motion"))
            try await client.execute(uri: "/compare?quantity=temperature&range=24h", method: .get) { response in
                let page = response.text
                #expect(page.components(separatedBy: "<path class=\"line c").count == 3, "one line per sensor")
                #expect(page.contains("times in Asia/Kolkata"))
                // The chart ends now, 08:00 UTC, which is 13:30 in Kolkata; it starts 23 h 55 min before.
                #expect(page.contains(">13:30</text>") && page.contains(">13:35</text>"), "ticks in the household's zone")
                #expect(!page.contains(">08:00</text>"))
            }
            try await client.execute(uri: "/api/v1/compare?quantity=temperature&range=1y", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func memoryExplorerSearchesFiltersAndShowsHistoryAndSources() async throws {
        let (fixture, node) = try await Self.hub()
        try await Self.live(fixture) { client in
            func explore(_ query: String) async throws -> [MemoryItem] {
                try await client.execute(uri: "/api/v1/memories/explore?\(query)", method: .get) {
                    try $0.json(MemoryExplorerBody.self).memories
                }
            }
            let found = try await explore("q=edited")
            #expect(found.map(\.id) == ["m-1"])
            let memory = try #require(found.first)
            #expect(memory.versions.map(\.changedBy) == ["node", "mem0 API"], "who changed it, oldest first")
            #expect(memory.versions.first?.node == node.hex && memory.versions.last?.node == fixture.store.node.hex)
            #expect(memory.supersededBy == "m-2")
            #expect(memory.observations.map(\.id) == ["o-1", "o-2"], "the node's observations of that sensor before it was learned")
            #expect(memory.score == 0.5)
            #expect(try await explore("").map(\.id) == ["m-2", "m-1"])
            #expect(try await explore("superseded=exclude").map(\.id) == ["m-2"])
            #expect(try await explore("superseded=only").map(\.id) == ["m-1"])
            #expect(try await explore("kind=fact").isEmpty)
            #expect(try await explore("node=\(fixture.store.node.hex)").isEmpty, "the hub first wrote none")
            #expect(try await explore("node=\(node.hex)&q=garage").map(\.id) == ["m-2"])
            #expect(try await explore("valid=2020-01-01").isEmpty, "nothing was valid then")
            // Midnight of the fixture's day (UTC here): m-1 held since the day before; m-2 only from now.
            #expect(try await explore("valid=2027-01-15").map(\.id) == ["m-1"])
            #expect(try await explore("valid=now").map(\.id) == ["m-2", "m-1"], "m-1 was replaced, its validity left open")
            #expect(try await explore("id=m-2").map(\.id) == ["m-2"])
            try await client.execute(uri: "/api/v1/memories/explore?valid=yesterday", method: .get) { response in
                #expect(response.status == .badRequest && response.text.contains("valid must be"))
            }
            try await client.execute(uri: "/memories?q=edited", method: .get) { response in
                let page = response.text
                #expect(page.contains("mem0 API") && page.contains("superseded by <a href=\"/memories?id=m-2\""))
                #expect(page.contains("best match first"))
            }
        }
    }

    /// A 30-day hourly series (720 buckets) is merged to 360 two-hour ones: counts and sums kept,
    /// means weighted by count, min of mins, max of maxes.
    @Test func boundedSeriesMergesNeighbouringBuckets() {
        let hour: Int64 = 3_600_000
        var points: [Series.Point] = []
        for index in 0..<720 {
            let value = Double(index)
            let count: Int64 = index % 2 == 0 ? 1 : 2
            points.append(Series.Point(start: UTCMillis(rawValue: Int64(index) * hour), count: count, min: value,
                                       max: value + 1, mean: value + 0.5, onDuration: 10, onCount: 1))
        }
        let series = Series(sensor: "x", name: "x", kind: .numeric, unit: "", range: .month, resolutionMilliseconds: hour,
                            from: UTCMillis(rawValue: 0), to: UTCMillis(rawValue: 720 * hour), points: points)
        let bounded = series.bounded(400)
        #expect(bounded.points.count == 360)
        #expect(bounded.resolutionMilliseconds == 2 * hour)
        let before: Int64 = points.map(\.count).reduce(0, +)
        let after: Int64 = bounded.points.map(\.count).reduce(0, +)
        #expect(before == after)
        let first = bounded.points[0]
        #expect(first.count == 3 && first.onDuration == 20 && first.onCount == 2)
        #expect(first.min == 0 && first.max == 2)
        let weighted: Double = (0.5 * 1 + 1.5 * 2) / 3
        #expect(first.mean == weighted)
        #expect(series.bounded(720) == series, "a series within the bound is kept as it is")
    }

    @Test func thoughtsListFiltersAndStreamsArrivalsFromSyncedNodes() async throws {
        let (fixture, node) = try await Self.hub()
        let database = fixture.store.database
        let tail = ObservationTailService(environment: fixture.environment, logger: .quiet)
        let before = try await database.hubPages.newestArrival()
        let publisher = fixture.environment.publisher
        let body = try await Self.live(fixture) { client in
            let listed = try await client.execute(uri: "/api/v1/thoughts?node=\(node.hex)&kind=anomaly", method: .get) {
                try $0.json(ThoughtsBody.self)
            }
            #expect(listed.observations.map(\.id) == ["o-2"] && listed.after == before)
            try await client.execute(uri: "/api/v1/thoughts?node=nobody", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/thoughts?id=o-1", method: .get) { response in
                #expect(response.text.contains("data-id=\"o-1\"") && !response.text.contains("data-id=\"o-2\""))
            }
            return try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    try await client.execute(uri: "/api/v1/live/observations?after=\(before)", method: .get) { response in
                        #expect(response.headers[.contentType] == "text/event-stream")
                        return String(buffer: response.body)
                    }
                }
                group.addTask {
                    #expect(try await eventually { await publisher.subscriberCount == 1 })
                    // The node's observation arrives with its sync: stamped an hour ago, after newer entries.
                    let arriving = ObservationRecord(
                        id: "o-3", kind: "comfort", subjects: [], text: "Synced late\nevent: forged", evidenceIDs: [],
                        importance: 0.3, generator: .rules, timeStart: ServerFixture.now - 3_600_000,
                        timeEnd: ServerFixture.now - 3_500_000)
                    _ = try await database.events.apply(try Event(
                        origin: node, seq: 3, stamp: .test(ServerFixture.now.rawValue - 3_500_000), body: .observation(arriving)))
                    let cursor = await tail.tick(after: before)
                    #expect(cursor > before)
                    #expect(await tail.tick(after: cursor) == cursor, "published once")
                    await publisher.finishAll()
                    return nil
                }
                var text = ""
                for try await result in group { if let result { text = result } }
                return text
            }
        }
        #expect(body.components(separatedBy: "event: observation").count == 2, "\(body)")
        #expect(body.contains("\"id\":\"o-3\"") && body.contains("\"nodeName\":\"garage "))
        #expect(!body.contains("\nevent: forged"), "the text's newline stays inside the JSON")
    }

    @Test func askShowsTheAnswerAndLinksCitedIds() async throws {
        let (fixture, _) = try await Self.hub()
        try await Self.live(fixture) { client in
            let reply = try await client.execute(
                uri: "/api/v1/ask", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"question":"how warm is the garage?"}"#)
            ) { try $0.json(AskReply.self) }
            #expect(reply.citations.map(\.kind) == ["memory", "observation", "unknown"])
            #expect(reply.citations.map(\.href) == ["/memories?id=m-1", "/thoughts?id=o-1", nil])
            try await client.execute(
                uri: "/ask", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "question=how+warm+is+the+garage%3F")
            ) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("<a href=\"/memories?id=m-1\">memory m-1</a>"))
                #expect(response.text.contains("<a href=\"/thoughts?id=o-1\">observation o-1</a>"))
                #expect(response.text.contains("value=\"how warm is the garage?\""))
            }
            try await client.execute(uri: "/api/v1/ask", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"question":"  "}"#)) { response in
                #expect(response.status == .badRequest)
            }
        }
        var bare = try await ServerFixture()
        bare.environment.mind = nil
        try await Self.live(bare) { client in
            try await client.execute(uri: "/api/v1/ask", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"question":"why?"}"#)) { response in
                #expect(response.status == .serviceUnavailable && response.text.contains("runs on the hub"))
            }
        }
    }

    @Test func hostileNamesSensorsAndTextsRenderInertOnEveryHubPage() async throws {
        let (fixture, node) = try await Self.hub()
        try await Self.live(fixture) { client in
            for path in Self.pages + ["/thoughts?node=\(node.hex)", "/memories?id=m-1"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    Self.expectInert(response, path)
                }
            }
            try await client.execute(
                uri: "/ask", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "question=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
            ) { response in
                Self.expectInert(response, "POST /ask")
                #expect(response.text.contains("It is warm &lt;script&gt;"))
                #expect(response.text.contains("zz&lt;b&gt;"))
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.text.contains("garage &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;"))
            }
        }
    }

    static func expectInert(_ response: TestResponse, _ path: String) {
        let page = response.text
        #expect(!page.contains("<script>alert"), "\(path)")
        #expect(!page.contains("<img src=x"), "\(path)")
        #expect(!page.contains("<b>"), "\(path)")
        #expect(page.components(separatedBy: "<script").count == 2, "\(path): only the embedded script file")
        #expect(response.headers[.contentSecurityPolicy] == DashboardRoutes.contentSecurityPolicy, "\(path)")
    }

    @Test func theTokenGuardsEveryHubPageAndItsAPI() async throws {
        let token = "hub-pages-token-0123456789"
        let (fixture, _) = try await Self.hub(http: HTTPConfig(host: "127.0.0.1", port: 0, token: token))
        try await Self.live(fixture) { client in
            for path in Self.pages {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .seeOther && response.headers[.location] == "/login", "\(path)")
                }
            }
            for path in ["/api/v1/home", "/api/v1/compare", "/api/v1/memories/explore?q=x", "/api/v1/thoughts",
                         "/api/v1/live/observations"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .unauthorized, "\(path)")
                }
                try await client.execute(uri: path.hasPrefix("/api/v1/live") ? "/api/v1/home" : path, method: .get,
                                         headers: [.authorization: "Bearer \(token)"]) { response in
                    #expect(response.status == .ok, "\(path) with the token")
                }
            }
            for (path, type) in [("/api/v1/ask", "application/json"), ("/ask", "application/x-www-form-urlencoded")] {
                try await client.execute(uri: path, method: .post, headers: [.contentType: type],
                                         body: ByteBuffer(string: #"{"question":"x"}"#)) { response in
                    #expect([.unauthorized, .seeOther].contains(response.status), "\(path) asks nothing without the token")
                }
            }
        }
    }
}
