public import SmollamaCore
import SmollamaStore

/// `areas:` in config.yaml: rooms named by hand, one list of sensor ids per area:
///
///     areas:
///       study: [office.co2, office.light]
///
/// The shape people think in (a room and what is in it) and the one the file checks best: each
/// sensor in at most one area. Sensors not listed stay in their id's first part.
extension NodeConfig {
    /// Sensor → area, for `EvidenceSettings`, `PresenceReader` and `DisplayNames`.
    public var sensorAreas: [SensorID: String] {
        var map: [SensorID: String] = [:]
        for (area, sensors) in areas {
            for sensor in sensors { map[SensorID(sensor)] = area }
        }
        return map
    }

    /// Shapes only (names and ids written right, no sensor in two areas); whether the ids are
    /// this node's sensors is `checkAreas(known:file:)`, once the sensors are known.
    func checkAreas() throws(ConfigProblem) {
        var seen: [String: String] = [:]
        for (area, sensors) in areas.sorted(by: { $0.key < $1.key }) {
            let key = "areas.\(area)"
            try ConfigProblem.require(
                SensorID.validate(area) && !area.contains("."), key,
                "'\(area)' is not an area name; use lower-case letters, digits and _ (e.g. study, living_room)")
            try ConfigProblem.require(!sensors.isEmpty, key, "lists no sensors; list sensor ids, e.g. [office.co2, office.light]")
            for sensor in sensors {
                try ConfigProblem.require(
                    SensorID.validate(sensor), key,
                    "'\(sensor)' is not a sensor id (lower-case letters, digits, _ - and .; see `smollama sensors`)")
                if let other = seen[sensor] {
                    throw ConfigProblem(key: key, problem: "sensor '\(sensor)' is already in area '\(other)'; put it in one area")
                }
                seen[sensor] = area
            }
        }
    }

    /// Refuses an `areas:` sensor id that is none of `known` (the node's sensors), naming the key.
    public func checkAreas(known: Set<SensorID>, file: String) throws {
        for (area, sensors) in areas.sorted(by: { $0.key < $1.key }) {
            for sensor in sensors where !known.contains(SensorID(sensor)) {
                let list = known.map(\.rawValue).sorted()
                throw NodeError.invalidConfig(
                    path: file, key: "areas.\(area)",
                    problem: "'\(sensor)' is not a sensor of this node; fix the id or remove it. Sensors: "
                        + (list.isEmpty ? "none yet (start the node or import history first)" : list.joined(separator: ", ")))
            }
        }
    }
}

extension NodeRuntime {
    /// `areas:` checked against the sensors this node has stored (and `extra`, e.g. the drivers'
    /// sensors at start), as sensor → area.
    public func areas(extra: [SensorID] = []) async throws -> [SensorID: String] {
        guard !config.areas.isEmpty else { return [:] }
        let stored = try await database.readings.registeredSensors().map(\.descriptor.id)
        try config.checkAreas(known: Set(stored + extra), file: paths.configFile)
        return config.sensorAreas
    }
}
