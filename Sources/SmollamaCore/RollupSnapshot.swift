/// The current state of some rollup buckets of one node: the payload of a `rollup.snapshot`
/// event. A node with `sync.raw_readings: false` sends these instead of raw readings; the hub
/// stores each bucket as given (a later snapshot of a bucket replaces an earlier one, and the log
/// applies a node's events in seq order), so its charts equal the node's own rollups exactly.
public struct RollupSnapshot: Codable, Sendable, Hashable {
    /// One bucket as stored. Values a bucket without samples lacks (min, max, last) are nil:
    /// JSON cannot hold the infinities an empty `Rollup` carries.
    public struct Bucket: Codable, Sendable, Hashable {
        public var sensor: SensorID
        public var resolution: Rollup.Resolution
        public var start: UTCMillis
        public var count: Int64
        public var min: Double?
        public var max: Double?
        public var sum: Double
        public var last: Double?
        public var lastTime: UTCMillis?
        public var onCount: Int64
        public var onDuration: Int64

        public init(_ rollup: Rollup) {
            let has = rollup.count > 0
            sensor = rollup.sensor
            resolution = rollup.resolution
            start = rollup.bucketStart
            count = rollup.count
            min = has ? rollup.min : nil
            max = has ? rollup.max : nil
            sum = rollup.sum
            last = has ? rollup.last : nil
            lastTime = has ? rollup.lastTime : nil
            onCount = rollup.onCount
            onDuration = rollup.onDuration
        }

        public var rollup: Rollup {
            Rollup(sensor: sensor, resolution: resolution, bucketStart: start, count: count, min: min ?? .infinity,
                   max: max ?? -.infinity, sum: sum, last: last ?? .nan, lastTime: lastTime ?? .distantPast,
                   onCount: onCount, onDuration: onDuration)
        }
    }

    public var buckets: [Bucket]

    public init(buckets: [Bucket]) { self.buckets = buckets }

    /// Buckets per event: ~200 bytes each as JSON, so a push of 1000 events stays far below the
    /// hub's inflated-body cap.
    public static let maxBuckets = 64
}
