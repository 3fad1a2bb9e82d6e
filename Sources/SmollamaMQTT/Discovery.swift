import Foundation
public import SmollamaCore

/// Who the node is, for topics and Home Assistant's device block.
public struct MQTTNodeInfo: Sendable, Hashable {
    public var id: NodeID
    public var name: String
    public var role: String
    public var version: String

    public init(id: NodeID, name: String, role: String, version: String = "0.1") {
        self.id = id
        self.name = name
        self.role = role
        self.version = version
    }
}

/// Home Assistant MQTT discovery: one retained config message per entity, so every sensor (and
/// the node's latest observation) appears in HA with no YAML. Device classes HA does not know
/// for that component are left out rather than sent (HA would reject the whole entity).
public enum HomeAssistantDiscovery {
    /// Numeric sensor device classes HA accepts with a numeric state and `state_class: measurement`.
    public static let sensorDeviceClasses: Set<String> = [
        "apparent_power", "aqi", "area", "atmospheric_pressure", "battery", "blood_glucose_concentration",
        "carbon_dioxide", "carbon_monoxide", "conductivity", "current", "data_rate", "data_size", "distance",
        "duration", "energy", "energy_distance", "energy_storage", "frequency", "gas", "humidity", "illuminance",
        "irradiance", "moisture", "monetary", "nitrogen_dioxide", "nitrogen_monoxide", "nitrous_oxide", "ozone", "ph",
        "pm1", "pm10", "pm25", "power", "power_factor", "precipitation", "precipitation_intensity", "pressure",
        "reactive_power", "signal_strength", "sound_pressure", "speed", "sulphur_dioxide", "temperature",
        "volatile_organic_compounds", "volatile_organic_compounds_parts", "voltage", "volume", "volume_flow_rate",
        "volume_storage", "water", "weight", "wind_direction", "wind_speed",
    ]
    /// Binary sensor device classes HA accepts.
    public static let binarySensorDeviceClasses: Set<String> = [
        "battery", "battery_charging", "carbon_monoxide", "cold", "connectivity", "door", "garage_door", "gas", "heat",
        "light", "lock", "moisture", "motion", "moving", "occupancy", "opening", "plug", "power", "presence", "problem",
        "running", "safety", "smoke", "sound", "tamper", "update", "vibration", "window",
    ]

    public struct Device: Codable, Sendable, Hashable {
        public var identifiers: [String]
        public var name: String
        public var manufacturer: String
        public var model: String
        public var swVersion: String

        enum CodingKeys: String, CodingKey {
            case identifiers, name, manufacturer, model
            case swVersion = "sw_version"
        }
    }

    /// One entity's config payload, with HA's key names.
    public struct EntityConfig: Codable, Sendable, Hashable {
        public var name: String
        public var uniqueID: String
        public var objectID: String
        public var stateTopic: String
        public var valueTemplate: String
        public var deviceClass: String?
        public var stateClass: String?
        public var unitOfMeasurement: String?
        public var payloadOn: String?
        public var payloadOff: String?
        public var availabilityTopic: String
        public var payloadAvailable = "online"
        public var payloadNotAvailable = "offline"
        public var jsonAttributesTopic: String?
        public var device: Device

        enum CodingKeys: String, CodingKey {
            case name, device
            case uniqueID = "unique_id"
            case objectID = "object_id"
            case stateTopic = "state_topic"
            case valueTemplate = "value_template"
            case deviceClass = "device_class"
            case stateClass = "state_class"
            case unitOfMeasurement = "unit_of_measurement"
            case payloadOn = "payload_on"
            case payloadOff = "payload_off"
            case availabilityTopic = "availability_topic"
            case payloadAvailable = "payload_available"
            case payloadNotAvailable = "payload_not_available"
            case jsonAttributesTopic = "json_attributes_topic"
        }
    }

    public struct Message: Sendable, Hashable {
        /// `homeassistant/sensor/<node>_<sensor>/config`
        public var topic: String
        public var config: EntityConfig
    }

    /// `sensor` or `binary_sensor`.
    public static func component(for kind: SensorDescriptor.Kind) -> String {
        kind == .binary ? "binary_sensor" : "sensor"
    }

    /// Discovery messages for every sensor plus the "latest observation" entity.
    public static func messages(node: MQTTNodeInfo, sensors: [SensorDescriptor], config: MQTTConfig) -> [Message] {
        let base = config.nodeTopic(node: node.name)
        let nodeSegment = MQTTTopics.segment(node.name)
        let device = Device(identifiers: ["smollama_\(node.id.hex)"], name: node.name, manufacturer: "Smollama",
                            model: "smollama \(node.role)", swVersion: node.version)
        var messages = sensors.map { sensor -> Message in
            let component = component(for: sensor.kind)
            let object = objectID(nodeSegment, sensor.id.rawValue)
            let allowed = sensor.kind == .binary ? binarySensorDeviceClasses : sensorDeviceClasses
            let deviceClass = sensor.deviceClass.flatMap { allowed.contains($0) ? $0 : nil }
            var entity = EntityConfig(
                name: sensor.name, uniqueID: "smollama_\(node.id.hex)_\(objectID(sensor.id.rawValue))", objectID: object,
                stateTopic: "\(base)/sensors/\(sensor.id.rawValue)", valueTemplate: "{{ value_json.value }}",
                deviceClass: deviceClass, availabilityTopic: "\(base)/status", device: device)
            if sensor.kind == .binary {
                entity.valueTemplate = "{{ value_json.state }}"
                entity.payloadOn = "ON"
                entity.payloadOff = "OFF"
            } else {
                entity.stateClass = "measurement"
                entity.unitOfMeasurement = sensor.unit.isEmpty ? nil : sensor.unit
            }
            return Message(topic: "\(config.discoveryPrefix)/\(component)/\(object)/config", config: entity)
        }
        let observation = objectID(nodeSegment, "latest_observation")
        messages.append(Message(
            topic: "\(config.discoveryPrefix)/sensor/\(observation)/config",
            config: EntityConfig(
                name: "Latest observation", uniqueID: "smollama_\(node.id.hex)_latest_observation",
                objectID: observation, stateTopic: "\(base)/observations",
                // HA states are limited to 255 characters; the full text is an attribute.
                valueTemplate: "{{ value_json.text[:250] }}", availabilityTopic: "\(base)/status",
                jsonAttributesTopic: "\(base)/observations", device: device)))
        return messages
    }

    /// HA object ids: letters, digits, `_` and `-` only.
    static func objectID(_ parts: String...) -> String {
        parts.joined(separator: "_").lowercased().map { c -> String in
            c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "-") ? String(c) : "_"
        }.joined()
    }

    public static func encode(_ config: EntityConfig) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(config))) ?? []
    }
}
