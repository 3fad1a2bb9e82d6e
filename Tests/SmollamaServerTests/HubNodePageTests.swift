import Foundation
import Hummingbird
import HummingbirdTesting
import SmollamaCore
@testable import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing

/// `/nodes/ID` on a hub for a node that synced to it: that node's sensors (not the hub's), charts
/// from its rollups, its observations and memories, its sync state; hostile names inert.
@Suite struct HubNodePageTests {
    static let hostileKey = #"garage.<img src=x onerror=alert(1)>"#

    /// The server fixture as a hub, with one enrolled node whose name, sensor key, observation and
    /// memory are hostile; its readings (a day, one a minute) arrive through the hub's push path.
    static func hub(http: HTTPConfig = HTTPConfig()) async throws -> (fixture: ServerFixture, node: NodeID) {
        let fixture = try await ServerFixture(http: http, nodeName: "hub", role: "llama")
        let hub = fixture.store.database
        let node = NodeID.random()
        let now = ServerFixture.now
        try await hub.hubSync.createToken(hash: "token", createdAt: now - 60_000, expiresAt: now + 60_000)
        try await hub.hubSync.enroll(tokenHash: "token", node: node, name: "garage " + ServerFixture.evil,
                                     publicKey: [UInt8](repeating: 7, count: 32), incarnation: 1, now: now - 60_000)
        var batch = ReadingBatch(
            sensors: ["garage.temperature", hostileKey],
            epochs: [.init(id: 1, bootID: "garage-boot", quality: "synced", startedHLC: 0, startedMonotonicNanoseconds: 0)])
        var time = now - .seconds(86_400)
        var id: Int64 = 0
        while time < now {
            id += 1
            batch.rows.append(.init(id: id, sensor: 0, time: time.rawValue, value: 10 + Double(id % 7), epoch: 0))
            id += 1
            batch.rows.append(.init(id: id, sensor: 1, time: time.rawValue, value: 1, epoch: 0))
            time = time + .seconds(60)
        }
        _ = try await hub.hubSync.pushReadings(batch, origin: node, stream: .readings, from: 1, to: id, now: now)
        let observation = ObservationRecord(
            id: "o-1", kind: "comfort", subjects: ["garage.temperature"], text: "Warm " + ServerFixture.evil, evidenceIDs: [],
            importance: 0.5, generator: .rules, timeStart: now - 3_600_000, timeEnd: now - 60_000)
        let memory = MemoryRecord(
            id: "m-1", kind: "routine", subjects: ["garage.temperature"], text: "Remembered " + ServerFixture.evil,
            confidence: 0.8, importance: 0.5, validFrom: now - 86_400_000, createdAt: now - 60_000, source: .reflection)
        _ = try await hub.events.apply(try Event(origin: node, seq: 1, stamp: .test(now.rawValue - 60_000), body: .observation(observation)))
        _ = try await hub.events.apply(try Event(origin: node, seq: 1, stamp: .test(now.rawValue - 50_000), body: .memoryVersion(memory)))
        return (fixture, node)
    }

    @Test func aSyncedNodesPageShowsItsOwnSensorsChartsAndEntries() async throws {
        let (fixture, node) = try await Self.hub()
        try await fixture.test { client in
            try await client.execute(uri: "/api/v1/nodes/\(node.hex)", method: .get) { response in
                #expect(response.status == .ok)
                let detail = try response.json(NodeDetail.self)
                #expect(detail.sensors.map(\.sensor.id.rawValue) == [Self.hostileKey, "garage.temperature"], "by key")
                #expect(detail.node.sensorCount == 2)
            }
            try await client.execute(uri: "/api/v1/nodes/\(node.hex)/series?sensor=garage.temperature&range=24h", method: .get) {
                response in
                let series = try response.json(Series.self)
                #expect(series.points.count >= 287 && series.points.allSatisfy { $0.count == 5 })
                #expect(series.points.compactMap(\.min).min() == 10 && series.points.compactMap(\.max).max() == 16)
            }
            try await client.execute(uri: "/api/v1/nodes/\(node.hex)/series?sensor=shed.temperature", method: .get) { response in
                #expect(response.status == .notFound, "the hub's own sensor is not the node's")
            }
            try await client.execute(uri: "/api/v1/nodes/\(node.hex)/observations", method: .get) { response in
                #expect(response.text.contains("o-1") && !response.text.contains("m-1"))
            }
            try await client.execute(uri: "/api/v1/nodes/\(node.hex)/memories", method: .get) { response in
                #expect(response.text.contains("Remembered"))
            }
            try await client.execute(uri: "/api/v1/nodes/\(node.hex)/sync", method: .get) { response in
                #expect(response.status == .ok && response.text.contains("\"readings\"") && response.text.contains("\(2 * 1440)"),
                        "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/nodes/\(fixture.store.node.hex)/sync", method: .get) { response in
                #expect(response.status == .notFound)
            }
            try await client.execute(uri: "/nodes/\(node.hex)?range=7d", method: .get) { response in
                let page = response.text
                #expect(response.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
                #expect(page.contains("id=\"s-garage.temperature\"") && !page.contains("s-shed.temperature"))
                #expect(page.components(separatedBy: "<svg class=\"chart\"").count == 3, "one chart per sensor of the node")
                #expect(page.contains("Held up to") && page.contains("Warm ") && page.contains("Remembered "))
                #expect(page.contains("?range=7d\" aria-current=\"page\""))
            }
        }
    }

    @Test func hostileNodeSensorAndEntryTextRenderInert() async throws {
        let (fixture, node) = try await Self.hub()
        try await fixture.test { client in
            for path in ["/nodes/\(node.hex)", "/nodes/\(node.hex)?range=30d", "/"] {
                try await client.execute(uri: path, method: .get) { response in
                    let page = response.text
                    #expect(!page.contains("<script>alert"), "\(path)")
                    #expect(!page.contains("<img src=x"), "\(path)")
                    #expect(page.components(separatedBy: "<script").count == 2, "\(path): only the embedded script file")
                }
            }
            try await client.execute(uri: "/nodes/\(node.hex)", method: .get) { response in
                #expect(response.text.contains("garage &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;"))
                #expect(response.text.contains("garage.&lt;img src=x onerror=alert(1)&gt;"))
            }
        }
    }
}
