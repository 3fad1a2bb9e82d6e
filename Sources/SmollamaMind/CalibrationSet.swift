import Foundation
public import SmollamaCore

/// One narration task of the calibration set: an evidence packet, and what the first observation
/// written from it must name: the room, and for a level the direction of the change.
public struct NarrationTask: Sendable, Hashable {
    public enum Direction: String, Sendable, Hashable, Codable {
        case up, down, none
    }

    public var id: String
    public var packet: EvidencePacket
    /// The room in words ("living room").
    public var room: String
    public var direction: Direction
}

/// One routing question of the calibration set, with the tool that answers it and the sensor it is
/// about (nil: no sensor, or any).
public struct RoutingTask: Sendable, Hashable {
    public var id: String
    public var question: String
    public var tool: String
    public var sensor: String?
}

/// The fixed calibration set `smollama models check` runs: 22 narration tasks (levels above or
/// below their usual, activity at unusual hours, first activity after a long quiet, doors at
/// night, faults) over a made-up house with rooms the simulated house does not have, and 20
/// routing questions. Fixed so scores of different models compare; never tuned to one model.
public enum CalibrationSet {
    /// The calibration house: six rooms, each with the same kinds of sensors.
    public static let rooms = ["kitchen", "bedroom", "office", "living_room", "bathroom", "hallway"]

    public static let sensors: [SensorID: SensorDescriptor] = {
        var sensors: [SensorID: SensorDescriptor] = [:]
        for room in rooms {
            let words = room.replacingOccurrences(of: "_", with: " ")
            let title = words.prefix(1).uppercased() + words.dropFirst()
            for (quantity, unit, kind) in [("temperature", "°C", SensorDescriptor.Kind.numeric), ("humidity", "%", .numeric),
                                           ("illuminance", "lx", .numeric), ("carbon_dioxide", "ppm", .numeric),
                                           ("motion", "", .binary), ("door", "", .binary)] {
                let id = SensorID("\(room).\(quantity)")
                sensors[id] = SensorDescriptor(id: id, name: "\(title) \(quantity.replacingOccurrences(of: "_", with: " "))",
                                               kind: kind, unit: unit, deviceClass: quantity)
            }
        }
        return sensors
    }()

    /// (room, quantity, mean, usual, level): a level away from its usual at this hour.
    static let levels: [(String, String, Double, Double)] = [
        ("kitchen", "temperature", 24.6, 21.0), ("bedroom", "temperature", 16.2, 19.5), ("office", "humidity", 71, 48),
        ("living_room", "illuminance", 12, 240), ("bathroom", "humidity", 88, 55), ("office", "carbon_dioxide", 1450, 650),
        ("bedroom", "carbon_dioxide", 420, 900), ("hallway", "temperature", 14.8, 19.0), ("kitchen", "illuminance", 820, 150),
        ("living_room", "temperature", 25.3, 21.4), ("bathroom", "temperature", 17.1, 22.3), ("living_room", "humidity", 30, 45),
    ]

    public static let narration: [NarrationTask] = {
        var tasks: [NarrationTask] = []
        for (index, (room, quantity, mean, usual)) in levels.enumerated() {
            let sensor = SensorID("\(room).\(quantity)")
            let unit = sensors[sensor]?.unit ?? ""
            let decimals = EvidenceBuilder.decimals(unit: unit)
            let spread = abs(mean - usual) / 4
            let values = [
                EvidenceValue(name: "mean", value: mean, unit: unit, decimals: decimals),
                EvidenceValue(name: "min", value: EvidenceBuilder.round(mean - spread / 4, decimals), unit: unit, decimals: decimals),
                EvidenceValue(name: "max", value: EvidenceBuilder.round(mean + spread / 4, decimals), unit: unit, decimals: decimals),
                EvidenceValue(name: "usual", value: usual, unit: unit, decimals: decimals),
                EvidenceValue(name: "deviation", value: EvidenceBuilder.round((mean - usual) / spread, 1), unit: "", decimals: 1),
            ]
            let fact = EvidenceFact(id: "f1", key: "\(sensor)/stats", kind: .numeric, sensor: sensor, values: values,
                                    level: index % 2 == 0 ? .strong : .unusual)
            tasks.append(task("level-\(index + 1)", fact, hour: 8 + index, room: room,
                              direction: mean > usual ? .up : .down))
        }
        let binary: [(String, String, Double, Double, Double)] = [
            ("kitchen", "motion", 4, 3, 10), ("office", "motion", 2, 1, 5), ("living_room", "motion", 6, 9, 15),
            ("bathroom", "door", 3, 2, 8),
        ]
        for (index, (room, quantity, activations, on, share)) in binary.enumerated() {
            let sensor = SensorID("\(room).\(quantity)")
            let fact = EvidenceFact(id: "f1", key: "\(sensor)/activity", kind: .binary, sensor: sensor, values: [
                EvidenceValue(name: "activations", value: activations, unit: "times", decimals: 0),
                EvidenceValue(name: "on", value: on, unit: "min", decimals: 0),
                EvidenceValue(name: "share of days active at this hour", value: share, unit: "%", decimals: 0),
            ], level: .unusual)
            tasks.append(task("hour-\(index + 1)", fact, hour: 2 + index, room: room, direction: .none))
        }
        let quiet: [(String, Double, Double)] = [("hallway", 6.5, 3.10), ("bedroom", 5.2, 4.20), ("kitchen", 7.5, 1.45)]
        for (index, (room, hours, at)) in quiet.enumerated() {
            let sensor = SensorID("\(room).motion")
            let fact = EvidenceFact(id: "f1", key: "\(sensor)/quiet-ended", kind: .notable, sensor: sensor, values: [
                EvidenceValue(name: "quiet before", value: hours, unit: "h", decimals: 1),
                EvidenceValue(name: "at", value: at, unit: "time", decimals: 2),
            ], level: .strong, note: "first activity after a long quiet")
            tasks.append(task("quiet-\(index + 1)", fact, hour: Int(at), room: room, direction: .none))
        }
        for (index, (room, at)) in [("hallway", 2.40), ("kitchen", 1.15)].enumerated() {
            let sensor = SensorID("\(room).door")
            let fact = EvidenceFact(id: "f1", key: "\(sensor)/night-open", kind: .notable, sensor: sensor,
                                    values: [EvidenceValue(name: "at", value: at, unit: "time", decimals: 2)],
                                    level: .strong, note: "door opened at night")
            tasks.append(task("night-door-\(index + 1)", fact, hour: Int(at), room: room, direction: .none))
        }
        for (index, (room, quantity, reads)) in [("bathroom", "humidity", 14.0), ("office", "temperature", 9.0)].enumerated() {
            let sensor = SensorID("\(room).\(quantity)")
            let fact = EvidenceFact(id: "f1", key: "\(sensor)/fault", kind: .notable, sensor: sensor,
                                    values: [EvidenceValue(name: "failed reads", value: reads, unit: "times", decimals: 0)],
                                    level: .strong, note: EvidenceFact.faultNote)
            tasks.append(task("fault-\(index + 1)", fact, hour: 13 + index, room: room, direction: .none))
        }
        // Interleaved, so the first few (`--tasks 5`) cover several situations.
        return tasks.enumerated().sorted { ($0.offset % 5, $0.offset) < ($1.offset % 5, $1.offset) }.map(\.element)
    }()

    /// A packet around one highlighted fact: the window, the fact, and an ordinary temperature of
    /// another room (so naming the right room means something).
    static func task(_ id: String, _ fact: EvidenceFact, hour: Int, room: String, direction: NarrationTask.Direction)
        -> NarrationTask
    {
        let other = SensorID("\(room == "hallway" ? "kitchen" : "hallway").temperature")
        let start = UTCMillis(rawValue: Int64(20_000 + hour / 24) * 86_400_000 + Int64(hour % 24) * 3_600_000)
        let packet = EvidencePacket(
            windowStart: start, windowEnd: start + .seconds(900),
            facts: [
                EvidenceFact(id: "f0", key: "window@\(start)", kind: .window, sensor: nil, values: [
                    EvidenceValue(name: "from", value: Double(hour % 24), unit: "time", decimals: 2),
                    EvidenceValue(name: "to", value: Double(hour % 24) + 0.15, unit: "time", decimals: 2),
                    EvidenceValue(name: "length", value: 15, unit: "min", decimals: 0),
                ], level: .ordinary, note: LocalClock.weekdayNames[(hour + 2) % 7]),
                fact,
                EvidenceFact(id: "f2", key: "\(other)/stats", kind: .numeric, sensor: other, values: [
                    EvidenceValue(name: "mean", value: 20.4, unit: "°C", decimals: 1),
                    EvidenceValue(name: "usual", value: 20.3, unit: "°C", decimals: 1),
                ], level: .ordinary),
            ],
            sensors: sensors)
        return NarrationTask(id: id, packet: packet, room: room.replacingOccurrences(of: "_", with: " "),
                             direction: direction)
    }

    public static let routing: [RoutingTask] = [
        RoutingTask(id: "route-1", question: "What is the temperature in the living room right now?", tool: "current_state",
                    sensor: "living_room.temperature"),
        RoutingTask(id: "route-2", question: "Was there motion in the hallway in the last 24 hours?", tool: "history",
                    sensor: "hallway.motion"),
        RoutingTask(id: "route-3", question: "When is the kitchen usually busy on weekdays?", tool: "recall",
                    sensor: nil),
        RoutingTask(id: "route-4", question: "How warm is the kitchen now?", tool: "current_state",
                    sensor: "kitchen.temperature"),
        RoutingTask(id: "route-5", question: "How did the office CO2 change over the last few hours?", tool: "history",
                    sensor: "office.carbon_dioxide"),
        RoutingTask(id: "route-6", question: "Is the bathroom door open at the moment?", tool: "current_state",
                    sensor: "bathroom.door"),
        RoutingTask(id: "route-7", question: "What habits have you learned about this household?", tool: "recall", sensor: nil),
        RoutingTask(id: "route-8", question: "How often was the hallway door opened today?", tool: "history",
                    sensor: "hallway.door"),
        RoutingTask(id: "route-9", question: "What is the humidity in the bathroom currently?", tool: "current_state",
                    sensor: "bathroom.humidity"),
        RoutingTask(id: "route-10", question: "Has anything unusual happened this week?", tool: "recall", sensor: nil),
        RoutingTask(id: "route-11", question: "Did anyone move in the bedroom during the night?", tool: "history",
                    sensor: "bedroom.motion"),
        RoutingTask(id: "route-12", question: "How bright is the office right now?", tool: "current_state",
                    sensor: "office.illuminance"),
        RoutingTask(id: "route-13", question: "What is the usual temperature of the bedroom in the evening?", tool: "recall",
                    sensor: nil),
        RoutingTask(id: "route-14", question: "How has the living room humidity changed since this morning?", tool: "history",
                    sensor: "living_room.humidity"),
        RoutingTask(id: "route-15", question: "What is the CO2 level in the bedroom now?", tool: "current_state",
                    sensor: "bedroom.carbon_dioxide"),
        RoutingTask(id: "route-16", question: "What do you remember about the kitchen door?", tool: "recall", sensor: nil),
        RoutingTask(id: "route-17", question: "Show me how the bathroom temperature went over the past hours.", tool: "history",
                    sensor: "bathroom.temperature"),
        RoutingTask(id: "route-18", question: "Is there motion in the office at this moment?", tool: "current_state",
                    sensor: "office.motion"),
        RoutingTask(id: "route-19", question: "When does the hallway usually get quiet at night?", tool: "recall", sensor: nil),
        RoutingTask(id: "route-20", question: "How did the kitchen light level vary over the last hours?", tool: "history",
                    sensor: "kitchen.illuminance"),
    ]
}
