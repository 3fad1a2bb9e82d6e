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

    /// Adds one reading: the same as merging a rollup of it alone.
    public mutating func add(_ value: Double, at time: UTCMillis) {
        count += 1
        min = Swift.min(min, value)
        max = Swift.max(max, value)
        sum += value
        if time >= lastTime {
            last = value
            lastTime = time
        }
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

    /// Every bucket touched, with what it holds so far.
    public var rollups: [Key: Rollup] {
        var all = settled
        for rollup in open.compactMap({ $0 }) { all[Key(rollup)] = rollup }
        return all
    }
    public private(set) var carry: [SensorID: BinaryCarry]
    /// Buckets touched, except the open ones.
    private var settled: [Key: Rollup] = [:]
    /// Per resolution, the bucket the last reading went to, kept out of the dictionary: a run of
    /// one sensor's readings stays in a bucket for minutes, so most readings add to it without a
    /// hash (issue 21). Where it is open, `settled` may hold an older copy of it: never read.
    private var open: [Rollup?] = Array(repeating: nil, count: Rollup.Resolution.allCases.count)

    public struct Key: Hashable, Sendable {
        public var sensor: SensorID
        public var resolution: Rollup.Resolution
        public var bucketStart: UTCMillis

        public init(sensor: SensorID, resolution: Rollup.Resolution, bucketStart: UTCMillis) {
            self.sensor = sensor
            self.resolution = resolution
            self.bucketStart = bucketStart
        }

        init(_ rollup: Rollup) {
            self.init(sensor: rollup.sensor, resolution: rollup.resolution, bucketStart: rollup.bucketStart)
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
        for (position, resolution) in Rollup.Resolution.allCases.enumerated() {
            let bucketStart = resolution.bucketStart(reading.time)
            if open[position]?.bucketStart != bucketStart || open[position]?.sensor != reading.sensor {
                if let previous = open[position] { settled[Key(previous)] = previous }
                open[position] = try seeded(Key(sensor: reading.sensor, resolution: resolution, bucketStart: bucketStart),
                                            stored: stored)
            }
            // What `merge` does with a rollup of this one reading.
            open[position]?.add(reading.value, at: reading.time)
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

    /// The bucket's rollup so far: built here, else stored, else empty (and then held here).
    private mutating func seeded(_ key: Key, stored: (Key) throws -> Rollup?) rethrows -> Rollup {
        if let position = Rollup.Resolution.allCases.firstIndex(of: key.resolution), let rollup = open[position],
           rollup.sensor == key.sensor, rollup.bucketStart == key.bucketStart {
            return rollup
        }
        if let rollup = settled[key] { return rollup }
        let rollup = try stored(key) ?? Rollup(sensor: key.sensor, resolution: key.resolution, bucketStart: key.bucketStart)
        settled[key] = rollup
        return rollup
    }

    /// Changes the bucket's rollup where it is held (open or settled); seeds it first.
    private mutating func modify(_ key: Key, stored: (Key) throws -> Rollup?, _ change: (inout Rollup) -> Void) rethrows {
        if let position = Rollup.Resolution.allCases.firstIndex(of: key.resolution), var rollup = open[position],
           rollup.sensor == key.sensor, rollup.bucketStart == key.bucketStart {
            change(&rollup)
            open[position] = rollup
            return
        }
        var rollup = try seeded(key, stored: stored)
        change(&rollup)
        settled[key] = rollup
    }

    private mutating func addOnCount(sensor: SensorID, at time: UTCMillis, stored: (Key) throws -> Rollup?) rethrows {
        for resolution in Rollup.Resolution.allCases {
            let key = Key(sensor: sensor, resolution: resolution, bucketStart: resolution.bucketStart(time))
            try modify(key, stored: stored) { $0.onCount += 1 }
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
                try modify(key, stored: stored) { $0.onDuration += (end - start).wholeMilliseconds }
                start = end
            }
        }
    }
}
