import Foundation
import Logging
import SmollamaCore
import SmollamaLLM
import SmollamaMind
import SmollamaStore
import SmollamaTesting
import Synchronization

/// A store in a temp directory with sqlite-vec loaded when `withVec` (the test fails if setup
/// has not installed it: scripts/setup-llm.sh).
struct MindStore: Sendable {
    let directory: TemporaryDirectory
    let database: SmollamaDatabase
    let node: NodeID

    init(withVec: Bool = true) async throws {
        directory = try TemporaryDirectory("mind")
        var vec: String?
        if withVec {
            guard let path = VectorExtensionFile.locate(environment: ProcessInfo.processInfo.environment) else {
                throw MindSetupMissing()
            }
            vec = path
        }
        database = try SmollamaDatabase.open(path: directory.path + "/mind.sqlite", vectorExtension: vec)
        node = NodeID.random()
        try await database.meta.claim(for: node, incarnation: 1)
    }

    func stamp(_ time: UTCMillis) -> ClockStamp {
        .test(time, bootID: "b")
    }
}

struct MindSetupMissing: Error, CustomStringConvertible {
    var description: String {
        "sqlite-vec (vec0.so) was not found: run scripts/setup-llm.sh or set SMOLLAMA_VEC0"
    }
}

/// A deterministic embedder for tests: words (lowercased, plural 's' dropped) hashed into 64
/// signed dimensions, unit length. Counts its calls; can be switched off to act as a dead runtime.
final class WordHashEmbedder: Embedder, Sendable {
    let model: String
    let calls = Mutex(0)
    let failing = Mutex(false)

    init(model: String = "word-hash-64") { self.model = model }

    func dimension() async throws -> Int { 64 }

    func embed(_ texts: [String]) async throws -> EmbeddingResult {
        calls.withLock { $0 += 1 }
        if failing.withLock({ $0 }) {
            throw LLMError.unreachable(url: "http://127.0.0.1:1", backend: .openai, underlying: "test runtime is down")
        }
        return EmbeddingResult(model: model, vectors: texts.map(Self.vector), dimension: 64)
    }

    static func vector(_ text: String) -> [Float] {
        var vector = [Float](repeating: 0, count: 64)
        for raw in text.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber) }) {
            var word = String(raw)
            if word.count > 3, word.hasSuffix("s") { word.removeLast() }
            guard word.count > 2, !["the", "and", "for", "are", "what", "when", "does", "how", "usually"].contains(word)
            else { continue }
            var hash: UInt64 = 1_469_598_103_934_665_603
            for byte in word.utf8 { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
            vector[Int(hash % 64)] += (hash >> 32) & 1 == 0 ? 1 : -1
        }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }
}

/// Twenty-five memories on distinct topics and a question for each, asked in other words.
enum RecallFixture {
    static let memories: [(id: String, subjects: [String], text: String)] = [
        ("m01", ["hallway.motion"], "Motion in the hallway on weekdays is usually between 07:00 and 09:00."),
        ("m02", ["hallway.motion"], "On weekends the hallway sees motion mostly from 10:00 to 12:00."),
        ("m03", ["living_room.temperature"], "The living room is usually around 21 °C in the evening."),
        ("m04", ["kitchen.light"], "The kitchen light level peaks around noon at about 800 lux."),
        ("m05", ["front.door"], "The front door is almost never opened at night."),
        ("m06", ["bedroom.humidity"], "Bedroom humidity rises above 60 % after morning showers."),
        ("m07", ["garage.motion"], "The garage has no motion on most weekdays."),
        ("m08", ["cellar.temperature"], "The cellar stays cool, between 12 and 14 °C all year."),
        ("m09", ["living_room.motion"], "The cat sleeps in the living room on sunny afternoons."),
        ("m10", ["heating"], "The heating turns on at 06:30 on weekdays."),
        ("m11", ["greenhouse.temperature"], "The greenhouse gets warm quickly when the sun is out."),
        ("m12", ["presence"], "Nobody is home on Tuesdays and Thursdays between 09:00 and 17:00."),
        ("m13", ["bathroom.fan"], "The bathroom fan runs for about 20 minutes after each shower."),
        ("m14", ["pressure"], "Air pressure drops before storms."),
        ("m15", ["office.window"], "The office window is usually open in the afternoon in summer."),
        ("m16", ["front.door"], "The dog is walked every evening around 19:00."),
        ("m17", ["fridge.temperature"], "The fridge temperature stays between 3 and 5 °C."),
        ("m18", ["bedroom.co2"], "CO2 in the bedroom climbs overnight when the window is closed."),
        ("m19", ["washing_machine"], "The washing machine runs on Saturday mornings."),
        ("m20", ["attic.temperature"], "The attic gets very hot on summer afternoons."),
        ("m21", ["node"], "The Raspberry Pi node restarts every Sunday at 03:00 for software updates."),
        ("m22", ["balcony.soil"], "The plants on the balcony are watered every second day."),
        ("m23", ["nursery.sound"], "Noise in the nursery at night means the baby is awake."),
        ("m24", ["solar.power"], "The solar panels produce most power between 11:00 and 15:00."),
        ("m25", ["mailbox"], "The mailbox sensor triggers around 10:30 when the post arrives."),
    ]

    static let questions: [(question: String, expected: String)] = [
        ("When is there motion in the hallway on weekdays?", "m01"),
        ("When does the hallway see motion at the weekend?", "m02"),
        ("How warm is the living room in the evening?", "m03"),
        ("When is the kitchen light brightest?", "m04"),
        ("Is the front door opened at night?", "m05"),
        ("What happens to the bedroom humidity after a shower?", "m06"),
        ("Is there motion in the garage?", "m07"),
        ("How cool is the cellar?", "m08"),
        ("Where does the cat sleep?", "m09"),
        ("When does the heating come on?", "m10"),
        ("Does the greenhouse get warm in the sun?", "m11"),
        ("When is nobody home?", "m12"),
        ("How long does the bathroom fan run?", "m13"),
        ("What does air pressure do before a storm?", "m14"),
        ("When is the office window open?", "m15"),
        ("When is the dog walked?", "m16"),
        ("How cold is the fridge?", "m17"),
        ("Why does CO2 rise in the bedroom overnight?", "m18"),
        ("When does the washing machine run?", "m19"),
        ("How hot does the attic get?", "m20"),
        ("When does the node restart for updates?", "m21"),
        ("How often are the balcony plants watered?", "m22"),
        ("What does noise in the nursery mean?", "m23"),
        ("When do the solar panels produce power?", "m24"),
        ("When does the post arrive?", "m25"),
    ]

    static let created: UTCMillis = 1_795_000_000_000

    /// Writes the memories (all equally new and important, so relevance decides).
    static func seed(_ store: MindStore) async throws {
        for (index, memory) in memories.enumerated() {
            let record = MemoryRecord(
                id: memory.id, kind: "fact", subjects: memory.subjects, text: memory.text, confidence: 0.8,
                importance: 0.5, validFrom: created, createdAt: created, source: .user)
            try await store.database.knowledge.record(record, origin: store.node, stamp: store.stamp(created + Int64(index)))
        }
    }
}

/// Hands out increasing clock stamps; `set` moves it forward (never back).
final class MemoryStampCounter: Sendable {
    let value: Mutex<Int64>
    init(_ start: UTCMillis) { value = Mutex(start.rawValue) }
    func set(_ ms: Int64) { value.withLock { $0 = max($0, ms) } }
    func next() -> ClockStamp {
        let ms = value.withLock { current -> Int64 in
            current += 1
            return current
        }
        return .test(ms, bootID: "b")
    }
}
