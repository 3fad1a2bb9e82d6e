public import Foundation
public import SmollamaCore

/// Whether a room had someone in it during one window.
public enum PresenceState: String, Codable, Sendable, Hashable {
    case occupied, empty, unknown
}

/// One room's presence in one observation window, and the facts it rests on.
public struct PresenceWindow: Codable, Sendable, Hashable {
    /// The room key: a sensor id's first part (`living_room`) or the area the config names.
    public var room: String
    public var start: UTCMillis
    public var end: UTCMillis
    public var state: PresenceState
    /// 0…1: how strongly the window's buckets agree with `state`.
    public var confidence: Double
    /// Short phrases: "motion in 2 of 3 buckets", "rise +41 ppm/5m, split 17" (CO₂ beyond its decay).
    public var facts: [String]

    public init(room: String, start: UTCMillis, end: UTCMillis, state: PresenceState, confidence: Double, facts: [String]) {
        self.room = room
        self.start = start
        self.end = end
        self.state = state
        self.confidence = confidence
        self.facts = facts
    }
}

/// The sensors of one room that presence reads, by what they sense.
public struct PresenceRoom: Sendable, Hashable {
    public var room: String
    public var motion: [SensorID] = []
    public var doors: [SensorID] = []
    public var co2: [SensorID] = []
    public var light: [SensorID] = []

    public init(room: String) { self.room = room }

    public var sensors: [SensorID] { motion + doors + co2 + light }

    /// Rooms from sensor descriptors: the id's first part unless `areas` names one. Sensors that
    /// say nothing about presence (temperature, humidity, …) and ids without a room part are left out.
    public static func rooms(_ descriptors: [SensorDescriptor], areas: [SensorID: String] = [:]) -> [PresenceRoom] {
        var byRoom: [String: PresenceRoom] = [:]
        for descriptor in descriptors {
            guard let room = key(of: descriptor.id, areas: areas) else { continue }
            let quantity = Self.quantity(descriptor)
            var entry = byRoom[room] ?? PresenceRoom(room: room)
            let binary = descriptor.kind == .binary
            switch (quantity, binary) {
            case ("motion", true), ("occupancy", true), ("presence", true): entry.motion.append(descriptor.id)
            case ("door", true): entry.doors.append(descriptor.id)
            case ("carbon_dioxide", false), ("co2", false): entry.co2.append(descriptor.id)
            case ("illuminance", false), ("light", false): entry.light.append(descriptor.id)
            default: continue
            }
            byRoom[room] = entry
        }
        return byRoom.values.sorted { $0.room < $1.room }
    }

    /// The room a sensor is in: the area `areas` names for it, else its id's first part
    /// (`hallway.motion` → `hallway`); nil for an id without a room part (`cpu_temp`).
    public static func key(of sensor: SensorID, areas: [SensorID: String]) -> String? {
        if let area = areas[sensor] { return area }
        let parts = sensor.rawValue.split(separator: ".")
        return parts.count >= 2 ? String(parts[0]) : nil
    }

    /// What a sensor measures: its device class, else its id's last part (`study.co2` → `co2`).
    public static func quantity(_ descriptor: SensorDescriptor) -> String {
        descriptor.deviceClass ?? String(descriptor.id.rawValue.split(separator: ".").last ?? "")
    }
}

/// Infers presence per room and window from 5-minute rollups, without labels: every threshold
/// comes from the room's own history (the rollups passed in, which should reach back days before
/// the windows). Motion in a bucket means someone was there. CO₂ is read through the room's own
/// ventilation: from its floor (a low percentile) and its decay rate while falling (the median of
/// −slope / excess), the rise a bucket shows beyond the decay is what people added; the split
/// between "nobody adds anything" and "someone does" is the gap between the two clusters of that
/// quantity over the history (Otsu's threshold), and is not used when the clusters do not stand
/// apart. Light counts only in the room's dark hours (its own low profile for that hour is
/// under a tenth of its brightest hour's): a level above the profile by more than the room's own
/// split means a lamp, and a lamp means someone. Doors are reported, and count only in a room
/// with nothing else.
public struct PresenceInference: Sendable {
    public static let bucket: Int64 = Rollup.Resolution.fiveMinutes.milliseconds

    public let clock: LocalClock

    public init(timeZone: TimeZone) { clock = LocalClock(timeZone: timeZone) }

    /// One row per window for `room`; `rollups` holds the 5-minute rollups of its sensors over
    /// the history and the windows.
    public func infer(room: PresenceRoom, rollups: [SensorID: [Rollup]], windows: [Range<UTCMillis>]) -> [PresenceWindow] {
        let motion = MotionEvidence(room.motion.map { rollups[$0] ?? [] })
        let doors = MotionEvidence(room.doors.map { rollups[$0] ?? [] })
        let co2 = room.co2.first.flatMap { CO2Model(rollups[$0] ?? []) }
        let light = room.light.first.flatMap { LightModel(rollups[$0] ?? [], clock: clock) }
        return windows.map { span in
            let window = span.lowerBound.rawValue..<span.upperBound.rawValue
            let starts = Array(stride(from: window.lowerBound, to: window.upperBound, by: Int(Self.bucket)))
            // Motion, where the room has it, decides: the estimated share of each bucket someone
            // was there. CO₂ and lamps (and doors, in a room with nothing else) vote per bucket.
            let present = starts.compactMap(motion.presentShare)
            var votes: [(occupied: Bool, confidence: Double)] = []
            for start in starts {
                var bucketVotes = [co2?.vote(start), light?.vote(start)].compactMap { $0 }
                if bucketVotes.isEmpty, present.isEmpty, let opened = doors.active(start) {
                    bucketVotes.append(opened ? (true, 0.6) : (false, 0.5))
                }
                // Any sign of someone wins (a lamp is off in daylight, CO₂ lags); empty needs every
                // source to say so.
                if let yes = bucketVotes.filter(\.occupied).max(by: { $0.confidence < $1.confidence }) {
                    votes.append(yes)
                } else if let no = bucketVotes.max(by: { $0.confidence < $1.confidence }) {
                    votes.append(no)
                }
            }
            var facts: [String] = []
            if !room.motion.isEmpty {
                let moving = starts.filter { motion.active($0) == true }.count
                facts.append(moving == 0 ? "no motion" : "motion in \(moving) of \(starts.count) buckets")
            }
            let opened = doors.turnOns(window)
            if opened > 0 { facts.append("door opened \(opened)×") }
            if let co2 { facts.append(contentsOf: co2.facts(window)) }
            if let light { facts.append(contentsOf: light.facts(window)) }
            let known = Double(max(present.count, votes.count)) / Double(max(1, starts.count))
            let row = { (state: PresenceState, confidence: Double) in
                PresenceWindow(room: room.room, start: UTCMillis(rawValue: window.lowerBound),
                               end: UTCMillis(rawValue: window.upperBound), state: state,
                               confidence: (min(1, max(0, confidence)) * 100).rounded() / 100, facts: facts)
            }
            guard known >= 0.5 else {
                facts.append("no readings in \(starts.count - max(present.count, votes.count)) of \(starts.count) buckets")
                return row(.unknown, 0)
            }
            let voted = votes.isEmpty ? nil : Double(votes.filter(\.occupied).count) / Double(votes.count)
            if !present.isEmpty {
                let share = present.reduce(0, +) / Double(present.count)
                let state: PresenceState = share >= 0.5 ? .occupied : .empty
                var confidence = 0.55 + 0.8 * abs(share - 0.5)
                if let voted { confidence += (voted >= 0.5) == (state == .occupied) ? 0.05 : -0.15 }
                return row(state, confidence * known)
            }
            let state: PresenceState = (voted ?? 0) >= 0.5 ? .occupied : .empty
            let agreeing = votes.map { ($0.occupied == (state == .occupied)) ? $0.confidence : 1 - $0.confidence }
            return row(state, agreeing.reduce(0, +) / Double(max(1, agreeing.count)) * known)
        }
    }

    /// Windows of `length` aligned like the observation loop's (multiples of the length since the
    /// epoch) that cover `[from, to)`.
    public static func windows(from: UTCMillis, to: UTCMillis, length: Duration) -> [Range<UTCMillis>] {
        let step = length.wholeMilliseconds
        guard step > 0, to > from else { return [] }
        let first = from.rawValue - ((from.rawValue % step) + step) % step
        return stride(from: first, to: to.rawValue, by: Int(step)).map {
            UTCMillis(rawValue: $0)..<UTCMillis(rawValue: $0 + step)
        }
    }
}

/// Binary sensors per 5-minute bucket: on at any time in it (a turn-on or time spent on), and
/// the share of it someone was there. A sensor sees a person only part of the time (a PIR fires
/// on movement); how much is learned from the room's own history: the median on-share of the
/// buckets in the middle of a visit (both neighbours active), where the room was surely occupied.
struct MotionEvidence {
    var byBucket: [Int64: Bool] = [:]
    var onCounts: [Int64: Int64] = [:]
    var onShare: [Int64: Double] = [:]
    /// The on-share of a fully occupied bucket; 1 (any motion = a whole bucket) until the history shows it.
    var fullShare = 1.0

    init(_ series: [[Rollup]]) {
        let bucket = PresenceInference.bucket
        for rollups in series {
            for rollup in rollups {
                let on = rollup.onCount > 0 || rollup.onDuration > 0
                byBucket[rollup.bucketStart.rawValue] = (byBucket[rollup.bucketStart.rawValue] ?? false) || on
                onCounts[rollup.bucketStart.rawValue, default: 0] += rollup.onCount
                // A turn-on whose time on was not measured (it ended in the next reading) counts half a minute.
                let time = max(rollup.onDuration, rollup.onCount > 0 ? 30_000 : 0)
                onShare[rollup.bucketStart.rawValue] = min(1, max(onShare[rollup.bucketStart.rawValue] ?? 0, Double(time) / Double(bucket)))
            }
        }
        let interior = onShare.compactMap { start, share in
            byBucket[start] == true && byBucket[start - bucket] == true && byBucket[start + bucket] == true ? share : nil
        }
        if interior.count >= 6, let median = quantile(interior, 0.5), median > 0 { fullShare = median }
    }

    func active(_ bucket: Int64) -> Bool? { byBucket[bucket] }

    /// 0…1: the estimated share of the bucket someone was there; nil without readings. Inside a
    /// visit (the neighbours active too) the whole bucket; at a visit's edge the on-share against
    /// a full bucket's.
    func presentShare(_ bucket: Int64) -> Double? {
        guard let active = byBucket[bucket] else { return nil }
        guard active else { return 0 }
        let step = PresenceInference.bucket
        if byBucket[bucket - step] == true && byBucket[bucket + step] == true { return 1 }
        return min(1, (onShare[bucket] ?? 0) / fullShare)
    }

    func turnOns(_ window: Range<Int64>) -> Int64 {
        stride(from: window.lowerBound, to: window.upperBound, by: Int(PresenceInference.bucket))
            .map { onCounts[$0] ?? 0 }.reduce(0, +)
    }
}
