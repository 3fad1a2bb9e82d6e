public import Foundation
public import SmollamaCore

/// Serves the simulated house as a driver: the default on a fresh install, so a new node shows
/// something real before any hardware is wired.
public struct SimulatedHouseDriver: SensorDriver {
    public struct Options: Codable, Sendable, Hashable {
        public var name = "house"
        public var interval: ConfigDuration = .seconds(10)
        public var seed: UInt64 = 42
        public var rooms = ["living_room", "hallway"]
        public var doors = ["hallway"]
        /// Rooms with only CO₂ and light sensors.
        public var airRooms: [String] = []
        public var unusualEvents = [SimulatedHouse.UnusualEvent(sensor: "hallway.motion", at: "03:10", weekday: "tuesday")]
        /// The node's time zone (`node.timezone`, from the driver context; not a key of its own).
        public var timeZone = SimulatedHouse.utc

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, interval, seed, rooms, doors
            case airRooms = "air_rooms"
            case unusualEvents = "unusual_events"
        }

        public init() {}

        enum RemovedKeys: String, CodingKey { case utcOffsetMinutes = "utc_offset_minutes" }

        public init(from decoder: any Decoder) throws {
            if let removed = try? decoder.container(keyedBy: RemovedKeys.self), removed.contains(.utcOffsetMinutes) {
                throw DecodingError.dataCorruptedError(
                    forKey: .utcOffsetMinutes, in: removed,
                    debugDescription: "utc_offset_minutes was removed: the house follows node.timezone (an IANA name "
                        + "such as Europe/Berlin); delete this key and set node.timezone instead")
            }
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decodeIfPresent(String.self, forKey: .name) ?? name
            interval = try c.decodeIfPresent(ConfigDuration.self, forKey: .interval) ?? interval
            seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? seed
            rooms = try c.decodeIfPresent([String].self, forKey: .rooms) ?? rooms
            doors = try c.decodeIfPresent([String].self, forKey: .doors) ?? doors
            airRooms = try c.decodeIfPresent([String].self, forKey: .airRooms) ?? airRooms
            unusualEvents = try c.decodeIfPresent([SimulatedHouse.UnusualEvent].self, forKey: .unusualEvents)
                ?? unusualEvents
            for room in rooms + airRooms where !SensorID.validate(room) {
                throw DecodingError.dataCorruptedError(
                    forKey: .rooms, in: c, debugDescription: "room '\(room)' must be lower-case letters, digits and _")
            }
            if let both = airRooms.first(where: rooms.contains) {
                throw DecodingError.dataCorruptedError(
                    forKey: .airRooms, in: c, debugDescription: "room '\(both)' is in both rooms and air_rooms; name it once")
            }
            for door in doors where !rooms.contains(door) {
                throw DecodingError.dataCorruptedError(
                    forKey: .doors, in: c, debugDescription: "door room '\(door)' is not in rooms \(rooms)")
            }
        }

        public var house: SimulatedHouse {
            SimulatedHouse(seed: seed, rooms: rooms, doors: doors, unusualEvents: unusualEvents,
                           timeZone: timeZone, airRooms: airRooms)
        }
    }

    public static let kind = SensorDriverKind(
        name: "simulated_house", summary: "a deterministic simulated house (temperature, humidity, light, motion, door)"
    ) { entry, context in
        var options = try Options(from: entry)
        options.timeZone = context.timeZone
        return SimulatedHouseDriver(options: options)
    }

    public let name: String
    public let interval: Duration
    public var isSimulated: Bool { true }
    public let house: SimulatedHouse
    public let sensors: [SensorDescriptor]

    public init(options: Options = .init()) {
        name = options.name
        interval = options.interval.duration
        house = options.house
        sensors = house.sensors(prefix: nil)
    }

    public func read(now: UTCMillis) async throws -> [SensorSample] {
        samples(at: now.rawValue)
    }

    /// Every sensor's value at `time`; also what backfill uses.
    public func samples(at time: Int64) -> [SensorSample] {
        sensors.map { sensor in
            let parts = sensor.id.rawValue.split(separator: ".")
            return SensorSample(
                sensor: sensor.id, value: house.value(room: String(parts[0]), what: String(parts[1]), at: time))
        }
    }
}
