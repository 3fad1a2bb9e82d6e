public import SmollamaCore
public import SmollamaStore

/// What an import did (or, with `dryRun`, would do). `--json` prints this.
public struct ImportSummary: Sendable, Codable, Hashable {
    public struct BadLine: Sendable, Codable, Hashable {
        public var line: Int
        public var reason: String
    }

    /// One sensor's values in the file.
    public struct SensorReport: Sendable, Codable, Hashable {
        public var source: String
        public var sensor: SensorID
        public var kind: SensorDescriptor.Kind
        public var unit: String
        /// The sensor was in the store before this import.
        public var existing: Bool
        public var values = 0
        public var firstTime: UTCMillis = .distantFuture
        public var firstValue = 0.0
        public var lastTime: UTCMillis = .distantPast
        public var lastValue = 0.0

        mutating func add(time: UTCMillis, value: Double) {
            values += 1
            if time < firstTime { (firstTime, firstValue) = (time, value) }
            if time >= lastTime { (lastTime, lastValue) = (time, value) }
        }
    }

    public var file: String
    public var format: ImportFormat
    /// SHA-256 of the file (the import ledger's key).
    public var digest: String
    public var dryRun: Bool
    public var strict: Bool
    /// Columns of a wide CSV that were not imported.
    public var ignoredColumns: [String]
    /// Set when the same file (by digest) was imported before: nothing was read or added.
    public var alreadyImported: ImportLedgerEntry?
    /// `strict` and bad lines: nothing was stored.
    public var refused = false
    /// Data lines read (blank lines not counted).
    public var lines = 0
    /// Values parsed from good lines.
    public var values = 0
    /// Readings stored (with `dryRun`: that would be stored).
    public var added = 0
    /// Values already imported before (same sensor and time), or repeated in the file.
    public var alreadyStored = 0
    /// Values of a live sensor at or after the node started recording it.
    public var recordedLive = 0
    /// Empty cells and Home Assistant `unavailable`/`unknown` states.
    public var missing = 0
    /// Values older than an earlier value of the same sensor in the file.
    public var outOfOrder = 0
    public var bad = 0
    /// The first bad lines (all are counted in `bad`).
    public var badLines: [BadLine] = []
    public var sensors: [SensorReport] = []
    public var seconds = 0.0

    public var firstTime: UTCMillis? { sensors.map(\.firstTime).min() }
    public var lastTime: UTCMillis? { sensors.map(\.lastTime).max() }

    init(file: String, format: ImportFormat, digest: String, dryRun: Bool, strict: Bool, ignoredColumns: [String]) {
        self.file = file
        self.format = format
        self.digest = digest
        self.dryRun = dryRun
        self.strict = strict
        self.ignoredColumns = ignoredColumns
    }

    mutating func absorb(_ pass: ImportPass) {
        lines = pass.lines
        values = pass.values
        added = pass.added
        alreadyStored = pass.alreadyStored
        recordedLive = pass.recordedLive
        missing = pass.missing
        outOfOrder = pass.outOfOrder
        bad = pass.bad
        badLines = pass.badLines
        sensors = pass.sensors.values.sorted { $0.sensor < $1.sensor }
    }
}
