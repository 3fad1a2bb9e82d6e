import Foundation
import SmollamaCore
import SmollamaMind
import SmollamaStore
import SmollamaTesting
import Testing

/// An observation's confidence comes from the data it cites, not from its level.
@Suite struct ConfidenceTests {
    let confidence = ObservationConfidence()

    func level(deviation: Double, days: Int?) -> EvidenceFact {
        var fact = EvidenceFact(
            id: "f1", key: "living_room.temperature/stats@0", kind: .numeric, sensor: "living_room.temperature",
            values: [EvidenceValue(name: "mean", value: 24, unit: "°C", decimals: 1),
                     EvidenceValue(name: "usual", value: 21, unit: "°C", decimals: 1),
                     EvidenceValue(name: "deviation", value: deviation, unit: "", decimals: 1)],
            level: abs(deviation) >= 5 ? .strong : abs(deviation) >= 3 ? .unusual : .ordinary)
        fact.baselineDays = days
        return fact
    }

    func motion(_ activations: Double, share: Double? = nil, days: Int? = nil, id: String = "f2",
                sensor: SensorID = "hallway.motion") -> EvidenceFact {
        var values = [EvidenceValue(name: "activations", value: activations, unit: "times", decimals: 0)]
        if let share {
            values.append(EvidenceValue(name: "share of days active at this hour", value: share, unit: "%", decimals: 0))
        }
        var fact = EvidenceFact(id: id, key: "\(sensor)/activity@0", kind: .binary, sensor: sensor, values: values,
                                level: share.map { $0 <= 25 && activations > 0 ? .unusual : .activity } ?? .activity)
        fact.baselineDays = days
        return fact
    }

    @Test func fartherFromTheUsualIsSurer() {
        let near = confidence.of([level(deviation: 3.2, days: 20)])
        let far = confidence.of([level(deviation: 4.8, days: 20)])
        #expect(near < far)
        #expect(near > 0.3 && far < 0.99)
    }

    @Test func moreDaysOfHistoryAreSurer() {
        let young = confidence.of([level(deviation: 4, days: 5)])
        let old = confidence.of([level(deviation: 4, days: 28)])
        #expect(young < old)
        // Same level, different data: not a constant per level.
        #expect(young != old && level(deviation: 4, days: 5).level == level(deviation: 4, days: 28).level)
        // A rarer hour is surer than one active on a quarter of days.
        #expect(confidence.of([motion(1, share: 0, days: 20)]) > confidence.of([motion(1, share: 25, days: 20)]))
    }

    @Test func agreeingSensorsAddAndOneTriggerIsWeak() {
        let one = confidence.of([motion(1)])
        let several = confidence.of([motion(4)])
        let twoSensors = confidence.of([motion(1), motion(1, id: "f3", sensor: "hallway.door")])
        #expect(one == 0.5)
        #expect(several > one && twoSensors > one)
        // The window line is no evidence of anything; an empty citation is a coin toss.
        let window = EvidenceFact(id: "f0", key: "window@0", kind: .window, sensor: nil, values: [], level: .ordinary)
        #expect(confidence.of([window]) == 0.5)
        #expect(confidence.of([window, motion(4)]) == several)
    }

    @Test func storedObservationsCarryItAndOldPayloadsStayAsTheyWere() async throws {
        let store = try await TestStore()
        let start = HouseTime.tuesday + 3 * HouseTime.hour
        try await seedSimulatedHouse(store, from: HouseTime.tuesday - 7 * HouseTime.day, to: start + HouseTime.hour)
        let loop = observationLoop(store, narrator: nil)
        let outcome = try await loop.observe(windowStart: start, windowEnd: start + 15 * HouseTime.minute)
        #expect(!outcome.stored.isEmpty)
        for record in outcome.stored {
            let value = try #require(record.confidence)
            #expect(value >= 0.05 && value <= 0.99)
            let read = try await store.database.knowledge.observation(id: record.id)
            #expect(read?.record.confidence == value)
        }
        // An observation written before confidence existed: same bytes after decoding and encoding.
        let old = #"{"evidenceIDs":["a"],"generator":"rules","id":"x","importance":0.1,"kind":"summary","subjects":[],"support":1,"text":"A quiet night.","timeEnd":2,"timeStart":1}"#
        let decoded = try EventPayload.decode(ObservationRecord.self, from: Data(old.utf8))
        #expect(decoded.confidence == nil)
        #expect(String(decoding: try EventPayload.encode(decoded), as: UTF8.self) == old)
    }
}
