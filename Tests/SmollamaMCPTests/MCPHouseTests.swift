import Foundation
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import Logging
import MCP
import NIOCore
import SmollamaCore
import SmollamaMCP
import SmollamaMind
import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing

@Suite struct MCPHouseTests {
    static func object(_ result: CallTool.Result) throws -> [String: Value] {
        guard case .text(let text, _, _)? = result.content.first else {
            Issue.record("no text content")
            return [:]
        }
        return try JSONDecoder().decode([String: Value].self, from: Data(text.utf8))
    }

    static func iso(_ time: UTCMillis?) -> Value { time.map { .string($0.iso8601(in: MCPFixture.zone)) } ?? .null }

    @Test func toolsAnswerWhatTheLibraryPathAnswersWithISOTimesAndCitedIDs() async throws {
        let fixture = try await MCPFixture()
        let house = fixture.house()
        let now = MCPFixture.now

        let history = try Self.object(try await house.call(
            "history", arguments: ["sensor": "living_room.temperature", "from": "6h"]))
        let direct = try await fixture.tools.history(sensor: "living_room.temperature", from: now - .seconds(6 * 3600), to: now)
        #expect(history["from"] == Self.iso(direct.from) && history["to"] == Self.iso(direct.to))
        #expect(history["resolution"] == .string(direct.resolution) && history["mean"] == direct.mean.map(Value.double))
        guard case .array(let points)? = history["points"] else { Issue.record("no points"); return }
        #expect(points.count == direct.points.count && !points.isEmpty)
        for (point, expected) in zip(points, direct.points) {
            guard case .object(let point) = point else { continue }
            #expect(point["start"] == Self.iso(expected.start) && point["count"] == .int(Int(expected.count)))
        }

        _ = try await fixture.tools.remember("The hallway.motion sensor is behind the coat rack.")
        let recalled = try Self.object(try await house.call("recall", arguments: ["query": "coat rack"]))
        let expected = try await fixture.tools.recall(RecallQuery(text: "coat rack", topK: 5)).hits.map(\.id)
        #expect(!expected.isEmpty)
        #expect(recalled["cited_ids"] == .array(expected.map(Value.string)))

        let state = try Self.object(try await house.call("current_state", arguments: ["sensors": ["hallway.motion"]]))
        #expect(state["now"] == Self.iso(now))
        let memories = try Self.object(try await house.call("memories", arguments: [:]))
        guard case .array(let cited)? = memories["cited_ids"] else { Issue.record("no cited ids"); return }
        #expect(cited.contains(where: { $0.stringValue.map(expected.contains) == true }))
    }

    @Test func rememberIsRefusedWithWritesOffAndNothingIsWritten() async throws {
        let fixture = try await MCPFixture()
        let house = fixture.house(allowWrites: false)
        #expect(!house.toolList.map(\.name).contains("remember"))
        let before = try await fixture.store.database.knowledge.memories(currentOnly: false, limit: 1000).count
        await #expect {
            _ = try await house.call("remember", arguments: ["text": "This must not be written."])
        } throws: { error in
            "\(error)".contains("mcp.allow_writes: false")
        }
        #expect(try await fixture.store.database.knowledge.memories(currentOnly: false, limit: 1000).count == before)
        #expect(fixture.house().toolList.map(\.name).contains("remember"))
    }

    @Test func anUnknownSensorOrNodeIsABadArgumentNamingIt() async throws {
        let fixture = try await MCPFixture()
        let house = fixture.house()
        for (tool, arguments, words) in [
            ("history", ["sensor": Value.string("attic.temperature")], "argument 'sensor': no sensor 'attic.temperature'"),
            ("history", ["sensor": "hallway.motion", "from": "1h", "to": "2h"], "'from' must be before 'to'"),
            ("current_state", ["sensors": ["attic.temperature"]], "argument 'sensors': no sensor"),
            ("observations", ["node": "nowhere"], "argument 'node': no node is 'nowhere'"),
            ("presence", ["room": "attic"], "argument 'room': no room 'attic'"),
        ] as [(String, [String: Value], String)] {
            await #expect(throws: MCPError.self) { _ = try await house.call(tool, arguments: arguments) }
            do {
                _ = try await house.call(tool, arguments: arguments)
            } catch {
                #expect("\(error)".contains(words), "\(tool): \(error)")
            }
        }
    }

    // MARK: - Streamable HTTP at /mcp

    static let ping = #"{"jsonrpc":"2.0","id":1,"method":"ping"}"#

    @Test func httpNeedsTheTokenAndRefusesOversizedAndMalformedRequests() async throws {
        let fixture = try await MCPFixture()
        try await fixture.app().test(.router) { client in
            func post(_ body: String, authorization: String?, host: String? = nil) async throws -> (HTTPResponse.Status, String) {
                var headers: HTTPFields = [.contentType: "application/json", .accept: "application/json, text/event-stream"]
                if let authorization { headers[.authorization] = authorization }
                return try await client.execute(uri: "/mcp", method: .post, headers: headers,
                                                body: ByteBuffer(string: body)) { response in
                    (response.status, String(buffer: response.body))
                }
            }
            let missing = try await post(Self.ping, authorization: nil)
            #expect(missing.0 == .unauthorized && missing.1.contains("Authorization: Bearer TOKEN"))
            let wrong = try await post(Self.ping, authorization: "Bearer not-the-token-0123456789")
            #expect(wrong.0 == .unauthorized && wrong.1.contains("does not match mcp.token"))
            let ok = try await post(Self.ping, authorization: "Bearer \(MCPFixture.token)")
            #expect(ok.0 == .ok && ok.1.contains(#""result":{}"#), "\(ok)")
            let big = try await post(String(repeating: "x", count: 5000), authorization: "Bearer \(MCPFixture.token)")
            #expect(big.0 == .contentTooLarge && big.1.contains("mcp.max_body_bytes"))
            let malformed = try await post(#"{"jsonrpc":"2.0","id":1,"meth"#, authorization: "Bearer \(MCPFixture.token)")
            #expect(malformed.0 == .badRequest && malformed.1.contains("-32700"), "\(malformed)")
            let call = try await post(
                #"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"history","arguments":{"sensor":"x.y"}}}"#,
                authorization: "Bearer \(MCPFixture.token)")
            #expect(call.0 == .ok && call.1.contains("-32602") && call.1.contains("argument 'sensor'"), "\(call)")
            try await client.execute(uri: "/mcp", method: .get, headers: [.authorization: "Bearer \(MCPFixture.token)"]) {
                #expect($0.status == .methodNotAllowed)
            }
        }
        // Without a token: only on a loopback-bound server, only to a loopback name.
        try await fixture.app(token: "", loopbackOnly: false).test(.router) { client in
            try await client.execute(uri: "/mcp", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: Self.ping)) { response in
                #expect(response.status == .forbidden && String(buffer: response.body).contains("set mcp.token"))
            }
        }
        try await fixture.app(token: "", loopbackOnly: true).test(.router) { client in
            try await client.execute(uri: "/mcp", method: .post,
                                     headers: [.contentType: "application/json", .accept: "application/json",
                                               HTTPField.Name("Host")!: "hub.example.org"],
                                     body: ByteBuffer(string: Self.ping)) { response in
                // Refused before /mcp's handler: 421 where the test router checks the name itself.
                #expect([.forbidden, .misdirectedRequest].contains(response.status), "\(response.status)")
                #expect(!String(buffer: response.body).contains(#""result""#))
            }
        }
    }

    @Test func theConfigRefusesAShortTokenOrTheDashboardsToken() throws {
        #expect(throws: ConfigProblem.self) { try MCPConfig(token: "short").check() }
        #expect(throws: ConfigProblem.self) { try MCPConfig(token: MCPFixture.token).check(dashboardToken: MCPFixture.token) }
        try MCPConfig(token: MCPFixture.token).check(dashboardToken: "another-token-0123456789")
        try MCPConfig().check(dashboardToken: "")
    }
}
