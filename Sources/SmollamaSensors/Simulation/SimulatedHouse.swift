public import Foundation
public import SmollamaCore

/// A deterministic house: every value is a pure function of (seed, sensor, time), so the same
/// seed gives the same readings whether sampled live, backfilled for 90 days, or replayed in a
/// test. Temperature and humidity follow day/night and seasonal curves with smooth noise; light
/// follows daylight plus evening lamps; people occupy rooms at the household's usual hours
/// (`SimulatedOccupancy.swift`, the ground truth) and motion and CO₂ follow them;
/// the door opens when people leave and come home; planted unusual events (motion at 03:10 on a
/// Tuesday) happen exactly where configured.
public struct SimulatedHouse: Sendable, Hashable {
    public struct UnusualEvent: Codable, Sendable, Hashable {
        /// A binary sensor's id suffix within its room, as `hallway.motion`.
        public var sensor: String
        /// Local time of day, "HH:MM".
        public var at: String
        /// Lower-case English weekday (`tuesday`), or nil for every day.
        public var weekday: String?
        /// How long the sensor stays on.
        public var duration: ConfigDuration = .minutes(2)

        enum CodingKeys: String, CodingKey, CaseIterable { case sensor, at, weekday, duration }

        public init(sensor: String, at: String, weekday: String? = nil, duration: ConfigDuration = .minutes(2)) {
            self.sensor = sensor
            self.at = at
            self.weekday = weekday
            self.duration = duration
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            sensor = try c.decode(String.self, forKey: .sensor)
            at = try c.decode(String.self, forKey: .at)
            weekday = try c.decodeIfPresent(String.self, forKey: .weekday)
            duration = try c.decodeIfPresent(ConfigDuration.self, forKey: .duration) ?? duration
            guard minuteOfDay != nil else {
                throw DecodingError.dataCorruptedError(
                    forKey: .at, in: c, debugDescription: "'\(at)' is not a time of day; write HH:MM, e.g. 03:10")
            }
            if let weekday, Self.weekdays.firstIndex(of: weekday) == nil {
                throw DecodingError.dataCorruptedError(
                    forKey: .weekday, in: c,
                    debugDescription: "'\(weekday)' is not a weekday; write one of \(Self.weekdays.joined(separator: ", "))")
            }
        }

        /// Monday first, as ISO 8601 counts.
        static let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

        var minuteOfDay: Int? {
            let parts = at.split(separator: ":")
            guard parts.count == 2, let h = Int(parts[0]), let m = Int(parts[1]), (0..<24).contains(h),
                  (0..<60).contains(m) else { return nil }
            return h * 60 + m
        }
    }

    public var seed: UInt64
    public var rooms: [String]
    public var doors: [String]
    /// Rooms with only a CO₂ and a light sensor (no motion): where presence must be inferred from air and lamps.
    public var airRooms: [String]
    public var unusualEvents: [UnusualEvent]
    /// The house's time zone (the node's `node.timezone`): routines follow local time, daylight saving included.
    public var timeZone: TimeZone

    public init(seed: UInt64 = 42, rooms: [String] = ["living_room", "hallway"], doors: [String] = ["hallway"],
                unusualEvents: [UnusualEvent] = [UnusualEvent(sensor: "hallway.motion", at: "03:10", weekday: "tuesday")],
                timeZone: TimeZone = SimulatedHouse.utc, airRooms: [String] = []) {
        self.seed = seed
        self.rooms = rooms
        self.doors = doors
        self.airRooms = airRooms
        self.unusualEvents = unusualEvents
        self.timeZone = timeZone
    }

    public static let utc = TimeZone(identifier: "UTC") ?? .current

    public func sensors(prefix: String?) -> [SensorDescriptor] {
        func id(_ room: String, _ what: String) -> SensorID {
            SensorID([prefix, room, what].compactMap { $0 }.joined(separator: "."))
        }
        func title(_ room: String) -> String { room.replacingOccurrences(of: "_", with: " ").capitalized }
        let air = airRooms.flatMap { room in
            [
                SensorDescriptor(id: id(room, "co2"), name: "\(title(room)) CO₂", unit: "ppm",
                                 deviceClass: "carbon_dioxide", range: 0...10_000),
                SensorDescriptor(id: id(room, "light"), name: "\(title(room)) light", unit: "lx",
                                 deviceClass: "illuminance", range: 0...100_000),
            ]
        }
        return air + rooms.flatMap { room in
            var list = [
                SensorDescriptor(id: id(room, "temperature"), name: "\(title(room)) temperature", unit: "°C",
                                 deviceClass: "temperature", range: -40...85),
                SensorDescriptor(id: id(room, "humidity"), name: "\(title(room)) humidity", unit: "%",
                                 deviceClass: "humidity", range: 0...100),
                SensorDescriptor(id: id(room, "light"), name: "\(title(room)) light", unit: "lx",
                                 deviceClass: "illuminance", range: 0...100_000),
                SensorDescriptor(id: id(room, "motion"), name: "\(title(room)) motion", kind: .binary,
                                 deviceClass: "motion"),
            ]
            if doors.contains(room) {
                list.append(SensorDescriptor(id: id(room, "door"), name: "\(title(room)) door", kind: .binary,
                                             deviceClass: "door"))
            }
            return list
        }
    }

    /// The value of `room.what` at UTC millisecond `time`.
    public func value(room: String, what: String, at time: Int64) -> Double {
        let local = LocalTime(utcMilliseconds: time, timeZone: timeZone)
        let roomIndex = Double(rooms.firstIndex(of: room) ?? 0)
        let key = "\(room).\(what)"
        switch what {
        case "temperature":
            let daily = 2.5 * sin(2 * .pi * (local.hourOfDay - 9) / 24)
            let seasonal = -3 * cos(2 * .pi * (local.dayOfYear - 15) / 365)
            return rounded(20 + roomIndex * 0.8 + seasonal + daily + 0.6 * smoothNoise(key, time), 2)
        case "humidity":
            let daily = -6 * sin(2 * .pi * (local.hourOfDay - 9) / 24)
            return rounded(min(95, max(20, 52 - roomIndex * 3 + daily + 3 * smoothNoise(key, time))), 1)
        case "light" where airRooms.contains(room):
            return rounded(airRoomLight(room: room, local: local, time: time), 0)
        case "light":
            return rounded(light(room: room, local: local, time: time), 0)
        case "co2":
            return co2(room: room, time: time)
        case "motion":
            return motionSeen(room: room, time: time) ? 1 : 0
        case "door":
            return door(room: room, local: local, time: time) ? 1 : 0
        default:
            return .nan
        }
    }

    /// Probability that someone moves in a room during a minute, by local hour and day.
    public func motionProbability(hour: Int, weekend: Bool) -> Double {
        switch (hour, weekend) {
        case (0..<6, _): 0
        case (6, false): 0.15
        case (7..<9, false): 0.55
        case (9..<17, false): 0.04
        case (17..<18, false): 0.25
        case (6..<8, true): 0.02
        case (8..<12, true): 0.3
        case (12..<17, true): 0.2
        case (18..<22, _): 0.4
        case (22..<23, _): 0.12
        default: 0.02
        }
    }

    func door(room: String, local: LocalTime, time: Int64) -> Bool {
        if unusualActive(sensor: "\(room).door", local: local) { return true }
        // One leaving in the morning, one coming home in the evening, each a one-minute opening
        // at a minute picked per day.
        let day = Int64(local.dayNumber)
        let leave = (local.isWeekend ? 9 * 60 + 30 : 7 * 60 + 45) + Int(unit("\(room).door.leave", day) * 45)
        let arrive = 17 * 60 + 30 + Int(unit("\(room).door.arrive", day) * 60)
        return local.minuteOfDay == leave || local.minuteOfDay == arrive
    }

    func light(room: String, local: LocalTime, time: Int64, lamps: Bool = true) -> Double {
        let seasonShift = 1.5 * cos(2 * .pi * (local.dayOfYear - 172) / 365)  // longer days in June
        let sunrise = 6.5 - seasonShift
        let sunset = 19.5 + seasonShift
        var lux = 0.0
        if local.hourOfDay > sunrise, local.hourOfDay < sunset {
            let cloud = 0.7 + 0.3 * (smoothNoise("\(room).clouds", time) + 1) / 2
            lux = 400 * sin(.pi * (local.hourOfDay - sunrise) / (sunset - sunrise)) * cloud
        }
        let evening = local.hour >= 18 && local.hour < 23
        if lamps, evening, motionProbability(hour: local.hour, weekend: local.isWeekend) > 0.1 { lux += 150 }
        return max(0, lux)
    }

    func unusualActive(sensor: String, local: LocalTime) -> Bool {
        unusualEvents.contains { event in
            guard event.sensor == sensor, let start = event.minuteOfDay else { return false }
            if let weekday = event.weekday, UnusualEvent.weekdays.firstIndex(of: weekday) != local.weekdayIndex {
                return false
            }
            let minutes = Int((event.duration.milliseconds + 59_999) / 60_000)
            return local.minuteOfDay >= start && local.minuteOfDay < start + minutes
        }
    }

    // MARK: deterministic noise

    /// A uniform number in [0, 1) from (seed, key, n): SplitMix64 over a stable string hash.
    func unit(_ key: String, _ n: Int64) -> Double {
        var x = seed &+ stableHash(key) &+ UInt64(bitPattern: n) &* 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        x ^= x >> 31
        return Double(x >> 11) / Double(1 << 53)
    }

    /// Noise in [-1, 1] that changes smoothly: cosine interpolation between knots 20 min apart.
    func smoothNoise(_ key: String, _ time: Int64) -> Double {
        let knot: Int64 = 20 * 60_000
        let index = time >= 0 ? time / knot : (time - knot + 1) / knot
        let fraction = Double(time - index * knot) / Double(knot)
        let a = unit(key, index) * 2 - 1
        let b = unit(key, index + 1) * 2 - 1
        let w = (1 - cos(.pi * fraction)) / 2
        return a * (1 - w) + b * w
    }

    /// FNV-1a: Swift's Hasher is seeded per process, which would break determinism.
    func stableHash(_ text: String) -> UInt64 {
        text.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }

    func rounded(_ value: Double, _ places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }
}

/// Calendar fields of a UTC instant shifted to local time, computed without Foundation's
/// calendar so the simulation is fast enough to generate months in seconds.
struct LocalTime {
    let dayNumber: Int  // days since 1970-01-01 (local)
    let minuteOfDay: Int
    let hourOfDay: Double  // fractional
    var hour: Int { minuteOfDay / 60 }
    /// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
    var weekdayIndex: Int { ((dayNumber % 7) + 7 + 3) % 7 }
    var isWeekend: Bool { weekdayIndex >= 5 }
    let dayOfYear: Double

    init(utcMilliseconds: Int64, timeZone: TimeZone) {
        let offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(utcMilliseconds) / 1000))
        let local = utcMilliseconds + Int64(offset) * 1000
        let day = Int64((Double(local) / 86_400_000).rounded(.down))
        let msOfDay = local - day * 86_400_000
        dayNumber = Int(day)
        minuteOfDay = Int(msOfDay / 60_000)
        hourOfDay = Double(msOfDay) / 3_600_000
        // Close enough for seasons: the 365.2425-day year from the epoch's day of year (0).
        dayOfYear = (Double(day) + 0).truncatingRemainder(dividingBy: 365.2425)
    }
}
