import Foundation
import SmollamaCore
import SmollamaMind
import SmollamaSensors
import SmollamaStore
import SmollamaTesting
import Testing

/// Issue 15's check — facts at the unusual or strong level (what becomes an `anomaly`
/// observation) on at most one of 14 ordinary days of the simulated house (no planted events) —
/// run by the evidence builder itself over every 15-minute window, with its rollups read once
/// (`preloaded`). CI runs 2 weekdays after 2 weeks of history (~40 s in debug); the 14-day figure
/// is a benchmark: `SMOLLAMA_ANOMALY_DAYS=14 swift test --filter AnomalyRateTests` (3 weeks of
/// history, ~3 min). The house is sampled every 2 minutes to keep seeding cheap.
///
/// What it asserts: facts at the unusual level or above on at most one day (of 14; of 2 in CI),
/// from every detector and from the room kinds (comfort, air, lamps, presence) on their own.
/// What it prints: every flagged fact, and facts and days per detector. Measured 2026-12-06 over
/// 14 days: a same-hour baseline flagged 207 facts on 14 days; the hours around this one with a
/// trend line, 56 on 11 (45 of them the study's CO₂ and light, whose levels are bimodal: occupied
/// or empty); a level judged against the range its hours showed, and an hour unusual only when
/// rare on any day with quiet hours either side, 0 (BENCHMARKS.md).
@Suite struct AnomalyRateTests {
    typealias T = HouseTime

    @Test func ordinaryDaysFlagNoRoomAnomalies() async throws {
        let days = Int(ProcessInfo.processInfo.environment["SMOLLAMA_ANOMALY_DAYS"] ?? "") ?? 2
        let historyDays: Int64 = days > 2 ? 21 : 14
        let store = try await TestStore()
        var house = SimulatedHouseDriver.Options()
        house.airRooms = ["study"]
        house.unusualEvents = []
        let first = T.wednesday
        let end = first + Int64(days) * T.day
        try await seedSimulatedHouse(store, from: first - historyDays * T.day, to: end, step: 2 * T.minute, house: house)
        let plain = EvidenceBuilder(database: store.database)
        let builder = try await plain.preloaded(from: first, to: end)
        // The cache reads what the store reads.
        for start in [first + 3 * T.hour, first + 19 * T.hour] {
            let stored = try await plain.build(windowStart: start, windowEnd: start + 15 * T.minute)
            #expect(try await builder.build(windowStart: start, windowEnd: start + 15 * T.minute) == stored)
        }
        var flagged: [Int: [String]] = [:]
        // Per detector (kind, sensor or room, note): facts and the days they fell on.
        var detectors: [String: (facts: Int, days: Set<Int>)] = [:]
        var roomFlagged: [Int: [String]] = [:]
        var roomFacts = 0
        for day in 0..<days {
            for index in 0..<96 {
                let start = first + Int64(day) * T.day + Int64(index) * 15 * T.minute
                let packet = try await builder.build(windowStart: start, windowEnd: start + 15 * T.minute)
                roomFacts += packet.facts.filter { $0.room != nil && $0.level > .ordinary }.count
                for fact in packet.facts where fact.level >= .unusual {
                    let line = String(format: "%02d:%02d ", index / 4, index % 4 * 15) + fact.line
                    flagged[day, default: []].append(line)
                    let detector = [fact.kind.rawValue, fact.sensor?.rawValue ?? fact.room ?? "", fact.note ?? ""]
                        .filter { !$0.isEmpty }.joined(separator: " ")
                    detectors[detector, default: (0, [])].facts += 1
                    detectors[detector, default: (0, [])].days.insert(day)
                    if fact.room != nil { roomFlagged[day, default: []].append(line) }
                }
            }
        }
        let report = flagged.sorted { $0.key < $1.key }.map { "day \($0.key): \($0.value.count)" }
        print("anomaly rate over \(days) ordinary days: \(flagged.count) days with unusual facts (\(report)); "
              + "room kinds: \(roomFlagged.count) days, \(roomFacts) room facts above ordinary",
              roomFlagged.sorted { $0.key < $1.key }.map { "day \($0.key): \($0.value)" })
        for (name, entry) in detectors.sorted(by: { $0.key < $1.key }) {
            print("detector \(name): \(entry.facts) facts on \(entry.days.count) days")
        }
        for (day, lines) in flagged.sorted(by: { $0.key < $1.key }) { print("day \(day):", lines) }
        #expect(flagged.count <= max(1, days / 14), "\(flagged)")
        #expect(roomFlagged.count <= max(1, days / 14), "\(roomFlagged)")
        #expect(roomFacts > 0, "the room kinds said something over \(days) days")
    }
}
