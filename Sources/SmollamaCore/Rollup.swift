/// Aggregates of one sensor over one time bucket. Means are `sum / count`, so partial rollups
/// of the same bucket merge exactly (see `merge`).
public struct Rollup: Hashable, Sendable, Codable {
    public enum Resolution: Int64, Sendable, Codable, CaseIterable {
        case fiveMinutes = 300_000
        case hour = 3_600_000

        public var milliseconds: Int64 { rawValue }
        public var duration: Duration { .milliseconds(rawValue) }
        /// The start of the bucket holding `time` (floor, also before 1970).
        public func bucketStart(_ time: UTCMillis) -> UTCMillis {
            UTCMillis(rawValue: time.rawValue - ((time.rawValue % rawValue) + rawValue) % rawValue)
        }
    }

    public var sensor: SensorID
    public var resolution: Resolution
    public var bucketStart: UTCMillis
    public var count: Int64
    public var min: Double
    public var max: Double
    public var sum: Double
    public var last: Double
    public var lastTime: UTCMillis
    /// Binary sensors: how many times the sensor turned on in this bucket.
    public var onCount: Int64
    /// Binary sensors: milliseconds spent on within this bucket.
    public var onDuration: Int64

    public var mean: Double { count > 0 ? sum / Double(count) : .nan }

    public init(
        sensor: SensorID, resolution: Resolution, bucketStart: UTCMillis, count: Int64 = 0, min: Double = .infinity,
        max: Double = -.infinity, sum: Double = 0, last: Double = .nan, lastTime: UTCMillis = .distantPast, onCount: Int64 = 0,
        onDuration: Int64 = 0
    ) {
        self.sensor = sensor
        self.resolution = resolution
        self.bucketStart = bucketStart
        self.count = count
        self.min = min
        self.max = max
        self.sum = sum
        self.last = last
        self.lastTime = lastTime
        self.onCount = onCount
        self.onDuration = onDuration
    }

    /// Combines two partial rollups of the same bucket.
    public mutating func merge(_ other: Rollup) {
        precondition(other.sensor == sensor && other.bucketStart == bucketStart && other.resolution == resolution)
        if other.count > 0 {
            count += other.count
            min = Swift.min(min, other.min)
            max = Swift.max(max, other.max)
            sum += other.sum
            if other.lastTime >= lastTime {
                last = other.last
                lastTime = other.lastTime
            }
        }
        onCount += other.onCount
        onDuration += other.onDuration
    }
}

/// Turns readings (in time order per sensor) into rollup increments. Pure: the store feeds it
/// each batch after the last one it rolled up, with the carried binary state from before.
public struct RollupBuilder: Sendable {
    /// The last binary state seen per sensor, carried from one batch to the next.
    public struct BinaryCarry: Hashable, Sendable, Codable {
        public var value: Double
        public var time: UTCMillis
        public init(value: Double, time: UTCMillis) {
            self.value = value
            self.time = time
        }
    }

    /// An "on" state with no reading for longer than this is not assumed to have lasted:
    /// the node may have been off. Drivers re-report binary state well within this.
    public static let maxBinaryGap: Duration = .seconds(15 * 60)

    public private(set) var rollups: [Key: Rollup] = [:]
    public private(set) var carry: [SensorID: BinaryCarry]

    public struct Key: Hashable, Sendable {
        public var sensor: SensorID
        public var resolution: Rollup.Resolution
        public var bucketStart: UTCMillis

        public init(sensor: SensorID, resolution: Rollup.Resolution, bucketStart: UTCMillis) {
            self.sensor = sensor
            self.resolution = resolution
            self.bucketStart = bucketStart
        }
    }

    public init(carry: [SensorID: BinaryCarry] = [:]) {
        self.carry = carry
    }

    public mutating func add(_ reading: Reading, kind: SensorDescriptor.Kind) {
        add(reading, kind: kind, stored: { _ in nil })
    }

    /// Adds one reading on top of what is stored: the first time a bucket is touched, `stored`
    /// gives its stored rollup (nil: none), and the reading continues that rollup's running sums.
    /// So a bucket's sum is the same left fold over its readings in id order however the readings
    /// were split into batches, on the node and on the hub: their means agree to the bit.
    public mutating func add(_ reading: Reading, kind: SensorDescriptor.Kind, stored: (Key) throws -> Rollup?) rethrows {
        for resolution in Rollup.Resolution.allCases {
            let key = Key(
                sensor: reading.sensor, resolution: resolution, bucketStart: resolution.bucketStart(reading.time))
            var rollup = try seeded(key, stored: stored)
            rollup.merge(
                Rollup(
                    sensor: key.sensor, resolution: resolution, bucketStart: key.bucketStart, count: 1,
                    min: reading.value, max: reading.value, sum: reading.value, last: reading.value,
                    lastTime: reading.time))
            rollups[key] = rollup
        }
        guard kind == .binary else { return }
        let previous = carry[reading.sensor]
        if reading.value == 1, previous?.value != 1 {
            try addOnCount(sensor: reading.sensor, at: reading.time, stored: stored)
        }
        if let previous, previous.value == 1, reading.time > previous.time,
            reading.time - previous.time <= Self.maxBinaryGap
        {
            try addOnDuration(sensor: reading.sensor, from: previous.time, to: reading.time, stored: stored)
        }
        if let previous, reading.time < previous.time { return }  // never let an old reading rewind state
        carry[reading.sensor] = BinaryCarry(value: reading.value, time: reading.time)
    }

    /// The bucket's rollup so far: built here, else stored, else empty.
    private mutating func seeded(_ key: Key, stored: (Key) throws -> Rollup?) rethrows -> Rollup {
        if let rollup = rollups[key] { return rollup }
        let rollup = try stored(key) ?? Rollup(sensor: key.sensor, resolution: key.resolution, bucketStart: key.bucketStart)
        rollups[key] = rollup
        return rollup
    }

    private mutating func addOnCount(sensor: SensorID, at time: UTCMillis, stored: (Key) throws -> Rollup?) rethrows {
        for resolution in Rollup.Resolution.allCases {
            let key = Key(sensor: sensor, resolution: resolution, bucketStart: resolution.bucketStart(time))
            _ = try seeded(key, stored: stored)
            rollups[key]?.onCount += 1
        }
    }

    /// Splits [from, to) across the buckets it spans.
    private mutating func addOnDuration(sensor: SensorID, from: UTCMillis, to: UTCMillis,
                                        stored: (Key) throws -> Rollup?) rethrows {
        for resolution in Rollup.Resolution.allCases {
            var start = from
            while start < to {
                let bucket = resolution.bucketStart(start)
                let end = Swift.min(to, bucket + resolution.duration)
                let key = Key(sensor: sensor, resolution: resolution, bucketStart: bucket)
                _ = try seeded(key, stored: stored)
                rollups[key]?.onDuration += (end - start).wholeMilliseconds
                start = end
            }
        }
    }
}
