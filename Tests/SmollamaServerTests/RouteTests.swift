import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import SmollamaCore
@testable import SmollamaServer
@testable import SmollamaStore
import SmollamaTesting
import Testing

@Suite struct RouteTests {
    @Test func pagesRenderWithStatusAndContentType() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            for path in ["/", "/sensors", "/sensors?range=7d", "/sensors?range=30d", "/log", "/log?stream=notices",
                         "/observations", "/thoughts", "/memories", "/nodes/\(fixture.store.node.hex)", "/login"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "\(path)")
                    #expect(response.headers[.contentType] == "text/html; charset=utf-8", "\(path)")
                    #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                    #expect(response.text.hasPrefix("<!doctype html>"), "\(path)")
                }
            }
        }
    }

    /// The observations page says who writes them (the calibration gate's sentence), escaped.
    @Test func observationsPageSaysWhoWrites() async throws {
        var fixture = try await ServerFixture()
        fixture.environment.writer = { "smollm2-135m: 0/23 narration tasks verified — observations written by rules <b>" }
        try await fixture.test { client in
            try await client.execute(uri: "/observations", method: .get) { response in
                #expect(response.text.contains("0/23 narration tasks verified — observations written by rules &lt;b&gt;"))
            }
        }
    }

    @Test func overviewShowsNodeSensorsAndLog() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            try await client.execute(uri: "/", method: .get) { response in
                let page = response.text
                #expect(page.contains("shed"))
                #expect(page.contains("Shed temperature"))
                #expect(page.contains("online"))
                #expect(page.contains("i2c timeout"))
                #expect(page.contains("synced"))
            }
        }
    }

    @Test func sensorsPageDrawsSVGCharts() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            try await client.execute(uri: "/sensors?range=24h", method: .get) { response in
                let page = response.text
                #expect(page.components(separatedBy: "<svg class=\"chart\"").count - 1 == 3)
                #expect(page.contains("<path class=\"band\" d=\"M"))
                #expect(page.contains("<path class=\"mean\" d=\"M"))
                #expect(page.contains("<rect class=\"on\""))  // the motion strip
            }
            try await client.execute(uri: "/sensors?range=1y", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func assetsAreEmbedded() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            try await client.execute(uri: "/assets/app.css", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/css; charset=utf-8")
                #expect(!response.text.contains("http"))
            }
            try await client.execute(uri: "/assets/app.js", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("EventSource"))
                #expect(!response.text.contains("innerHTML"))
            }
            try await client.execute(uri: "/assets/missing.js", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }

    /// The hub's overview lists the nodes that sync to it, from the sync registry and what arrived.
    @Test func theHubListsItsSyncedNodes() async throws {
        let fixture = try await ServerFixture(role: "llama")
        let garage = NodeID(hex: "00112233445566778899aabbccddeeff")!
        try await fixture.store.database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO sync_nodes (node, name, public_key, enrolled_at, last_seen, clock_quality)
                    VALUES (?, 'garage', zeroblob(32), ?, ?, 'unsynced')
                    """,
                arguments: [garage, ServerFixture.now - 86_400_000, ServerFixture.now - 30_000])
            try db.execute(
                sql: "INSERT INTO sync_marks (origin, stream, mark, updated_at) VALUES (?, 'readings', 4321, ?)",
                arguments: [garage, ServerFixture.now - 30_000])
        }
        let event = try await ServerFixture.appendNotice(
            fixture.store.database, origin: garage, sensor: "garage.door", reason: "unplugged", time: ServerFixture.now - 40_000)
        #expect(event.origin == garage)

        try await fixture.test { client in
            try await client.execute(uri: "/api/v1/nodes", method: .get) { response in
                let nodes = try #require(try response.json([String: [NodeSummary]].self)["nodes"])
                #expect(nodes.map(\.id) == [fixture.store.node.hex, garage.hex])
                let remote = try #require(nodes.last)
                #expect(remote.name == "garage")
                #expect(!remote.isThisNode)
                #expect(remote.state == .online)
                #expect(remote.clockQuality == .unsynced)
                #expect(remote.readingCount == 4321)
                #expect(remote.eventCount == 1)
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.text.contains(">garage</a>"))
            }
            try await client.execute(uri: "/nodes/\(garage.hex)", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("garage"))
            }
        }
    }

    @Test func statusAndNodesAPI() async throws {
        let fixture = try await ServerFixture(role: "llama")
        let id = fixture.store.node.hex
        try await fixture.test { client in
            try await client.execute(uri: "/api/v1/status", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                let detail = try response.json(NodeDetail.self)
                #expect(detail.node.id == id)
                #expect(detail.node.state == .online)
                #expect(detail.node.sensorCount == 3)
                #expect(detail.node.readingCount > 8000)
                #expect(detail.node.databaseBytes > 0)
                #expect(detail.sensors.count == 3)
            }
            try await client.execute(uri: "/api/v1/nodes", method: .get) { response in
                let body = try response.json([String: [NodeSummary]].self)
                #expect(body["nodes"]?.map(\.id) == [id])
            }
            try await client.execute(uri: "/api/v1/nodes/\(id)", method: .get) { response in
                let decoded = try response.json(NodeDetail.self)
                #expect(decoded.node.isThisNode)
            }
            try await client.execute(uri: "/api/v1/nodes/00112233445566778899aabbccddeeff", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.text.contains("\"error\""))
            }
            try await client.execute(uri: "/nodes/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.text.contains("Not found"))
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.text.contains("The household"), "a hub's home is the household's")
                #expect(response.text.contains("(this hub)"))
            }
        }
    }

    @Test func sensorsAndSeriesAPI() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            try await client.execute(uri: "/api/v1/sensors", method: .get) { response in
                let body = try response.json([String: [SensorSummary]].self)
                let temperature = try #require(body["sensors"]?.first { $0.sensor.id == "shed.temperature" })
                #expect(temperature.lastValue != nil)
                #expect(temperature.hourMean != nil)
            }
            for (range, resolution, maxPoints) in [("24h", 300_000, 288), ("7d", 3_600_000, 168), ("30d", 3_600_000, 720)] {
                try await client.execute(uri: "/api/v1/series?sensor=shed.temperature&range=\(range)", method: .get) {
                    response in
                    let series = try response.json(Series.self)
                    #expect(series.resolutionMilliseconds == Int64(resolution))
                    #expect(!series.points.isEmpty && series.points.count <= maxPoints)
                    #expect(series.points.allSatisfy { ($0.min ?? 0) <= ($0.mean ?? 0) && ($0.mean ?? 0) <= ($0.max ?? 0) })
                    #expect(series.points.allSatisfy { $0.start >= series.from && $0.start <= series.to })
                }
            }
            try await client.execute(uri: "/api/v1/series?sensor=shed.motion&range=24h", method: .get) { response in
                let series = try response.json(Series.self)
                #expect(series.kind == .binary)
                #expect(series.points.contains { $0.onDuration > 0 })
            }
            try await client.execute(uri: "/api/v1/series?sensor=nope", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/series", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/series?sensor=shed.motion&range=5y", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.text.contains("24h, 7d, 30d"))
            }
        }
    }

    @Test func logAPIFilters() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            try await client.execute(uri: "/api/v1/log", method: .get) { response in
                let entries = try #require(try response.json([String: [LogEntry]].self)["entries"])
                #expect(entries.count == 2)
                #expect(entries.first?.subject == "shed.temperature")  // newest first
            }
            try await client.execute(uri: "/api/v1/log?subject=shed.evil", method: .get) { response in
                let decoded = try response.json([String: [LogEntry]].self)
                #expect(decoded["entries"]?.map(\.subject) == ["shed.evil"])
            }
            try await client.execute(uri: "/api/v1/log?q=I2C", method: .get) { response in
                let decoded = try response.json([String: [LogEntry]].self)
                #expect(decoded["entries"]?.count == 1)
            }
            try await client.execute(uri: "/api/v1/log?limit=1", method: .get) { response in
                let decoded = try response.json([String: [LogEntry]].self)
                #expect(decoded["entries"]?.count == 1)
            }
            try await client.execute(uri: "/api/v1/log?stream=observations", method: .get) { response in
                let decoded = try response.json([String: [LogEntry]].self)
                #expect(decoded["entries"]?.isEmpty == true)
            }
            try await client.execute(uri: "/api/v1/log?stream=bogus", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/log?limit=0", method: .get) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/observations", method: .get) { response in
                let decoded = try response.json([String: [LogEntry]].self)
                #expect(decoded["observations"]?.isEmpty == true)
            }
            try await client.execute(uri: "/api/v1/memories", method: .get) { response in
                let decoded = try response.json([String: [LogEntry]].self)
                #expect(decoded["memories"]?.isEmpty == true)
            }
            try await client.execute(uri: "/observations", method: .get) { response in
                #expect(response.text.contains("No observations yet"))
            }
            try await client.execute(uri: "/log?q=i2c", method: .get) { response in
                #expect(response.text.contains("i2c timeout"))
                #expect(!response.text.contains("<strong>shed.evil</strong>"))
            }
        }
    }

    @Test func metricsArePrometheusText() async throws {
        let fixture = try await ServerFixture()
        try await fixture.test { client in
            try await client.execute(uri: "/metrics", method: .get) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let text = response.text
                for name in ["smollama_database_bytes", "smollama_readings_stored", "smollama_ingest_readings_per_second",
                             "smollama_sensors_faulty", "smollama_sensor_faults{sensor=\"shed.temperature\"}"] {
                    #expect(text.contains(name), "\(name)")
                }
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.text == "ok\n")
            }
        }
    }

    /// `/api/v1/nodes/ID/…` for this node (resolved without reading its summary) answers what the
    /// node's own routes answer, as JSON with its length; an id that names no node is a 404.
    @Test func thisNodesNodeRoutesAnswerAsItsOwnRoutes() async throws {
        let fixture = try await ServerFixture()
        let record = ObservationRecord(
            id: "o-1", kind: "comfort", subjects: ["shed.temperature"], text: "Cool / calm, 12 °C", evidenceIDs: ["e/1"],
            importance: 0.5, generator: .rules, timeStart: ServerFixture.now - 3_600_000, timeEnd: ServerFixture.now - 60_000)
        _ = try await fixture.store.database.knowledge.record(
            record, origin: fixture.store.node, stamp: ServerFixture.stamp(ServerFixture.now - 40_000))
        let id = fixture.store.node.hex.uppercased()
        try await fixture.test { client in
            func get(_ uri: String) async throws -> (status: HTTPResponse.Status, body: String, type: String?, length: String?) {
                try await client.execute(uri: uri, method: .get) {
                    ($0.status, String(buffer: $0.body), $0.headers[.contentType], $0.headers[.contentLength])
                }
            }
            let pairs = [
                ("/api/v1/series?sensor=shed.temperature", "/api/v1/nodes/\(id)/series?sensor=shed.temperature"),
                ("/api/v1/series?sensor=shed.motion&range=30d", "/api/v1/nodes/\(id)/series?sensor=shed.motion&range=30d"),
                ("/api/v1/observations", "/api/v1/nodes/\(id)/observations"),
                ("/api/v1/memories", "/api/v1/nodes/\(id)/memories"),
            ]
            for (own, node) in pairs {
                let (mine, theirs) = (try await get(own), try await get(node))
                #expect(mine.status == .ok && theirs.status == .ok, "\(node)")
                #expect(theirs.body == mine.body, "\(node)")
                #expect(theirs.type == "application/json; charset=utf-8" && theirs.length == String(theirs.body.utf8.count))
            }
            #expect(try await get("/api/v1/nodes/\(id)/observations").body.contains(#""text":"Cool \/ calm, 12 °C""#))
            let missing = try await get("/api/v1/nodes/\(id)/series?sensor=nope")
            #expect(missing.status == .notFound && missing.body.contains(fixture.store.node.hex))
            #expect(try await get("/api/v1/nodes/\(id)/sync").status == .notFound, "this node does not sync to itself")
            for unknown in ["/api/v1/nodes/\(NodeID.random().hex)/observations", "/api/v1/nodes/not-hex/memories",
                            "/api/v1/nodes/\(NodeID.random().hex)/series?sensor=shed.temperature"] {
                #expect(try await get(unknown).status == .notFound, "\(unknown)")
            }
        }
    }
}
