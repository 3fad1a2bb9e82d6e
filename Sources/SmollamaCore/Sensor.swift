/// What a sensor measures and how its values are to be read. Metadata flows into the store,
/// the dashboard and (later) Home Assistant discovery.
public struct SensorDescriptor: Hashable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// A measured quantity (temperature, lux, bytes free).
        case numeric
        /// On/off: motion, door contact. Stored as 0/1 transitions, rolled up as on-count and on-duration.
        case binary
    }

    public var id: SensorID
    /// Human-readable name ("Living room temperature").
    public var name: String
    public var kind: Kind
    /// Unit symbol as people write it (`°C`, `%`, `lx`, `hPa`, `B`); empty for binary sensors.
    public var unit: String
    /// Home Assistant device class (`temperature`, `humidity`, `motion`, `door`, …), if any.
    public var deviceClass: String?
    /// Values outside this range are physically impossible for the sensor and are rejected.
    public var range: ClosedRange<Double>?

    public init(
        id: SensorID, name: String, kind: Kind = .numeric, unit: String = "", deviceClass: String? = nil,
        range: ClosedRange<Double>? = nil
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.unit = unit
        self.deviceClass = deviceClass
        self.range = range
    }
}

/// One value a driver produced. Time is not part of it: the scheduler stamps samples with the
/// node's clock, so every reading on a node is ordered by one clock.
public struct SensorSample: Hashable, Sendable {
    public var sensor: SensorID
    public var value: Double

    public init(sensor: SensorID, value: Double) {
        self.sensor = sensor
        self.value = value
    }
}

/// Why a sample was refused. Refused samples are counted and logged, never stored as readings.
public enum SampleRejection: Error, Hashable, Sendable, CustomStringConvertible {
    case notFinite(Double)
    case outOfRange(Double, ClosedRange<Double>)
    case notBinary(Double)
    case unknownSensor(SensorID)

    public var description: String {
        switch self {
        case .notFinite(let value): "value \(value) is not a finite number"
        case .outOfRange(let value, let range):
            "value \(value) is outside the sensor's range \(range.lowerBound)…\(range.upperBound)"
        case .notBinary(let value): "binary sensor reported \(value); expected 0 or 1"
        case .unknownSensor(let id): "driver reported sensor '\(id)', which it did not declare"
        }
    }

    /// Checks a value against what the sensor declared. Pure, so it is the one rule everywhere.
    public static func check(_ value: Double, for sensor: SensorDescriptor) -> SampleRejection? {
        guard value.isFinite else { return .notFinite(value) }
        if sensor.kind == .binary, value != 0, value != 1 { return .notBinary(value) }
        if let range = sensor.range, !range.contains(value) { return .outOfRange(value, range) }
        return nil
    }
}

/// A stored reading: a sensor's value at a node-clock time (UTC milliseconds).
public struct Reading: Hashable, Sendable, Codable {
    public var sensor: SensorID
    public var time: UTCMillis
    public var value: Double

    public init(sensor: SensorID, time: UTCMillis, value: Double) {
        self.sensor = sensor
        self.time = time
        self.value = value
    }
}
