import Foundation
import Logging
import SmollamaCore
import SmollamaSensors
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaMind

/// Presence schedules as memories: against the simulated house's ground truth, and their
/// supersession when a room's use changes.
@Suite struct ReflectionScheduleTests {
    typealias T = HouseTime
    static let day: Int64 = 86_400_000
    /// 1970-01-05 was a Monday; so is this day (index ≡ 4 mod 7).
    static let firstDay: Int64 = 20_304
    static func dayStart(_ n: Int) -> UTCMillis { UTCMillis(rawValue: (firstDay + Int64(n)) * day) }
    static func isWeekend(_ n: Int) -> Bool { n % 7 >= 5 }

    /// Five simulated weekdays (Monday–Friday). Each room's weekday schedule must equal the one
    /// the same rule gives on the house's ground truth (a slot occupied on a day when someone was
    /// in for at least half of it), within one slot at each edge.
    @Test func theScheduleMatchesTheSimulatedHousesOccupancy() async throws {
        let store = try await TestStore()
        let (options, monday, end) = try await seedFiveWeekdays(store)
        let house = options.house
        var settings = ReflectionSettings()
        settings.windowDays = 7
        let counter = MemoryStampCounter(end)
        let reflection = Reflection(database: store.database, node: store.node, settings: settings, logger: .quiet) {
            counter.next()
        }
        let now = end + 2 * T.day + T.hour  // the following Sunday 01:00: the window holds Monday–Saturday
        let report = try await reflection.reflect(now: now)
        let step = 30
        var compared = 0
        for room in ["living_room", "hallway", "study"] {
            let shares = (0..<48).map { slot -> Double in
                let busy = (0..<5).filter { index in
                    let from = (monday + Int64(index) * T.day + Int64(slot * step) * T.minute).rawValue
                    return house.occupiedShare(room: room, from: from, to: from + Int64(step) * T.minute) >= 0.5
                }
                return Double(busy.count) / 5
            }
            let truth = PresenceSchedule.blocks(shares: shares, threshold: settings.scheduleShare, step: step)
            let found = report.schedules.first { $0.room == room && $0.days == .weekdays }
            #expect((truth == nil) == (found == nil), "\(room): truth \(truth ?? []), found \(found?.blocks ?? [])")
            guard let truth, let found else { continue }
            compared += 1
            #expect(PresenceSchedule.same(truth, found.blocks, step: step),
                    "\(room): truth \(truth.map(\.label)), found \(found.blocks.map(\.label))")
            #expect(found.sampleDays == 5)
            let memory = try #require(try await store.database.knowledge.memories(currentOnly: true, limit: 100)
                .first { $0.record.metadata["pattern"] == found.key })
            #expect(memory.record.kind == "schedule")
            #expect(memory.record.text.hasPrefix("The \(room.replacingOccurrences(of: "_", with: " ")) is usually occupied on weekdays "))
            #expect(memory.record.text.contains(found.blocks[0].label))
            #expect(!memory.record.text.contains("."+"motion") && !memory.record.text.contains(room + "."))
            #expect(memory.record.validFrom == monday)
        }
        print("weekday schedules:", report.schedules.map(\.text))
        #expect(compared >= 2, "the house has weekday schedules to compare")
        // Two weekend days are fewer than min_days: no weekend schedule.
        #expect(!report.schedules.contains { $0.days == .weekends })

        // Re-running reflection adds nothing.
        let again = try await reflection.reflect(now: now)
        #expect(again.created.isEmpty && again.closed.isEmpty && again.refreshed.isEmpty && again.superseded.isEmpty)
    }

    /// Motion every 5 minutes (on for 4 of them) in the office's busy hours, off readings otherwise.
    func office(_ store: TestStore, row: Int64, days: Range<Int>, busy: (Int) -> [Range<Int>]) async throws {
        var readings: [PendingReading] = []
        for n in days {
            let spans = busy(n)
            for minute in stride(from: 0, to: 1440, by: 5) {
                let time = Self.dayStart(n) + .seconds(Int64(minute) * 60)
                if spans.contains(where: { $0.contains(minute) }) {
                    readings.append(PendingReading(sensorRowID: row, value: 1, stamp: houseStamp(time)))
                    readings.append(PendingReading(sensorRowID: row, value: 0, stamp: houseStamp(time + .seconds(240))))
                } else {
                    readings.append(PendingReading(sensorRowID: row, value: 0, stamp: houseStamp(time)))
                }
            }
        }
        try await store.database.readings.commit(readings: readings, notices: [], origin: store.node)
        try await store.database.readings.rollUpAll()
    }

    @Test func aChangedScheduleSupersedesTheOldMemoryAtTheChangePoint() async throws {
        let store = try await TestStore()
        let sensors = try await store.database.readings.registerSensors(
            [SensorDescriptor(id: "office.motion", name: "Office motion", kind: .binary, deviceClass: "motion")],
            driver: "test", now: 0)
        let row = try #require(sensors.first?.rowID)
        // Two weeks of weekdays 08:30–12:00, then the office is used 13:00–17:00.
        let morning = [510..<720]
        let afternoon = [780..<1020]
        try await office(store, row: row, days: 0..<14) { Self.isWeekend($0) ? [] : morning }
        let counter = MemoryStampCounter(Self.dayStart(14))
        let reflection = Reflection(database: store.database, node: store.node, logger: .quiet) { counter.next() }
        counter.set(Self.dayStart(14).rawValue + 3_600_000)
        let first = try await reflection.reflect(now: Self.dayStart(14) + .seconds(3600))
        let old = try #require(first.schedules.first { $0.room == "office" && $0.days == .weekdays })
        #expect(old.blocks == [DayTimeBlock(start: 510, end: 720)])
        #expect(!first.schedules.contains { $0.days == .weekends })
        let memories = try await store.database.knowledge.memories(currentOnly: true, limit: 10)
        let oldMemory = try #require(memories.first { $0.record.metadata["pattern"] == "schedule|office|weekdays" })
        #expect(oldMemory.record.text == "The office is usually occupied on weekdays 08:30–12:00 (in those hours on 100% of 10 days).")
        #expect(oldMemory.record.subjects == ["office.motion"])
        #expect(oldMemory.record.validFrom == Self.dayStart(0))

        try await office(store, row: row, days: 14..<28) { Self.isWeekend($0) ? [] : afternoon }
        var superseded: [String: String] = [:]
        for n in 15...28 {
            let now = Self.dayStart(n) + .seconds(3600)
            counter.set(now.rawValue)
            superseded.merge(try await reflection.reflect(now: now).superseded) { $1 }
        }
        // The old memory is closed where the new use began: the midnight after the last weekday
        // that followed it (Friday, day 11).
        let closed = try #require(try await store.database.knowledge.memory(id: oldMemory.record.id))
        #expect(closed.record.validTo == Self.dayStart(12))
        #expect(closed.record.expiredAt != nil)
        #expect(superseded.values.contains(oldMemory.record.id))
        let current = try await store.database.knowledge.memories(currentOnly: true, limit: 10)
            .filter { $0.record.metadata["pattern"] == "schedule|office|weekdays" }
        #expect(current.count == 1)
        let new = try #require(current.first)
        #expect(new.record.text.hasPrefix("The office is usually occupied on weekdays 13:00–17:00"))
        #expect(new.record.validFrom == Self.dayStart(12))
        // The chain of supersessions leads back to the old memory.
        var link = new.record.supersedes
        var chain: [String] = []
        while let id = link, chain.count < 5 {
            chain.append(id)
            link = try await store.database.knowledge.memory(id: id)?.record.supersedes
        }
        #expect(chain.last == oldMemory.record.id)
    }

    /// Schedules are in the node's local time: office hours written at 12:30–16:00 UTC are
    /// 08:30–12:00 in New York in August (UTC−4).
    @Test func schedulesAreInLocalTime() async throws {
        let store = try await TestStore()
        let sensors = try await store.database.readings.registerSensors(
            [SensorDescriptor(id: "office.motion", name: "Office motion", kind: .binary, deviceClass: "motion")],
            driver: "test", now: 0)
        let row = try #require(sensors.first?.rowID)
        try await office(store, row: row, days: 0..<14) { Self.isWeekend($0) ? [] : [750..<960] }
        var settings = ReflectionSettings()
        settings.timeZone = try #require(TimeZone(identifier: "America/New_York"))
        let counter = MemoryStampCounter(Self.dayStart(14))
        let reflection = Reflection(database: store.database, node: store.node, settings: settings, logger: .quiet) {
            counter.next()
        }
        let report = try await reflection.reflect(now: Self.dayStart(14) + .seconds(12 * 3600))
        let schedule = try #require(report.schedules.first { $0.room == "office" && $0.days == .weekdays })
        #expect(schedule.blocks == [DayTimeBlock(start: 510, end: 720)])
        #expect(schedule.text.hasPrefix("The office is usually occupied on weekdays 08:30–12:00"))
    }

    @Test func scheduleAndRangeSettingsAreCheckedAndReachReflection() throws {
        var config = MemoryConfig()
        config.scheduleResolution = .minutes(7)
        #expect(throws: ConfigProblem.self) { try config.check() }
        config.scheduleResolution = .minutes(45)
        #expect(throws: ConfigProblem.self) { try config.check() }
        config.scheduleResolution = .minutes(15)
        config.scheduleShare = 0.7
        config.rangeTolerance = 0.25
        try config.check()
        let settings = config.reflectionSettings(timeZone: LocalClock.utc)
        #expect(settings.scheduleStep == .seconds(900) && settings.scheduleShare == 0.7 && settings.rangeTolerance == 0.25)
        config.scheduleShare = 0
        #expect(throws: ConfigProblem.self) { try config.check() }
        config.scheduleShare = 0.5
        config.rangeTolerance = -1
        #expect(throws: ConfigProblem.self) { try config.check() }
    }

    @Test func blocksBridgeOneSlotGapsAndDropSingleSlots() {
        // Two-hour slots: 00–02 alone is dropped; 06–10 holds; 14–20 holds across the dip at 16–18.
        let shares: [Double] = [0.9, 0, 0, 0.6, 0.6, 0, 0, 0.8, 0.3, 0.7, 0, 0]
        #expect(PresenceSchedule.blocks(shares: shares, threshold: 0.5, step: 120)
            == [DayTimeBlock(start: 360, end: 600), DayTimeBlock(start: 840, end: 1200)])
        #expect(PresenceSchedule.blocks(shares: shares, threshold: 0.95, step: 120) == nil)
        #expect(DayTimeBlock(start: 510, end: 1050).label == "08:30–17:30")
    }
}
