import Foundation
import SmollamaCore
import SmollamaStore

/// Daylight or lamps, from the room's own history (no astronomical tables): daylight changes
/// slowly (minutes of twilight, drifting clouds), a lamp in one step. A step between two
/// 5-minute buckets larger than the room's own split between small and large steps (Otsu's
/// threshold over its history, used only when the two groups stand apart) is a lamp switched;
/// up from the room's dark level (a tenth of its brightest hour's median) it is "lamps on after
/// dark", down to it "lamps off". Lamps on at night — an hour of day the room is lit on at most
/// `unusualProbability` of days, and so are the hours either side (03:00, not the edge of the
/// evening's habit or of daylight) — are unusual.
struct LampModel: Sendable {
    let means: [Int64: Double]
    let clock: LocalClock
    let darkLimit: Double
    let steps: TwoGroups

    init?(_ history: [Rollup], clock: LocalClock) {
        self.clock = clock
        let means = Dictionary(history.filter { $0.count > 0 }.map { ($0.bucketStart.rawValue, $0.mean) },
                               uniquingKeysWith: { $1 })
        self.means = means
        var byHour: [Int: [Double]] = [:]
        for (start, mean) in means { byHour[clock.hour(UTCMillis(rawValue: start)), default: []].append(mean) }
        guard let brightest = byHour.values.compactMap({ quantile($0, 0.5) }).max() else { return nil }
        darkLimit = 0.1 * max(brightest, 10)
        let bucket = PresenceInference.bucket
        let sizes = means.compactMap { start, mean in means[start - bucket].map { abs(mean - $0) } }
        guard let steps = TwoGroups(sizes), steps.separated else { return nil }
        self.steps = steps
    }

    /// +1 a lamp switched on, −1 off, 0 neither, between the bucket before `start` and `start`.
    func switched(_ start: Int64, now: Double?, before: Double?) -> Int {
        guard let now, let before, abs(now - before) > steps.split else { return 0 }
        if now > before, before <= darkLimit { return 1 }
        if now < before, now <= darkLimit { return -1 }
        return 0
    }

    /// The share of history days with the room above its dark level at some time in `hour`;
    /// nil with fewer than `minimumDays` days.
    func litShare(hour: Int, minimumDays: Int) -> Double? {
        var days: Set<Int64> = []
        var lit: Set<Int64> = []
        for (start, mean) in means {
            let time = UTCMillis(rawValue: start)
            let day = clock.dayIndex(time)
            days.insert(day)
            if mean > darkLimit, clock.hour(time) == hour { lit.insert(day) }
        }
        guard days.count >= minimumDays else { return nil }
        return Double(lit.count) / Double(days.count)
    }
}

extension EvidenceBuilder {
    /// The first lamp switched in `[start, end)`, as a fact; nil when none was (or the history
    /// does not tell lamps from daylight yet).
    func lightFact(room: String, sensor: SensorID, rollups: [Rollup], start: UTCMillis, end: UTCMillis,
                   clock: LocalClock, id: () -> String) -> EvidenceFact? {
        guard let model = LampModel(rollups.filter { $0.bucketStart < start }, clock: clock) else { return nil }
        let means = Dictionary(rollups.filter { $0.count > 0 }.map { ($0.bucketStart.rawValue, $0.mean) },
                               uniquingKeysWith: { $1 })
        let bucket = PresenceInference.bucket
        for at in stride(from: start.rawValue, to: end.rawValue, by: Int(bucket)) {
            let direction = model.switched(at, now: means[at], before: means[at - bucket])
            guard direction != 0, let level = means[at], let before = means[at - bucket] else { continue }
            let time = UTCMillis(rawValue: at)
            var values = [
                EvidenceValue(name: "at", value: Self.timeOfDay(time, clock), unit: "time", decimals: 2),
                EvidenceValue(name: "level", value: Self.round(level, 0), unit: "lx", decimals: 0),
                EvidenceValue(name: "before", value: Self.round(before, 0), unit: "lx", decimals: 0),
            ]
            var factLevel = EvidenceFact.Level.activity
            var note = direction > 0 ? "lamps on after dark" : "lamps off"
            let hour = clock.hour(time)
            if direction > 0, let share = model.litShare(hour: hour, minimumDays: settings.minimumBaselineDays) {
                values.append(EvidenceValue(name: "share of days lit at this hour", value: (share * 100).rounded(),
                                            unit: "%", decimals: 0))
                // At night: the hours either side rarely lit too (not the edge of a habit or of daylight).
                let around = [(hour + 23) % 24, (hour + 1) % 24].compactMap {
                    model.litShare(hour: $0, minimumDays: settings.minimumBaselineDays)
                }
                if share <= settings.unusualProbability, around.allSatisfy({ $0 <= settings.unusualProbability }) {
                    factLevel = .unusual
                    note = "lamps on at an unusual hour"
                }
            }
            return EvidenceFact(id: id(), key: "\(sensor)/lamps@\(at)", kind: .light, sensor: sensor, values: values,
                                level: factLevel, note: note, room: room)
        }
        return nil
    }
}
