import Foundation
import SmollamaCore
import SmollamaStore

/// A stretch of local time of day [start, end), in minutes since local midnight.
public struct DayTimeBlock: Codable, Sendable, Hashable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    public var label: String {
        String(format: "%02d:%02d–%02d:%02d", start / 60, start % 60, end / 60, end % 60)
    }

    func contains(minute: Int) -> Bool { minute >= start && minute < end }
}

/// When a room is usually occupied on one kind of day, from presence per slot of the day over
/// the reflection window ("The study is usually occupied on weekdays 09:00–12:00.").
public struct PresenceSchedule: Sendable, Hashable {
    /// One local day of the sample: its midnight and the slots it was occupied in.
    struct Day: Sendable, Hashable {
        var start: UTCMillis
        var occupied: Set<Int>
    }

    public var room: String
    public var days: DayGroup
    public var blocks: [DayTimeBlock]
    /// Slot length in minutes (`memory.schedule_resolution`).
    public var step: Int
    /// The room's presence sensors (the memory's subjects).
    public var sensors: [String]
    public var sampleDays: Int
    /// Share of days occupied, averaged over the schedule's slots (0…1).
    public var insideShare: Double
    /// The same for the other slots.
    public var outsideShare: Double
    var sample: [Day]

    public var key: String { "schedule|\(room)|\(days.rawValue)" }
    public var confidence: Double { Reflection.confidence(days: sampleDays, clarity: insideShare - outsideShare) }
    public var percent: Int { Int((insideShare * 100).rounded()) }

    /// The rules sentence: display name, local times.
    public var text: String {
        "The \(RulesAnswerer.roomName(room)) is usually occupied on \(days.rawValue) "
            + RulesAnswerer.list(blocks.map(\.label)) + " (in those hours on \(percent)% of \(sampleDays) days)."
    }

    var blocksMetadata: String { blocks.map { "\($0.start)-\($0.end)" }.joined(separator: ",") }

    static func parseBlocks(_ text: String?) -> [DayTimeBlock] {
        (text ?? "").split(separator: ",").compactMap { piece in
            let parts = piece.split(separator: "-").compactMap { Int($0) }
            return parts.count == 2 ? DayTimeBlock(start: parts[0], end: parts[1]) : nil
        }
    }

    /// The same schedule: as many blocks, each edge within one slot.
    static func same(_ lhs: [DayTimeBlock], _ rhs: [DayTimeBlock], step: Int) -> Bool {
        lhs.count == rhs.count
            && zip(lhs, rhs).allSatisfy { abs($0.start - $1.start) <= step && abs($0.end - $1.end) <= step }
    }

    /// The stretches of slots occupied on at least `threshold` of the days: a gap of one slot
    /// inside a stretch is bridged and a stretch of one slot is left out (one step is the
    /// schedule's resolution, not a finding). Nil when nothing or more than four stretches remain.
    static func blocks(shares: [Double], threshold: Double, step: Int) -> [DayTimeBlock]? {
        var active = shares.map { $0 >= threshold }
        for slot in active.indices.dropFirst().dropLast() where !active[slot] && active[slot - 1] && active[slot + 1] {
            active[slot] = true
        }
        var blocks: [DayTimeBlock] = []
        var start: Int?
        for slot in 0...active.count {
            let on = slot < active.count && active[slot]
            if on, start == nil { start = slot }
            if !on, let begin = start {
                if slot - begin >= 2 { blocks.append(DayTimeBlock(start: begin * step, end: slot * step)) }
                start = nil
            }
        }
        return blocks.isEmpty || blocks.count > 4 ? nil : blocks
    }

    /// The local midnight after the last day that followed the old schedule better than the new
    /// one (counting the slots each gets right); the first day of the sample when none did.
    func changePoint(from old: [DayTimeBlock], clock: LocalClock) -> UTCMillis? {
        let slots = 1440 / step
        func agreement(_ day: Day, _ blocks: [DayTimeBlock]) -> Int {
            (0..<slots).filter { slot in
                blocks.contains { $0.contains(minute: slot * step) } == day.occupied.contains(slot)
            }.count
        }
        var change = sample.first?.start
        for day in sample where agreement(day, old) > agreement(day, blocks) {
            change = clock.midnight(ofDay: clock.dayIndex(day.start) + 1)
        }
        return change
    }
}

extension Reflection {
    /// Presence schedules of every room with presence sensors, and per (room, day group) with
    /// enough days the share of days each slot was occupied.
    func findSchedules(now: UTCMillis) async throws -> (schedules: [PresenceSchedule], shares: [String: [Double]]) {
        let clock = LocalClock(timeZone: settings.timeZone)
        let window = dayWindow(now: now)
        let step = Int(settings.scheduleStep.wholeMilliseconds / 60_000)
        let slots = 1440 / step
        // The window is its own history: each room's thresholds are learned from these days.
        let reader = PresenceReader(database: database, timeZone: settings.timeZone, historyDays: 0)
        let rooms = try await reader.rooms()
        let rows = try await reader.windows(from: window.start, to: window.end, length: settings.scheduleStep)
        var schedules: [PresenceSchedule] = []
        var shares: [String: [Double]] = [:]
        for room in rooms {
            // Per local day: the slots with a known state, and those occupied.
            var known: [Int64: Set<Int>] = [:]
            var occupied: [Int64: Set<Int>] = [:]
            for row in rows where row.room == room.room && row.state != .unknown {
                let day = clock.dayIndex(row.start)
                let slot = (clock.hour(row.start) * 60 + clock.minute(row.start)) / step
                known[day, default: []].insert(slot)
                if row.state == .occupied { occupied[day, default: []].insert(slot) }
            }
            for group in DayGroup.allCases {
                let days = known.keys.sorted().filter { Self.group(ofDay: $0) == group }
                guard days.count >= settings.minDays else { continue }
                let share = (0..<slots).map { slot -> Double in
                    let seen = days.filter { known[$0]?.contains(slot) == true }
                    let busy = seen.filter { occupied[$0]?.contains(slot) == true }
                    return seen.isEmpty ? 0 : Double(busy.count) / Double(seen.count)
                }
                let key = "schedule|\(room.room)|\(group.rawValue)"
                shares[key] = share
                guard let blocks = PresenceSchedule.blocks(shares: share, threshold: settings.scheduleShare, step: step)
                else { continue }
                let inside = (0..<slots).filter { slot in blocks.contains { $0.contains(minute: slot * step) } }
                let outside = (0..<slots).filter { !inside.contains($0) }
                let insideShare = inside.map { share[$0] }.reduce(0, +) / Double(inside.count)
                let outsideShare = outside.isEmpty ? 0 : outside.map { share[$0] }.reduce(0, +) / Double(outside.count)
                guard insideShare - outsideShare >= settings.minEffect else { continue }
                schedules.append(PresenceSchedule(
                    room: room.room, days: group, blocks: blocks, step: step,
                    sensors: room.sensors.map(\.rawValue).sorted(), sampleDays: days.count,
                    insideShare: insideShare, outsideShare: outsideShare,
                    sample: days.map { .init(start: clock.midnight(ofDay: $0), occupied: occupied[$0] ?? []) }))
            }
        }
        return (schedules, shares)
    }

    func finding(_ schedule: PresenceSchedule) -> ReflectionFinding {
        let clock = LocalClock(timeZone: settings.timeZone)
        return ReflectionFinding(
            key: schedule.key, kind: "schedule", subjects: schedule.sensors, text: schedule.text,
            confidence: schedule.confidence,
            metadata: [
                "room": schedule.room, "days": schedule.days.rawValue, "blocks": schedule.blocksMetadata,
                "step_minutes": String(schedule.step), "sample_days": String(schedule.sampleDays),
                "occupied_percent": String(schedule.percent),
            ],
            firstDay: schedule.sample.first?.start ?? 0,
            matches: { old in
                PresenceSchedule.same(PresenceSchedule.parseBlocks(old.metadata["blocks"]), schedule.blocks, step: schedule.step)
            },
            changePoint: { old in
                schedule.changePoint(from: PresenceSchedule.parseBlocks(old.metadata["blocks"]), clock: clock) ?? old.validFrom
            })
    }

    /// A schedule is gone when its room still reports and its old slots are now occupied on
    /// under half the threshold's share of days.
    func scheduleGone(_ old: StoredMemory, shares: [String: [Double]], step: Int) -> Bool {
        guard let key = old.record.metadata["pattern"], let share = shares[key] else { return false }
        let slots = PresenceSchedule.parseBlocks(old.record.metadata["blocks"])
            .flatMap { Array(stride(from: $0.start / step, to: $0.end / step, by: 1)) }
            .filter { share.indices.contains($0) }
        guard !slots.isEmpty else { return false }
        return slots.map { share[$0] }.reduce(0, +) / Double(slots.count) < settings.scheduleShare / 2
    }
}
