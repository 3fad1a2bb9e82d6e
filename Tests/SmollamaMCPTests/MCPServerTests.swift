import Foundation
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import Logging
import MCP
import SmollamaCore
import SmollamaMCP
import SmollamaMind
import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing

/// A store with two days of the simulated house and the house the MCP server answers from.
struct MCPFixture {
    static let now: UTCMillis = 1_796_000_000_000
    static let zone = TimeZone(identifier: "Europe/Berlin")!
    static let token = "mcp-token-0123456789abcdef"
    let store: TestStore
    let tools: MindTools

    init() async throws {
        store = try await TestStore()
        try await store.fillWithSimulatedHouse(seed: 7, from: Self.now - .seconds(2 * 86_400), to: Self.now,
                                               step: .seconds(300))
        let now = Self.now
        tools = MindTools(
            database: store.database,
            recall: Recall(database: store.database, embedder: nil, vectorSearch: .off, logger: .quiet, now: { now }),
            node: store.node, indexer: nil, logger: .quiet, now: { now }, stamp: { .test(now.rawValue) })
    }

    func house(allowWrites: Bool = true) -> House {
        let now = Self.now
        return House(tools: tools, nodeName: "test", isHub: false, timeZone: Self.zone, areas: [:],
                     windowLength: .seconds(900), allowWrites: allowWrites, logger: .quiet, now: { now })
    }

    func app(token: String = Self.token, loopbackOnly: Bool = true, allowWrites: Bool = true,
             maxBodyBytes: Int = 4096) -> some ApplicationProtocol {
        let router = Router(context: BasicRequestContext.self)
        let mount = MCPRoutes(house: house(allowWrites: allowWrites),
                              config: MCPConfig(allowWrites: allowWrites, token: token, maxBodyBytes: maxBodyBytes),
                              loopbackOnly: loopbackOnly).mount
        router.addRoutes(mount.routes, atPath: RouterPath(mount.path))
        return Application(router: router)
    }
}

@Suite struct MCPArgumentTests {
    static let types: [(String, any ToolArguments.Type)] = [
        ("recall", RecallArguments.self), ("history", HistoryArguments.self), ("current_state", CurrentStateArguments.self),
        ("observations", ObservationsArguments.self), ("memories", MemoriesArguments.self),
        ("presence", PresenceArguments.self), ("remember", RememberArguments.self),
    ]

    static func sample(_ type: ArgumentType) -> Value {
        switch type {
        case .string: "x"
        case .text: "some words"
        case .boolean: true
        case .integer(let range): .int(range.upperBound)
        case .strings: ["a", "b"]
        case .choice(let values): .string(values[values.count - 1])
        case .time: "24h"
        }
    }

    /// The schema a client sees and the Swift type the call decodes into are one description:
    /// every field decodes into the type and encodes back under the same name.
    @Test(arguments: types.map(\.0))
    func everyArgumentTypeDecodesFromItsOwnSchema(tool: String) throws {
        let type = try #require(Self.types.first { $0.0 == tool }?.1)
        let names = Set(type.fields.map(\.name))
        guard case .object(let schema) = type.inputSchema, case .object(let properties)? = schema["properties"],
              case .array(let required)? = schema["required"]
        else { Issue.record("\(tool): the schema is not an object with properties"); return }
        #expect(Set(properties.keys) == names)
        #expect(Set(required.compactMap(\.stringValue)) == Set(type.fields.filter(\.required).map(\.name)))
        let arguments = Dictionary(uniqueKeysWithValues: type.fields.map { ($0.name, Self.sample($0.type)) })
        let decoded = try type.decode(arguments, tool: tool)
        let encoded = try JSONDecoder().decode([String: Value].self, from: JSONEncoder().encode(decoded))
        #expect(Set(encoded.keys) == names, "\(tool): a field the schema names is not a property of the type")
        for (name, value) in arguments { #expect(encoded[name] == value, "\(tool).\(name)") }
    }

    @Test func badArgumentsAreRefusedNamingTheArgumentAndWhatItExpects() throws {
        func refusal(_ arguments: [String: Value]) -> String {
            do {
                _ = try RecallArguments.decode(arguments, tool: "recall")
                return "accepted"
            } catch let error as MCPError {
                #expect(error.code == -32602)
                return "\(error)"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal([:]).contains("argument 'query' is required: a non-empty string"))
        #expect(refusal(["query": "  "]).contains("argument 'query' must be a non-empty string"))
        #expect(refusal(["query": "x", "top": "many"]).contains("argument 'top' must be an integer from 1 to 100 (got \"many\")"))
        #expect(refusal(["query": "x", "top": 0]).contains("'top' must be an integer from 1 to 100"))
        #expect(refusal(["query": "x", "kind": "dream"]).contains("'kind' must be one of \"memory\", \"observation\""))
        #expect(refusal(["query": "x", "hours": 3]).contains("no argument 'hours'; its arguments are query, kind"))
        #expect(refusal(["query": "x", "sensors": [1]]).contains("'sensors' must be a list of strings"))
        #expect(refusal(["query": "x", "top": 3, "since": "7d"]) == "accepted")
    }

    @Test func timesAreISO8601WithTheZonesOffsetAtThatInstant() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for zone in ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham"] {
            formatter.timeZone = TimeZone(identifier: zone)!
            // Both sides of DST changes, midnights, leap days, before 1970, and odd milliseconds.
            for time: UTCMillis in [0, -1, -86_400_001, 951_782_400_000, 1_711_846_799_999, 1_711_846_800_000,
                                    1_730_595_600_123, 1_796_000_000_007, 4_102_444_800_000] {
                #expect(time.iso8601(in: TimeZone(identifier: zone)!) == formatter.string(from: time.date), "\(zone) \(time)")
            }
        }
        let encoder = JSONEncoder()
        encoder.userInfo[UTCMillis.iso8601Zone] = TimeZone(identifier: "Europe/Berlin")!
        #expect(String(decoding: try encoder.encode([UTCMillis(rawValue: 1_796_000_000_000)]), as: UTF8.self)
                == #"["2026-11-30T01:53:20.000+01:00"]"#)
        #expect(String(decoding: try JSONEncoder().encode([UTCMillis(rawValue: 5)]), as: UTF8.self) == "[5]")
    }

    @Test func toolTimesReadLikeTheCLIs() throws {
        let now = MCPFixture.now
        #expect(ToolTime.parse("24h", now: now) == now - .seconds(86_400))
        #expect(ToolTime.parse("2026-11-25T07:00:00+01:00", now: now) == UTCMillis(rawValue: 1_795_586_400_000))
        #expect(ToolTime.parse("2026-11-25T06:00:00.500Z", now: now) == UTCMillis(rawValue: 1_795_586_400_500))
        #expect(ToolTime.parse("2026-11-25", now: now) == UTCMillis(rawValue: 1_795_564_800_000))
        #expect(ToolTime.parse("1795586400000", now: now) == UTCMillis(rawValue: 1_795_586_400_000))
        #expect(ToolTime.parse("yesterday-ish", now: now) == nil)
    }
}
