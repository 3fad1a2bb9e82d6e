import Foundation
import Logging
import SmollamaCore
import SmollamaLLM
import SmollamaMind
import SmollamaSensors
import SmollamaStore
import SmollamaTesting
import Synchronization

/// Fixed instants of the simulated house's calendar (UTC, the house's default offset).
enum HouseTime {
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000
    /// Tuesday 2026-11-24 00:00 UTC: its 03:10 holds the planted hallway motion.
    static let tuesday: UTCMillis = 1_795_478_400_000
    /// Wednesday 2026-11-25 00:00 UTC: an ordinary weekday.
    static let wednesday: UTCMillis = tuesday + day
}

/// Five simulated weekdays, Monday to Friday of the planted Tuesday's week, of the house with the
/// study measured by CO₂ and light only: what the schedule, range and usual-question tests learn
/// from. Returns the house's options (its ground truth), its Monday and the end of the Friday.
func seedFiveWeekdays(_ store: TestStore) async throws
    -> (house: SimulatedHouseDriver.Options, monday: UTCMillis, end: UTCMillis)
{
    var house = SimulatedHouseDriver.Options()
    house.airRooms = ["study"]
    let monday = HouseTime.tuesday - HouseTime.day
    let end = monday + 5 * HouseTime.day
    try await seedSimulatedHouse(store, from: monday, to: end, house: house)
    return (house, monday, end)
}

/// Writes the simulated house's readings for `[start, end)` at `step`, as backfill does (binary
/// sensors only on change or every 5 minutes), then rolls everything up.
func seedSimulatedHouse(_ store: TestStore, from start: UTCMillis, to end: UTCMillis, step: Int64 = 60_000,
                        house: SimulatedHouseDriver.Options = .init()) async throws {
    let driver = SimulatedHouseDriver(options: house)
    let registered = try await store.database.readings.registerSensors(driver.sensors, driver: driver.name, now: start)
    let rows = Dictionary(uniqueKeysWithValues: registered.map { ($0.descriptor.id, $0) })
    var last: [SensorID: (value: Double, time: UTCMillis)] = [:]
    var batch: [PendingReading] = []
    var time = start
    while time < end {
        for sample in driver.samples(at: time.rawValue) {
            guard let sensor = rows[sample.sensor] else { continue }
            if sensor.descriptor.kind == .binary, let previous = last[sample.sensor], previous.value == sample.value,
               time - previous.time < .seconds(5 * 60) { continue }
            last[sample.sensor] = (sample.value, time)
            batch.append(PendingReading(sensorRowID: sensor.rowID, value: sample.value, stamp: houseStamp(time)))
        }
        if batch.count >= 20_000 {
            try await store.database.readings.commit(readings: batch, notices: [], origin: store.node)
            batch.removeAll(keepingCapacity: true)
        }
        time += step
    }
    try await store.database.readings.commit(readings: batch, notices: [], origin: store.node)
    try await store.database.readings.rollUpAll()
}

func houseStamp(_ time: UTCMillis) -> ClockStamp {
    .test(time, bootID: "house", monotonicNanoseconds: 1)
}

/// A clock for observation stamps: strictly increasing, so re-recorded observations win.
final class StampCounter: Sendable {
    private let next = Mutex<Int64>(0)
    init(start: Int64) { next.withLock { $0 = start } }
    func stamp() -> ClockStamp {
        next.withLock { value in
            value += 1
            return houseStamp(UTCMillis(rawValue: value))
        }
    }
}

/// A narrator that replies with scripted text (or throws), recording what it was asked.
final class ScriptedNarrator: ObservationNarrator, Sendable {
    enum Reply: Sendable {
        case text(String)
        case failure(LLMError)
    }

    private let state: Mutex<(replies: [Reply], fallback: Reply, requests: [ChatRequest])>

    init(_ replies: [Reply] = [], otherwise fallback: Reply) {
        state = Mutex((replies, fallback, []))
    }

    var requests: [ChatRequest] { state.withLock { $0.requests } }

    func setFallback(_ reply: Reply) { state.withLock { $0.fallback = reply } }

    func narrate(_ request: ChatRequest, onToken: @escaping @Sendable (String) async -> Void) async throws -> ChatResponse {
        let reply = state.withLock { state -> Reply in
            state.requests.append(request)
            return state.replies.isEmpty ? state.fallback : state.replies.removeFirst()
        }
        switch reply {
        case .failure(let error):
            throw error
        case .text(let text):
            for piece in text.split(separator: " ", omittingEmptySubsequences: false) { await onToken(piece + " ") }
            return ChatResponse(model: "scripted", message: .assistant(text), finishReason: .stop,
                                usage: Usage(promptTokens: 100, completionTokens: 40))
        }
    }
}

/// One observation as JSON the way the model would write it.
func replyJSON(_ drafts: [ObservationDraft]) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: (try? encoder.encode(ObservationReply(observations: drafts))) ?? Data(), as: UTF8.self)
}

/// Maps texts to fixed unit vectors: texts in the same group are similar (cosine 1), others orthogonal.
struct GroupEmbedder: Embedder {
    var model = "groups"
    var groups: [[String]]

    func embed(_ texts: [String]) async throws -> EmbeddingResult {
        let dimension = groups.count + texts.count + 1
        let vectors = texts.enumerated().map { offset, text -> [Float] in
            var vector = [Float](repeating: 0, count: dimension)
            let group = groups.firstIndex { $0.contains(text) } ?? (groups.count + offset)
            vector[group] = 1
            return vector
        }
        return EmbeddingResult(model: model, vectors: vectors, dimension: dimension)
    }

    func dimension() async throws -> Int { groups.count + 1 }
}

func observationLoop(_ store: TestStore, narrator: (any ObservationNarrator)?, embedder: (any Embedder)? = nil,
                     config: ObserveConfig = .init(), thoughts: @escaping @Sendable (ThoughtEvent) async -> Void = { _ in },
                     stamps: StampCounter = StampCounter(start: (HouseTime.wednesday + 7 * HouseTime.day).rawValue)) -> ObservationLoop {
    ObservationLoop(
        database: store.database, origin: store.node, builder: EvidenceBuilder(database: store.database),
        narrator: narrator, embedder: embedder, settings: ObservationLoopSettings(config: config),
        stamp: { stamps.stamp() }, thoughts: thoughts, logger: .quiet)
}
