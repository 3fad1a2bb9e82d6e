import Foundation
import SmollamaCore
import SmollamaMind
import Testing

/// Situations too rare in a simulated week (a door at night, a fault, a long quiet ended) still
/// reach every phrasing as the window turns, and each phrasing verifies.
@Suite struct PhrasingTests {
    static let sensors: [SensorID: SensorDescriptor] = [
        "hallway.door": SensorDescriptor(id: "hallway.door", name: "Hallway door", kind: .binary, unit: "",
                                         deviceClass: "door"),
        "hallway.motion": SensorDescriptor(id: "hallway.motion", name: "Hallway motion", kind: .binary, unit: "",
                                           deviceClass: "motion"),
        "study.temperature": SensorDescriptor(id: "study.temperature", name: "Study temperature", kind: .numeric,
                                              unit: "°C", deviceClass: "temperature"),
    ]

    func packet(_ index: Int64, _ fact: EvidenceFact) -> EvidencePacket {
        let start = UTCMillis(rawValue: 1_795_478_400_000 + index * 900_000)
        let window = EvidenceFact(
            id: "f0", key: "window@\(start)", kind: .window, sensor: nil,
            values: [EvidenceValue(name: "from", value: 2.0, unit: "time", decimals: 2),
                     EvidenceValue(name: "to", value: 2.15, unit: "time", decimals: 2)],
            level: .ordinary, note: "Tuesday")
        return EvidencePacket(windowStart: start, windowEnd: start + .seconds(900), facts: [window, fact],
                              sensors: Self.sensors)
    }

    @Test func rareSituationsUseEveryPhrasingAndEachVerifies() {
        let facts: [(NarrationSituation, Int, EvidenceFact)] = [
            (.nightDoor, 2, EvidenceFact(id: "f1", key: "hallway.door/night-open@0", kind: .notable, sensor: "hallway.door",
                                         values: [EvidenceValue(name: "at", value: 2.05, unit: "time", decimals: 2)],
                                         level: .strong, note: "door opened at night")),
            (.fault, 2, EvidenceFact(id: "f1", key: "study.temperature/fault@0", kind: .notable, sensor: "study.temperature",
                                     values: [EvidenceValue(name: "failed reads", value: 5, unit: "times", decimals: 0)],
                                     level: .strong, note: EvidenceFact.faultNote)),
            (.quietEnded, 3, EvidenceFact(id: "f1", key: "hallway.motion/quiet-ended@0", kind: .notable,
                                          sensor: "hallway.motion",
                                          values: [EvidenceValue(name: "quiet before", value: 6.5, unit: "h", decimals: 1),
                                                   EvidenceValue(name: "at", value: 2.05, unit: "time", decimals: 2),
                                                   EvidenceValue(name: "quiet days at this hour", value: 12, unit: "days",
                                                                 decimals: 0)],
                                          level: .strong, note: "first activity after a long quiet")),
        ]
        let narrator = RulesNarrator()
        let verifier = ObservationVerifier()
        for (situation, count, fact) in facts {
            var used: Set<Int> = []
            for index in Int64(0)..<Int64(count) {
                let packet = packet(index, fact)
                for (draft, said, variant) in narrator.narrated(packet) where said == situation {
                    used.insert(variant)
                    #expect(verifier.verify(draft, against: packet) == nil, "\(draft.text)")
                }
            }
            // `count` neighbouring windows give `count` different phrasings.
            #expect(used == Set(0..<count), "\(situation): \(used)")
        }
    }
}
