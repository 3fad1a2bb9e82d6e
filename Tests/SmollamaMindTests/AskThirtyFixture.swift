import Foundation
import Logging
import SmollamaCore
import SmollamaLLM
import SmollamaSensors
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaMind

/// The simulated house the thirty `ask` questions are asked over: Monday 00:00 to Wednesday
/// 10:00 (UTC) with three rooms with motion sensors, a hallway door and an air-only study;
/// reflection over the two full weekdays; observations from Tuesday 22:00 to now. Built once
/// per suite (`AskThirtyHouse.shared`), and every truth is computed from its store and its
/// simulator, never written down.
struct AskThirtyHouse: Sendable {
    typealias T = HouseTime
    static let now = T.wednesday + 10 * T.hour
    static let rooms = ["living_room", "hallway", "office"]
    static let airRoom = "study"
    static let options: SimulatedHouseDriver.Options = {
        var options = SimulatedHouseDriver.Options()
        options.rooms = rooms
        options.airRooms = [airRoom]
        return options
    }()
    /// Last night: Tuesday 22:00 – Wednesday 06:00.
    static let night = (from: T.wednesday - 2 * T.hour, to: T.wednesday + 6 * T.hour)
    static let today = (from: T.wednesday, to: now)
    /// "at 03:00" in a question: the hour from 03:00 today.
    static let threeAM = (from: T.wednesday + 3 * T.hour, to: T.wednesday + 4 * T.hour)

    let store: TestStore
    let asker: Asker
    let truth: Truth

    static let shared = Task { try await AskThirtyHouse.build() }

    /// What the store (and, for occupancy, the simulator) says, computed once.
    struct Truth: Sendable {
        var nightMotion: Set<String> = []
        var hallwayMotionAt3: Bool = false
        var temperatures: [String: Double] = [:]
        var livingHumidity = 0.0
        var studyCO2 = 0.0
        var doorOpeningsToday = 0
        var officeSchedule: StoredMemory?
        var livingEveningRange: StoredMemory?
        /// Observations about a hallway sensor, newest first.
        var hallwayObservations: [StoredObservation] = []
        var nightObservations: [StoredObservation] = []
        /// Ground truth: someone is in the living room for most of the last 15 minutes.
        var livingOccupiedNow = false
        /// Ground truth: minutes the study was occupied yesterday (Tuesday).
        var studyMinutesYesterday = 0.0

        var warmest: (room: String, value: Double) {
            temperatures.map { ($0.key, $0.value) }.max { ($0.1, $1.0) < ($1.1, $0.0) }!
        }
        var coldest: (room: String, value: Double) {
            temperatures.map { ($0.key, $0.value) }.min { ($0.1, $1.0) < ($1.1, $0.0) }!
        }
    }

    static func build() async throws -> AskThirtyHouse {
        let store = try await TestStore()
        let monday = T.tuesday - T.day
        try await seedSimulatedHouse(store, from: monday, to: now, house: options)
        let counter = MemoryStampCounter(now)
        var settings = ReflectionSettings()
        settings.minDays = 2
        let reflection = Reflection(database: store.database, node: store.node, settings: settings, logger: .quiet) {
            counter.next()
        }
        try await reflection.reflect(now: T.wednesday)
        let loop = observationLoop(store, narrator: nil)
        for start in stride(from: night.from.rawValue, to: now.rawValue, by: Int(15 * T.minute)) {
            let window = UTCMillis(rawValue: start)
            _ = try await loop.observe(windowStart: window, windowEnd: window + 15 * T.minute)
        }
        let tools = MindTools(
            database: store.database,
            recall: Recall(database: store.database, embedder: nil, vectorSearch: .off, logger: .quiet, now: { now }),
            node: store.node, indexer: nil, logger: .quiet, now: { now }, stamp: { counter.next() })
        let asker = Asker(model: ScriptedChatModel(capabilities: [.completion], replies: []), tools: tools,
                          strategy: .rules, logger: .quiet)
        return AskThirtyHouse(store: store, asker: asker, truth: try await truth(store))
    }

    // MARK: - Truths

    static func readings(_ store: TestStore, _ sensor: String, from: UTCMillis, to: UTCMillis) async throws -> [Reading] {
        try await store.database.readings.fetch(sensor: SensorID(sensor), from: from, to: to)
    }

    static func latest(_ store: TestStore, _ sensor: String) async throws -> Double {
        try #require(try await readings(store, sensor, from: now - T.hour, to: now + 1).last).value
    }

    static func truth(_ store: TestStore) async throws -> Truth {
        var truth = Truth()
        for room in rooms {
            if try await readings(store, "\(room).motion", from: night.from, to: night.to).contains(where: { $0.value > 0 }) {
                truth.nightMotion.insert(room)
            }
            truth.temperatures[room] = try await latest(store, "\(room).temperature")
        }
        truth.hallwayMotionAt3 = try await readings(store, "hallway.motion", from: threeAM.from, to: threeAM.to)
            .contains { $0.value > 0 }
        truth.livingHumidity = try await latest(store, "living_room.humidity")
        truth.studyCO2 = try await latest(store, "\(airRoom).co2")

        // Openings: changes from closed to open, the state before midnight from the last reading before it.
        let door = try await readings(store, "hallway.door", from: today.from - T.hour, to: today.to)
        var open = door.last { $0.time < today.from }.map { $0.value > 0 } ?? false
        for reading in door where reading.time >= today.from {
            if reading.value > 0, !open { truth.doorOpeningsToday += 1 }
            open = reading.value > 0
        }

        let memories = try await store.database.knowledge.memories(currentOnly: true, limit: 1000)
        truth.officeSchedule = memories.first { $0.record.metadata["pattern"] == "schedule|office|weekdays" }
        truth.livingEveningRange = memories.first { $0.record.metadata["pattern"] == "range|living_room.temperature|evening" }

        let observations = try await store.database.knowledge.recentObservations(limit: 10_000)
        truth.hallwayObservations = observations.filter { $0.record.subjects.contains { $0.hasPrefix("hallway.") } }
            .sorted { ($0.record.timeStart, $0.record.id) > ($1.record.timeStart, $1.record.id) }
        truth.nightObservations = observations.filter {
            $0.record.timeStart >= night.from && $0.record.timeStart < night.to
        }

        let house = options.house
        truth.livingOccupiedNow = house.occupiedShare(
            room: "living_room", from: (now - 15 * T.minute).rawValue, to: now.rawValue) >= 0.5
        truth.studyMinutesYesterday = house.occupiedShare(
            room: airRoom, from: T.tuesday.rawValue, to: (T.tuesday + T.day).rawValue) * 1440
        return truth
    }
}
