public import Foundation
public import SmollamaCore
public import SmollamaStore

/// What stopped an import before it stored anything.
public enum ImportError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadable(String)
    case emptyFile(String)
    case badHeader(String)
    case notHomeAssistant(header: String)
    case noTimeColumn(String, columns: [String])
    case mappedColumnMissing(String, columns: [String])
    case noSensorColumns(columns: [String])
    case badMapping(String)
    case unknownTimezone(String)

    public var description: String {
        switch self {
        case .unreadable(let path): "cannot read \(path): check the path and its permissions"
        case .emptyFile(let path): "\(path) is empty: nothing to import"
        case .badHeader(let header): "the header line \"\(header.prefix(60))\" is not valid CSV (a quote is not closed)"
        case .notHomeAssistant(let header):
            "the header \"\(header.prefix(60))\" lacks entity_id, state and last_changed; is this a "
                + "Home Assistant history export? Try --format csv"
        case .noTimeColumn(let name, let columns):
            "no column named '\(name)'; the columns are: \(columns.joined(separator: ", "))"
        case .mappedColumnMissing(let name, let columns):
            "--map names column '\(name)', which the file lacks; the columns are: \(columns.joined(separator: ", "))"
        case .noSensorColumns(let columns):
            "no column to import: name them with --map COLUMN=SENSOR[:UNIT] (columns: \(columns.joined(separator: ", ")))"
        case .badMapping(let text):
            "--map '\(text)' is not COLUMN=SENSOR[:UNIT] with a sensor id such as living_room.temperature"
        case .unknownTimezone(let name):
            "--timezone '\(name)' is not an IANA time zone name (e.g. Europe/Berlin, America/New_York, UTC)"
        }
    }
}

/// `smollama import`: reads a history file in one streaming pass (two with `strict`), maps its
/// values to sensors and stores them as readings, then brings rollups up to date.
public struct HistoryImport: Sendable {
    public struct Options: Sendable {
        public var path: String
        public var format: ImportFormat?
        public var timeColumn: String?
        public var mappings: [ImportMapping]
        public var timezone: TimeZone?
        public var dryRun: Bool
        public var strict: Bool
        /// Readings per write transaction.
        public var batchSize: Int
        /// Rollups are brought up to date after this many added readings, and at the end.
        public var rollupEvery: Int
        /// Node time: values after `now` + 5 min are refused as being in the future.
        public var now: UTCMillis

        public init(path: String, format: ImportFormat? = nil, timeColumn: String? = nil, mappings: [ImportMapping] = [],
                    timezone: TimeZone? = nil, dryRun: Bool = false, strict: Bool = false, batchSize: Int = 5000,
                    rollupEvery: Int = 200_000, now: UTCMillis) {
            self.path = path
            self.format = format
            self.timeColumn = timeColumn
            self.mappings = mappings
            self.timezone = timezone
            self.dryRun = dryRun
            self.strict = strict
            self.batchSize = batchSize
            self.rollupEvery = rollupEvery
            self.now = now
        }
    }

    public struct Progress: Sendable {
        public var bytesRead: Int64
        public var totalBytes: Int64
        public var lines: Int
    }

    public let database: SmollamaDatabase
    public let options: Options

    public init(database: SmollamaDatabase, options: Options) {
        self.database = database
        self.options = options
    }

    /// Only the first bad lines are kept for the report; all are counted.
    static let reportedBadLines = 50

    public func run(progress: (Progress) -> Void = { _ in }) async throws -> ImportSummary {
        let started = ContinuousClock.now
        let total = (try? FileManager.default.attributesOfItem(atPath: options.path)[.size] as? NSNumber)?.int64Value ?? 0
        let digest = try Self.digest(path: options.path)
        var header = try LineReader(path: options.path)
        defer { header.close() }
        guard let first = try header.next(), !first.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw ImportError.emptyFile(options.path)
        }
        let format = options.format ?? ImportFormat.detect(header: first)
        let parser = try ImportLineParser(format: format, header: first, timeColumn: options.timeColumn,
                                          mappings: options.mappings, timezone: options.timezone)
        var summary = ImportSummary(file: options.path, format: format, digest: digest, dryRun: options.dryRun,
                                    strict: options.strict, ignoredColumns: parser.ignoredColumns)
        if !options.dryRun, let earlier = try await database.imports.importedFile(digest: digest) {
            summary.alreadyImported = earlier
            summary.seconds = Self.seconds(ContinuousClock.now - started)
            return summary
        }
        let known = Dictionary(uniqueKeysWithValues: try await database.readings.registeredSensors().map { ($0.descriptor.id, $0) })
        let live = try await database.imports.liveSensorsSince()
        if options.strict || options.dryRun {
            var check = ImportPass(parser: parser, known: known, liveSince: live, options: options, database: database, store: false)
            try await check.run(path: options.path, format: format) { bytes, lines in
                progress(Progress(bytesRead: bytes, totalBytes: total * (options.dryRun ? 1 : 2), lines: lines))
            }
            summary.absorb(check)
            if options.dryRun || summary.bad > 0 {
                summary.refused = !options.dryRun
                summary.seconds = Self.seconds(ContinuousClock.now - started)
                return summary
            }
        }
        var pass = ImportPass(parser: parser, known: known, liveSince: live, options: options, database: database, store: true)
        try await pass.run(path: options.path, format: format) { bytes, lines in
            let done = options.strict ? total + bytes : bytes
            progress(Progress(bytesRead: done, totalBytes: total * (options.strict ? 2 : 1), lines: lines))
        }
        try await database.readings.rollUpAll()
        summary.absorb(pass)
        try await database.imports.recordImportedFile(ImportLedgerEntry(
            digest: digest, path: options.path, format: format.rawValue, importedAt: options.now,
            rows: summary.lines, added: summary.added, firstTime: summary.firstTime,
            lastTime: summary.lastTime))
        summary.seconds = Self.seconds(ContinuousClock.now - started)
        return summary
    }

    static func digest(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImportError.unreadable(path) }
        defer { try? handle.close() }
        var digest = ContentDigest()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            digest.update([UInt8](chunk))
        }
        return digest.hex()
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// One pass over the file: parses, checks against the sensors, and (when storing) writes batches.
struct ImportPass {
    let parser: ImportLineParser
    let options: HistoryImport.Options
    let database: SmollamaDatabase
    let store: Bool
    /// Sensors already in the store, by id.
    let known: [SensorID: RegisteredSensor]
    /// Sensors a live driver records, with the time they were first registered.
    let liveSince: [SensorID: UTCMillis]

    var lines = 0
    var values = 0
    var added = 0
    var alreadyStored = 0
    var recordedLive = 0
    var missing = 0
    var outOfOrder = 0
    var bad = 0
    var badLines: [ImportSummary.BadLine] = []
    var sensors: [SensorID: ImportSummary.SensorReport] = [:]
    /// Descriptors decided so far (from the store, or from the first value of a new sensor).
    var descriptors: [SensorID: SensorDescriptor] = [:]
    var targets: [SensorID: ImportTarget] = [:]
    var lastTime: [SensorID: UTCMillis] = [:]
    var batch: [ImportedReading] = []
    var epoch: Int64?
    var sinceRollup = 0

    init(parser: ImportLineParser, known: [SensorID: RegisteredSensor], liveSince: [SensorID: UTCMillis],
         options: HistoryImport.Options, database: SmollamaDatabase, store: Bool) {
        self.parser = parser
        self.known = known
        self.liveSince = liveSince
        self.options = options
        self.database = database
        self.store = store
        descriptors = known.mapValues(\.descriptor)
    }

    mutating func run(path: String, format: ImportFormat, progress: (Int64, Int) -> Void) async throws {
        var reader = try LineReader(path: path)
        defer { reader.close() }
        if format != .jsonl { _ = try reader.next() }  // the header; JSON lines have none
        try await consume(&reader, progress: progress)
        try await flush()
    }

    private mutating func consume(_ reader: inout LineReader, progress: (Int64, Int) -> Void) async throws {
        while let line = try reader.next() {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            lines += 1
            if lines % 20_000 == 0 { progress(reader.bytesRead, lines) }
            let checked: [(ParsedValue, Double)]
            var missingHere = 0
            do throws(ImportLineError) {
                checked = try check(try parser.parse(line, missing: &missingHere))
            } catch {
                bad += 1
                if badLines.count < HistoryImport.reportedBadLines {
                    badLines.append(.init(line: reader.lineNumber, reason: error.description))
                }
                continue
            }
            missing += missingHere
            for (value, stored) in checked { try await take(value, stored: stored) }
        }
        progress(reader.bytesRead, lines)
    }

    /// Checks every value of a line before any is taken, so a bad line adds nothing.
    private mutating func check(_ parsed: [ParsedValue]) throws(ImportLineError) -> [(ParsedValue, Double)] {
        try parsed.map { value throws(ImportLineError) in
            guard value.time <= options.now + .seconds(300) else {
                throw ImportLineError("\(value.source): time \(Self.iso(value.time)) is in the future")
            }
            let descriptor = descriptors[value.sensor] ?? Self.descriptor(for: value)
            if let unit = value.unit, !unit.isEmpty, unit != descriptor.unit {
                throw ImportLineError("\(value.source): unit '\(unit)' but sensor '\(value.sensor)' is in '\(descriptor.unit)'")
            }
            switch value.value.stored(as: descriptor.kind) {
            case .success(let number):
                descriptors[value.sensor] = descriptor
                return (value, number)
            case .failure(let error):
                throw ImportLineError("\(value.source): \(error.description)")
            }
        }
    }

    private mutating func take(_ value: ParsedValue, stored number: Double) async throws {
        values += 1
        sensors[value.sensor, default: .init(source: value.source, sensor: value.sensor,
                                             kind: descriptors[value.sensor]?.kind ?? .numeric,
                                             unit: descriptors[value.sensor]?.unit ?? "",
                                             existing: known[value.sensor] != nil)].add(time: value.time, value: number)
        if let previous = lastTime[value.sensor], value.time < previous { outOfOrder += 1 }
        lastTime[value.sensor] = max(lastTime[value.sensor] ?? .distantPast, value.time)
        if let since = liveSince[value.sensor], value.time >= since {
            recordedLive += 1
            return
        }
        let target = try await target(for: value.sensor)
        batch.append(ImportedReading(sensorRowID: target?.rowID ?? 0, time: value.time, value: number))
        if batch.count >= options.batchSize { try await flush() }
    }

    /// The store row of a sensor (registered on first use when storing; nil in a check pass for new sensors).
    private mutating func target(for sensor: SensorID) async throws -> ImportTarget? {
        if let target = targets[sensor] { return target }
        guard let descriptor = descriptors[sensor] else { return nil }
        if !store {
            guard let known = known[sensor] else { return nil }
            return ImportTarget(rowID: known.rowID, descriptor: known.descriptor, liveSince: liveSince[sensor])
        }
        let target = try await database.imports.importTargets([descriptor], now: options.now)[sensor]
        targets[sensor] = target
        return target
    }

    private mutating func flush() async throws {
        guard !batch.isEmpty else { return }
        if store {
            let epoch: Int64
            if let existing = self.epoch {
                epoch = existing
            } else {
                epoch = try await database.imports.beginImportEpoch(
                    label: "import-\(UUID().uuidString.lowercased())", firstTime: batch[0].time)
                self.epoch = epoch
            }
            let count = try await database.imports.storeImported(batch, epoch: epoch)
            added += count
            alreadyStored += batch.count - count
            sinceRollup += count
            if sinceRollup >= options.rollupEvery {
                try await database.readings.rollUpAll()
                sinceRollup = 0
            }
        } else {
            // New sensors have no row yet: nothing of theirs can be stored already.
            let existing = batch.filter { $0.sensorRowID != 0 }
            let new = try await database.imports.countNotImported(existing)
            added += batch.count - existing.count + new
            alreadyStored += existing.count - new
        }
        batch.removeAll(keepingCapacity: true)
    }

    /// A new sensor's descriptor from its first value: on/off makes it binary.
    static func descriptor(for value: ParsedValue) -> SensorDescriptor {
        let kind: SensorDescriptor.Kind = if case .state = value.value { .binary } else { .numeric }
        return SensorDescriptor(id: value.sensor, name: displayName(value.sensor), kind: kind,
                                unit: kind == .binary ? "" : value.unit ?? "")
    }

    /// `living_room.temperature` → "Living room temperature".
    static func displayName(_ sensor: SensorID) -> String {
        let words = sensor.rawValue.replacingOccurrences(of: ".", with: " ").replacingOccurrences(of: "_", with: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    static func iso(_ time: UTCMillis) -> String {
        time.date.formatted(.iso8601)
    }
}
