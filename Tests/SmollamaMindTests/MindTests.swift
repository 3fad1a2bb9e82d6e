import Foundation
import Logging
import SmollamaCore
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaMind

/// How the observation loop and recall meet: the prompt's memories come from recall.
@Suite struct RecalledMemoriesTests {
    typealias T = HouseTime

    @Test func theNightWindowGetsTheHallwayMemoryAndNotOthers() async throws {
        let store = try await TestStore()
        try await seedSimulatedHouse(store, from: T.tuesday - 7 * T.day, to: T.tuesday + 4 * T.hour)
        let node = NodeID.random()
        func stamp(_ ms: Int64) -> ClockStamp {
            .test(ms, bootID: "b")
        }
        for (index, (sensor, text)) in [
            ("hallway.motion", "hallway.motion on weekdays is usually active 07:00-09:00"),
            ("kitchen.temperature", "kitchen.temperature is usually 19-22 °C in the evening"),
        ].enumerated() {
            try await store.database.knowledge.record(
                MemoryRecord(id: "m\(index)", kind: "routine", subjects: [sensor], text: text, confidence: 0.8,
                             importance: 0.5, validFrom: T.tuesday - 7 * T.day, createdAt: T.tuesday - T.day,
                             source: .reflection),
                origin: node, stamp: stamp((T.tuesday - T.day + Int64(index)).rawValue))
        }
        let packet = try await EvidenceBuilder(database: store.database)
            .build(windowStart: T.tuesday + 3 * T.hour, windowEnd: T.tuesday + 3 * T.hour + 15 * T.minute)
        let provider = RecalledMemories(
            recall: Recall(database: store.database, embedder: nil, vectorSearch: .off, logger: .quiet), logger: .quiet)

        let lines = await provider.memories(for: packet, limit: 3)
        #expect(lines == ["hallway.motion on weekdays is usually active 07:00-09:00"])
        #expect(await provider.memories(for: packet, limit: 0).isEmpty)
    }
}
