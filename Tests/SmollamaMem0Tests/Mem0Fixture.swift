import Foundation
import Synchronization
import Testing
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SmollamaCore
import SmollamaLLM
@testable import SmollamaMem0
import SmollamaServer
import SmollamaStore
import SmollamaTesting

/// A hub store, its clock, the mem0 API over it, and a second node ("garage") whose memories
/// arrive as synced events.
struct Mem0Fixture {
    static let apiKey = "mem0-test-api-key-0123456789"
    static let adminKey = "mem0-test-admin-key-0123456789"
    static let start: UTCMillis = 1_800_000_000_000

    let store: TestStore
    let clockSource: TestClockSource
    let clock: NodeClock
    let garage = NodeID.random()
    let memory: SharedMemory
    let searcher: WordSearcher

    var hub: NodeID { store.node }
    var database: SmollamaDatabase { store.database }

    init(extractor: (any FactExtracting)? = nil, withSearch: Bool = true) async throws {
        store = try await TestStore()
        try await store.database.meta.setHub(store.node)  // as `NodeRuntime.open` does on the hub
        clockSource = TestClockSource(wall: Self.start.rawValue)
        clock = NodeClock(source: clockSource, persisted: nil)
        searcher = WordSearcher(database: store.database)
        let node = store.node
        let garage = garage
        memory = SharedMemory(
            database: store.database, node: node, clock: clock,
            directory: StaticNodeDirectory(names: [node: "hub", garage: "garage"]),
            extractor: extractor, searcher: withSearch ? searcher : nil)
    }

    func api(http: HTTPConfig = HTTPConfig(), adminKey: String = Self.adminKey) throws -> some ApplicationProtocol {
        try buildApplication(
            environment: DashboardEnvironment(
                node: NodeInfo(id: hub, name: "hub", role: "llama"), database: database, databasePath: nil, http: http,
                now: { Self.start }),
            logger: .quiet,
            mounts: [Mem0API(memory: memory, config: Mem0Config(apiKey: Self.apiKey, adminKey: adminKey)).mount])
    }

    /// A memory written on the garage node and synced to the hub (an event of the garage's origin).
    @discardableResult
    func garageMemory(_ text: String, seq: Int64, kind: String = "routine", subjects: [String] = ["garage.motion"])
        async throws -> MemoryRecord
    {
        let record = MemoryRecord(
            id: garage.newRecordID(), kind: kind, subjects: subjects, text: text, confidence: 0.8, importance: 0.6,
            validFrom: Self.start - 86_400_000, createdAt: Self.start - 3_600_000, source: .reflection)
        let event = try Event(
            origin: garage, seq: seq, stamp: .test(Self.start - 3_600_000 + seq, bootID: "garage-boot"),
            body: .memoryVersion(record))
        _ = try await database.events.apply(event)
        return record
    }

    /// How many memory version events the store holds (nothing changed = same count).
    func versionCount() async throws -> Int {
        try await database.events.eventCounts(streams: [.memories])[.memories] ?? 0
    }
}

/// A test stand-in for the recall engine: scores memories by the share of query words they hold.
/// Records what it was asked, so tests can check the node scoping reached it.
final class WordSearcher: MemorySearching, Sendable {
    let database: SmollamaDatabase
    let asked = Mutex<[[NodeID]?]>([])

    init(database: SmollamaDatabase) { self.database = database }

    func searchMemories(_ query: String, origins: [NodeID]?, limit: Int) async throws -> [ScoredMemoryID] {
        asked.withLock { $0.append(origins) }
        let words = Set(query.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init))
        var hits: [ScoredMemoryID] = []
        for stored in try await database.knowledge.memories(currentOnly: true, limit: 10_000) {
            if let origins, !origins.contains(stored.firstOrigin) { continue }
            let text = Set(stored.record.text.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init))
            let score = Double(words.intersection(text).count) / Double(max(words.count, 1))
            if score > 0 { hits.append(ScoredMemoryID(id: stored.record.id, score: score)) }
        }
        return Array(hits.sorted { ($0.score, $0.id) > ($1.score, $1.id) }.prefix(limit))
    }
}

/// An extractor that returns fixed facts (the live model is exercised by the live suite).
struct FixedExtractor: FactExtracting {
    var facts: [String]
    func extract(from messages: [ExtractionMessage]) async throws -> [ExtractedFact] {
        facts.map { ExtractedFact(text: $0, subjects: ["kitchen"], provenance: "fixed-model; \(messages.count) messages") }
    }
}

extension TestResponse {
    var json: JSONValue { (try? JSONValue(parsing: String(buffer: body))) ?? .null }
}

extension TestClientProtocol {
    /// A mem0 call with the API key (or `key`), JSON in and out.
    @discardableResult
    func mem0(_ method: HTTPRequest.Method, _ path: String, _ body: JSONValue? = nil, key: String? = Mem0Fixture.apiKey,
              header: HTTPField.Name = HTTPField.Name("X-API-Key")!, status: HTTPResponse.Status = .ok,
              sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSONValue {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key { headers[header] = header == .authorization ? "Token \(key)" : key }
        return try await execute(uri: "/mem0" + path, method: method, headers: headers,
                                 body: body.map { ByteBuffer(string: $0.jsonString) }) { response in
            #expect(response.status == status, "\(method) \(path): \(String(buffer: response.body))",
                    sourceLocation: sourceLocation)
            #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
            return response.json
        }
    }
}

/// The shared memory called with mem0 bodies as JSON and answering JSON, decoded and encoded as
/// the routes do (tests write bodies the way clients send them).
struct Mem0JSONCalls {
    let memory: SharedMemory

    func add(_ body: JSONValue) async throws -> JSONValue { try json(await memory.add(try request(body))) }
    func update(id: String, body: JSONValue) async throws -> JSONValue {
        try json(await memory.update(id: id, try request(body)))
    }
    func search(_ body: JSONValue) async throws -> JSONValue { try json(await memory.search(try request(body))) }
    func get(id: String) async throws -> JSONValue { try json(await memory.get(id: id)) }
    func history(id: String) async throws -> JSONValue { try json(await memory.history(id: id)) }
    func list(scope: Mem0Scope, filters: Mem0Filter, limit: Int, showExpired: Bool) async throws -> JSONValue {
        try json(await memory.list(scope: scope, filters: filters, limit: limit, showExpired: showExpired))
    }

    private func request<T: Decodable>(_ body: JSONValue) throws -> T {
        try Mem0Body.decode(T.self, from: Data(body.jsonString.utf8))
    }

    private func json(_ value: some Encodable) throws -> JSONValue {
        try JSONValue(parsing: String(decoding: try mem0JSON(value), as: UTF8.self))
    }
}

extension SharedMemory {
    var json: Mem0JSONCalls { Mem0JSONCalls(memory: self) }
}
