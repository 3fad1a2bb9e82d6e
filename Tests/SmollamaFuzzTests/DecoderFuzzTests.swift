import Foundation
import SmollamaCore
import SmollamaLLM
@testable import SmollamaMem0
import SmollamaMQTT
import SmollamaNode
import SmollamaStore
@testable import SmollamaSync
import SmollamaTesting
import Testing

/// Issue 18, fuzzing: every input from the wire or the config file either decodes or is refused
/// with a sentence — never a crash, a trap or a hang. Seeded (`Fuzz.seed`), 20 000 inputs per
/// target (5 000 for the config loader); `SMOLLAMA_FUZZ_SCALE=10 swift test --filter
/// DecoderFuzzTests` is the longer run.
@Suite(.serialized) struct DecoderFuzzTests {
    struct FullDisk: Error {}

    /// The hub's push path after authentication: decode, validate, apply in a transaction that is
    /// then rolled back (a full disk at commit), so every input meets the store as the first did.
    /// A refusal must be a `SyncRefusal` naming the problem; any other error reaching the hub
    /// (a constraint the validator missed) is a failure.
    @Test func syncPushDecoder() async throws {
        let store = try await TestStore()
        let hubNode = NodeID.random()
        let hub = SyncHub(database: store.database, hubNode: hubNode, hubName: "hub",
                          key: try SyncKey(seed: Array(repeating: 7, count: 32)), logger: .quiet,
                          now: { UTCMillis(rawValue: 1_796_000_000_000) }, beforeCommit: { throw FullDisk() })
        let node = NodeID(hex: "0123456789abcdef0123456789abcdef") ?? NodeID.random()
        try await Fuzz.run("sync push", corpus: try Self.pushCorpus(node: node)) { body in
            let request = VerifiedSyncRequest(node: node, body: body, path: SyncProtocol.Path.push, nonce: "fuzz")
            do {
                _ = try await hub.push(request)
                return .accepted
            } catch let refusal as SyncRefusal {
                return .refused(refusal.message)
            } catch is FullDisk {
                return .accepted  // valid all the way to the commit
            } catch {
                Issue.record("a push body reached the store unvalidated (\(error)): \(Fuzz.preview(body))")
                return .refused("\(error)")
            }
        }
        // The zlib layer under it: a damaged deflate stream is refused, never inflated past the
        // declared length (the input's first two bytes, as the raw-length header declares it).
        let compressed = try Self.pushCorpus(node: node).map { plain in
            [UInt8(plain.count >> 8), UInt8(plain.count & 0xFF)] + (try Deflate.compress(plain))
        }
        try await Fuzz.run("sync inflate", corpus: compressed) { input in
            guard input.count > 2 else { return .refused("the input is too short to declare a length") }
            let length = Int(input[0]) << 8 | Int(input[1])
            do {
                let plain = try Deflate.decompress(Array(input.dropFirst(2)), length: length)
                #expect(plain.count <= length)
                return .accepted
            } catch {
                return .refused("\(error)")
            }
        }
    }

    /// Readings and events as a node pushes them, plus odd but valid shapes.
    static func pushCorpus(node: NodeID) throws -> [[UInt8]] {
        var columns = ReadingColumns()
        columns.sensors = ["room.temp", "door"]
        columns.epochs = [WireEpoch(id: 1, bootID: "boot", quality: "synced", startedHLC: 1_796_000_000_000, startedMonotonicNanoseconds: 5)]
        columns.id = [1, 1, 1, 2]
        columns.sensor = [0, 1, 0, 1]
        columns.time = [1_796_000_000_000, 1000, 1000, 5]
        columns.value = [21.5, 1, 21.75, 0]
        columns.epoch = [0, 0, 0, 0]
        let readings = PushRequest(node: node, stream: .readings, fromSeq: 1, toSeq: 5, events: nil, readings: columns)
        let stamp = ClockStamp(hlc: HLCTimestamp(milliseconds: 1_796_000_000_000, counter: 3), bootID: "boot",
                               monotonicNanoseconds: 9, quality: .synced)
        let notice = try Event(origin: node, seq: 1, stamp: stamp,
                               body: .sensorFault(Notice.SensorFault(sensor: "room.temp", reason: "timeout", consecutiveFailures: 3)))
        let notices = PushRequest(node: node, stream: .notices, fromSeq: 1, toSeq: 1, events: [notice], readings: nil)
        let memory = try Event(origin: node, seq: 1, stamp: stamp, body: .memoryVersion(MemoryRecord(
            id: node.newRecordID(), kind: "fact", subjects: ["kitchen"], text: "The kitchen is warm", confidence: 0.9,
            importance: 0.5, validFrom: UTCMillis(rawValue: 1_796_000_000_000), createdAt: UTCMillis(rawValue: 1_796_000_000_000),
            source: .api)))
        let memories = PushRequest(node: node, stream: .memories, fromSeq: 1, toSeq: 1, events: [memory], readings: nil)
        return try [readings, notices, memories].map { try SyncJSON.encode($0) }
    }

    /// A Zigbee2MQTT/Tasmota message, a plain number, a binary word: a value or a named problem.
    @Test func mqttPayloadParser() async throws {
        let extractors = [
            PayloadExtractor(path: "temperature", kind: .numeric),
            PayloadExtractor(path: "BME280.Temperature", kind: .numeric),
            PayloadExtractor(path: "a.0.b", kind: .numeric),
            PayloadExtractor(path: "", kind: .numeric),
            PayloadExtractor(path: "contact", kind: .binary),
            PayloadExtractor(path: "", kind: .binary, maxPayload: 256),
        ]
        let corpus: [[UInt8]] = [
            #"{"temperature":21.5,"humidity":40,"battery":97,"linkquality":120}"#,
            #"{"Time":"2026-12-06T10:00:00","BME280":{"Temperature":19.2,"Humidity":51.0},"TempUnit":"C"}"#,
            #"{"a":[{"b":3},{"b":"4.5"}]}"#, "21.25", " -3e2 ", "ON", "off", #"{"contact":false}"#, #"{"contact":"OPEN"}"#,
        ].map { Array($0.utf8) }
        var index = 0
        try await Fuzz.run("mqtt payload", corpus: corpus) { payload in
            index += 1
            switch extractors[index % extractors.count].value(from: payload) {
            case .success(let value):
                #expect(value.isFinite, "a payload gave \(value): \(Fuzz.preview(payload))")
                return .accepted
            case .failure(let problem):
                return .refused(problem.description)
            }
        }
    }

    /// mem0 bodies for add, update, search and list (and a query-string filter): a typed request,
    /// or a 400 whose sentence names the field.
    @Test func mem0RequestDecoder() async throws {
        let corpus: [[UInt8]] = [
            #"{"messages":[{"role":"user","content":"I like the kitchen at 21 degrees"}],"user_id":"alice","infer":false,"metadata":{"category":"comfort","subjects":["kitchen.temperature"],"confidence":0.8}}"#,
            #"{"messages":"Close the garage door by 22:00","agent_id":"garage","run_id":"r1"}"#,
            #"{"text":"I like the kitchen at 20 degrees","metadata":{"valid_to":"2027-01-01T00:00:00Z"}}"#,
            #"{"query":"motion in the garage","agent_id":"garage","filters":{"kind":{"in":["routine","fact"]},"subjects":{"contains":"garage.motion"}},"top_k":5,"threshold":0.2}"#,
            #"{"filters":{"user_id":"alice","OR":[{"kind":"routine"},{"confidence":{"gte":0.8}}],"NOT":[{"x":"*"}]},"page":2,"page_size":10,"show_expired":true}"#,
        ].map { Array($0.utf8) }
        var index = 0
        try await Fuzz.run("mem0 request", corpus: corpus) { body in
            index += 1
            do {
                switch index % 5 {
                case 0: _ = try Mem0Body.decode(Mem0AddRequest.self, from: Data(body))
                case 1: _ = try Mem0Body.decode(Mem0UpdateRequest.self, from: Data(body))
                case 2: _ = try Mem0Body.decode(Mem0SearchRequest.self, from: Data(body))
                case 3: _ = try Mem0Body.decode(Mem0ListRequest.self, from: Data(body))
                default: _ = try Mem0Body.decode(Mem0Filter.self, from: Data(body))
                }
                return .accepted
            } catch let error as Mem0Error {
                return .refused(error.detail)
            } catch {
                Issue.record("a mem0 body was refused with \(type(of: error)), not a Mem0Error: \(error)")
                return .refused("\(error)")
            }
        }
    }

    /// `config.yaml` as `smollama init` writes it, with drivers and odd YAML: a config or an
    /// error naming the key.
    @Test func configLoader() async throws {
        let corpus: [[UInt8]] = [
            ConfigTemplate.render(name: "kitchen", role: .alpaca, sensors: .demo),
            ConfigTemplate.render(name: "hub", role: .llama, sensors: .detected([]), mem0Keys: (api: "k-0123456789abcdef", admin: "a-0123456789abcdef")),
            "sensors:\n  drivers:\n    - driver: simulated_house\n      rooms: [kitchen, hall]\n    - driver: system\n      timeout: 5s\nstore:\n  batch_size: 10\n",
            "mqtt:\n  enabled: true\n  host: broker.local\n  sensors:\n    - topic: zigbee2mqtt/kitchen\n      path: temperature\n      id: kitchen.temp\n",
            "sync:\n  enabled: true\n  hub: \"http://hub.local:8080\"\n  interval: 30s\nlog:\n  level: debug\n",
        ].map { Array($0.utf8) }
        // Found by this run: a duration past Int64's range trapped on its way to milliseconds.
        for duration in ["1e19s", "99999999999999999999", "1e300d", "-5"] {
            #expect(throws: NodeError.self) { try ConfigLoader.parse("sync:\n  interval: \(duration)\n") }
        }
        var index = 0
        // A quarter of the inputs: one YAML parse and strict decode costs ~7 ms in a debug build,
        // and the CI budget for all four targets is 2 minutes.
        try await Fuzz.run("config", corpus: corpus, count: Fuzz.count / 4) { bytes in
            index += 1
            let text = String(decoding: bytes, as: UTF8.self)
            // One input in 20 also lays its first line over the file as a `--set` flag and an
            // environment variable (building the layering reader costs ~10 ms in a debug build).
            let line = text.split(separator: "\n").first.map(String.init) ?? ""
            let layered = index % 20 == 0
            do {
                _ = try ConfigLoader.parse(text, file: "fuzz.yaml",
                                           environment: layered ? ["SMOLLAMA_LOG_LEVEL": line] : [:],
                                           overrides: layered ? [line.replacingOccurrences(of: ": ", with: "=")] : [])
                return .accepted
            } catch let error as NodeError {
                return .refused(error.description)
            } catch {
                Issue.record("the config loader threw \(type(of: error)), not a NodeError naming the key: \(error)")
                return .refused("\(error)")
            }
        }
    }
}
