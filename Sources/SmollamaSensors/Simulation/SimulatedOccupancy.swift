import Foundation
import SmollamaCore

/// Who is where in the simulated house: the ground truth presence is scored against. It is data
/// for tests and benchmarks (`occupied(room:at:)`, `occupiedShare(room:from:to:)`), never a sensor
/// the node reads. Sensors follow it: motion fires on some of the occupied minutes, CO₂ rises
/// while a room is occupied and decays when it is empty, and in rooms without a motion sensor
/// (`airRooms`) the lamps go on when someone is there after dark.
///
/// Occupancy is decided per slot (10 minutes in rooms with motion sensors, 30 minutes in the
/// air-only rooms, where people sit and work), each slot with a probability by local hour, so it
/// stays a pure function of (seed, room, time).
extension SimulatedHouse {
    /// A PIR sees a person who is in the room during a given minute with this probability.
    static let motionDetection = 0.6
    /// Outdoor CO₂ (ppm), what one occupied minute adds (ppm), and the decay time (minutes).
    static let co2Outdoor = 420.0
    static let co2PerMinute = 9.0
    static let co2DecayMinutes = 45.0

    /// Whether anyone is in `room` at UTC millisecond `time` (minute resolution).
    public func occupied(room: String, at time: Int64) -> Bool {
        occupied(room: room, minute: floorDivision(time, 60_000))
    }

    /// The share of the minutes in `[from, to)` during which `room` was occupied (0…1).
    public func occupiedShare(room: String, from: Int64, to: Int64) -> Double {
        let first = floorDivision(from, 60_000)
        let last = floorDivision(to - 1, 60_000)
        guard last >= first else { return 0 }
        let occupied = (first...last).filter { self.occupied(room: room, minute: $0) }.count
        return Double(occupied) / Double(last - first + 1)
    }

    func occupied(room: String, minute: Int64) -> Bool {
        let local = LocalTime(utcMilliseconds: minute * 60_000, timeZone: timeZone)
        if unusualActive(sensor: "\(room).motion", local: local) { return true }
        if doors.contains(room), door(room: room, local: local, time: minute * 60_000) { return true }
        return slotOccupied(room: room, slot: slot(room: room, minute: minute))
    }

    /// Slot length in minutes.
    func slotLength(room: String) -> Int64 { airRooms.contains(room) ? 30 : 10 }

    func slot(room: String, minute: Int64) -> Int64 {
        let phase = Int64(unit("\(room).phase", 0) * Double(slotLength(room: room)))
        return floorDivision(minute + phase, slotLength(room: room))
    }

    /// The first minute of `slot`.
    func slotStart(room: String, slot: Int64) -> Int64 {
        let phase = Int64(unit("\(room).phase", 0) * Double(slotLength(room: room)))
        return slot * slotLength(room: room) - phase
    }

    func slotOccupied(room: String, slot: Int64) -> Bool {
        let start = slotStart(room: room, slot: slot)
        let local = LocalTime(utcMilliseconds: start * 60_000, timeZone: timeZone)
        let probability: Double
        if airRooms.contains(room) {
            probability = studyProbability(hour: local.hour, weekend: local.isWeekend)
        } else {
            // Busier rooms: the first room (the living room) more than the others.
            let bias = room == rooms.first ? 1.0 : 0.8
            probability = min(1, motionProbability(hour: local.hour, weekend: local.isWeekend) * bias / Self.motionDetection)
        }
        return unit("\(room).occupied", slot) < probability
    }

    /// Probability that someone works in an air-only room (a study) during a slot.
    public func studyProbability(hour: Int, weekend: Bool) -> Double {
        switch (hour, weekend) {
        case (0..<7, _): 0
        case (9..<12, false), (13..<17, false): 0.6
        case (10..<16, true): 0.25
        case (19..<22, _): 0.35
        case (22..<24, _): 0.05
        default: 0.1
        }
    }

    /// Motion: the occupied minutes on which the sensor sees someone move.
    func motionSeen(room: String, time: Int64) -> Bool {
        let minute = floorDivision(time, 60_000)
        let local = LocalTime(utcMilliseconds: time, timeZone: timeZone)
        if unusualActive(sensor: "\(room).motion", local: local) { return true }
        return occupied(room: room, minute: minute) && unit("\(room).motion", minute) < Self.motionDetection
    }

    /// CO₂ (ppm): every occupied minute of the last four hours adds `co2PerMinute`, decaying with
    /// `co2DecayMinutes`; summed per slot in closed form so a value costs a few hashes.
    func co2(room: String, time: Int64) -> Double {
        let now = Double(time) / 60_000
        let minute = floorDivision(time, 60_000)
        let length = slotLength(room: room)
        var excess = 0.0
        let tau = Self.co2DecayMinutes
        var slotIndex = slot(room: room, minute: minute)
        while true {
            let start = Double(slotStart(room: room, slot: slotIndex))
            if now - start > 240 { break }
            if slotOccupied(room: room, slot: slotIndex) {
                // ∫ rate · e^{-(now − s)/τ} ds over the slot's part before now.
                let end = min(now, start + Double(length))
                if end > start {
                    excess += Self.co2PerMinute * tau * (exp(-(now - end) / tau) - exp(-(now - start) / tau))
                }
            }
            slotIndex -= 1
        }
        return rounded(Self.co2Outdoor + excess + 6 * smoothNoise("\(room).co2", time), 0)
    }

    /// Light in an air-only room: daylight, plus a lamp while someone is there after dark.
    func airRoomLight(room: String, local: LocalTime, time: Int64) -> Double {
        let daylight = light(room: room, local: local, time: time, lamps: false)
        let lamp = daylight < 40 && occupied(room: room, at: time) ? 180.0 : 0
        return max(0, daylight + lamp + 3 * smoothNoise("\(room).lamp", time))
    }

    func floorDivision(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }
}
