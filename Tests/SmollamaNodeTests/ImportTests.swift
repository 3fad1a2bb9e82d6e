import Foundation
import SmollamaCore
import SmollamaMind
@testable import SmollamaNode
import SmollamaStore
import SmollamaTesting
import Testing

/// `smollama import` against real temp stores and real files.
@Suite struct ImportTests {
    /// 2026-03-02T00:00:00Z, a Monday.
    static let start: Int64 = 1_772_409_600_000
    static let now: Int64 = start + 30 * 86_400_000

    let home: TemporaryDirectory
    let runtime: NodeRuntime

    init() async throws {
        home = try TemporaryDirectory("import")
        _ = try await NodeSetup.initialise(paths: SmollamaPaths(home: home.path), name: "t", role: .alpaca, sensors: .demo,
                                           force: false, now: 0)
        runtime = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: [])
    }

    func run(_ path: String, _ configure: (inout HistoryImport.Options) throws -> Void = { _ in }) async throws
        -> ImportSummary
    {
        var options = HistoryImport.Options(path: path, now: UTCMillis(rawValue: Self.now))
        try configure(&options)
        return try await HistoryImport(database: runtime.database, options: options).run()
    }

    static func iso(_ time: Int64) -> String {
        Date(timeIntervalSince1970: Double(time) / 1000).formatted(.iso8601)
    }

    /// Per-hour count, min, max and mean computed straight from the values, not by RollupBuilder.
    static func hourly(_ values: [(Int64, Double)]) -> [Int64: (count: Int64, min: Double, max: Double, mean: Double)] {
        Dictionary(grouping: values) { $0.0 / 3_600_000 * 3_600_000 }.mapValues { group in
            let numbers = group.map(\.1)
            return (Int64(numbers.count), numbers.min()!, numbers.max()!, numbers.reduce(0, +) / Double(numbers.count))
        }
    }

    func expectRollups(_ sensor: SensorID, equal values: [(Int64, Double)]) async throws {
        let stored = try await runtime.database.readings.rollups(sensor: sensor, resolution: .hour)
        let direct = Self.hourly(values)
        #expect(stored.count == direct.count)
        for rollup in stored {
            let expected = try #require(direct[rollup.bucketStart.rawValue])
            #expect(rollup.count == expected.count)
            #expect(rollup.min == expected.min && rollup.max == expected.max)
            #expect(abs(rollup.mean - expected.mean) < 1e-9)
        }
    }

    /// Two days of a temperature, a humidity with gaps and a motion sensor, one row a minute.
    func wideCSV() throws -> (path: String, temperature: [(Int64, Double)], humidity: [(Int64, Double)],
                              motion: [(Int64, Double)]) {
        var lines = ["time,Temp,hallway.humidity,Motion,note"]
        var temperature: [(Int64, Double)] = []
        var humidity: [(Int64, Double)] = []
        var motion: [(Int64, Double)] = []
        for minute in 0..<(2 * 1440) {
            let time = Self.start + Int64(minute) * 60_000
            let t = (200 + Double(minute % 97)) / 10
            temperature.append((time, t))
            let h = Double(40 + minute % 13)
            let hasHumidity = minute % 5 != 0
            if hasHumidity { humidity.append((time, h)) }
            let on = minute % 60 < 3
            motion.append((time, on ? 1 : 0))
            lines.append("\(Self.iso(time)),\(t),\(hasHumidity ? "\(Int(h))" : ""),\(on ? "on" : "off"),\"x, y\"")
        }
        let path = try home.write("wide.csv", lines.joined(separator: "\n") + "\n")
        return (path, temperature, humidity, motion)
    }

    @Test func wideCSVRoundTrips() async throws {
        let file = try wideCSV()
        let summary = try await run(file.path) {
            $0.mappings = [try ImportMapping(parsing: "Temp=living_room.temperature:°C"),
                           try ImportMapping(parsing: "Motion=hallway.motion"),
                           try ImportMapping(parsing: "hallway.humidity=hallway.humidity:%")]
        }
        #expect(summary.format == .csv && summary.lines == 2880 && summary.bad == 0)
        #expect(summary.ignoredColumns == ["note"])
        #expect(summary.missing == 576)
        #expect(summary.added == file.temperature.count + file.humidity.count + file.motion.count)
        let database = runtime.database
        for (sensor, values) in [("living_room.temperature", file.temperature), ("hallway.humidity", file.humidity),
                                 ("hallway.motion", file.motion)] {
            let stored = try await database.readings.fetch(sensor: SensorID(sensor))
            #expect(stored.count == values.count)
            #expect(stored.first?.time.rawValue == values.first?.0 && stored.first?.value == values.first?.1)
            #expect(stored.last?.time.rawValue == values.last?.0 && stored.last?.value == values.last?.1)
            try await expectRollups(SensorID(sensor), equal: values)
        }
        let sensors = try await database.readings.registeredSensors()
        let motion = try #require(sensors.first { $0.descriptor.id == "hallway.motion" })
        #expect(motion.descriptor.kind == .binary && motion.driver == "import")
        #expect(sensors.first { $0.descriptor.id == "living_room.temperature" }?.descriptor.unit == "°C")
        // Motion turned on once an hour for 3 minutes: on-count and on-time from the file's own states.
        let motionHours = try await database.readings.rollups(sensor: "hallway.motion", resolution: .hour)
        #expect(motionHours.allSatisfy { $0.onCount == 1 && $0.onDuration == 3 * 60_000 })
    }

    @Test func reimportAddsNothingAndOverlapAddsOnlyTheNew() async throws {
        let file = try wideCSV()
        let maps = [try ImportMapping(parsing: "Temp=living_room.temperature"),
                    try ImportMapping(parsing: "Motion=hallway.motion")]
        let first = try await run(file.path) { $0.mappings = maps }
        let count = try await runtime.database.readings.readingCount()
        let again = try await run(file.path) { $0.mappings = maps }
        #expect(again.alreadyImported?.added == first.added && again.added == 0)
        #expect(try await runtime.database.readings.readingCount() == count)
        // A different file whose rows overlap the first: only its 10 new minutes are added.
        let text = try String(contentsOfFile: file.path, encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        lines.removeSubrange(1..<1001)
        for minute in 2880..<2890 {
            lines.append("\(Self.iso(Self.start + Int64(minute) * 60_000)),21.5,,off,")
        }
        let overlap = try home.write("overlap.csv", lines.joined(separator: "\n"))
        let third = try await run(overlap) { $0.mappings = maps }
        #expect(third.alreadyImported == nil)
        #expect(third.added == 20 && third.alreadyStored == 2 * (2880 - 1000))
        #expect(try await runtime.database.readings.readingCount() == count + 20)
    }

    static let haExport = """
        entity_id,state,last_changed
        sensor.living_room_temperature,20.5,2026-03-02T08:00:00.000Z
        sensor.living_room_temperature,unavailable,2026-03-02T08:05:00.000Z
        sensor.living_room_temperature,21.0,2026-03-02T08:10:00.000Z
        sensor.living_room_temperature,21.5,2026-03-02T09:10:00.000Z
        binary_sensor.hallway_motion,off,2026-03-02T07:00:00.000Z
        binary_sensor.hallway_motion,on,2026-03-02T08:01:00.000Z
        binary_sensor.hallway_motion,unknown,2026-03-02T08:02:00.000Z
        binary_sensor.hallway_motion,off,2026-03-02T08:04:00.000Z
        sensor.office_co2,612,2026-03-02T08:00:00+01:00
        climate.office,heat,2026-03-02T08:00:00.000Z

        """

    @Test func homeAssistantExportRoundTrips() async throws {
        let path = try home.write("ha.csv", Self.haExport)
        let summary = try await run(path)
        #expect(summary.format == .homeAssistant)
        #expect(summary.lines == 10 && summary.missing == 2 && summary.added == 7)
        #expect(summary.badLines == [.init(line: 11, reason: "climate.office: state 'heat' is not a number or on/off")])
        let database = runtime.database
        let temperature = try await database.readings.fetch(sensor: "living_room.temperature")
        #expect(temperature.map(\.value) == [20.5, 21.0, 21.5])
        #expect(temperature.first?.time.rawValue == Self.start + 8 * 3_600_000)
        let motion = try await database.readings.fetch(sensor: "hallway.motion")
        #expect(motion.map(\.value) == [0, 1, 0])
        let co2 = try await database.readings.fetch(sensor: "office.co2")
        #expect(co2.map(\.time.rawValue) == [Self.start + 7 * 3_600_000])
        let sensors = Dictionary(uniqueKeysWithValues: try await database.readings.registeredSensors().map {
            ($0.descriptor.id, $0.descriptor)
        })
        #expect(sensors["living_room.temperature"]?.unit == "°C" && sensors["office.co2"]?.unit == "ppm")
        #expect(sensors["hallway.motion"]?.kind == .binary)
        try await expectRollups("living_room.temperature", equal: temperature.map { ($0.time.rawValue, $0.value) })
        let hours = try await database.readings.rollups(sensor: "hallway.motion", resolution: .hour)
        #expect(hours.map(\.onCount).reduce(0, +) == 1)
        #expect(hours.map(\.onDuration).reduce(0, +) == 3 * 60_000)
    }

    @Test func homeAssistantEntityIDsBecomeSensorIDs() throws {
        func sensor(_ entity: String) throws -> String { try ImportLineParser.homeAssistantMapping(entity).sensor.rawValue }
        #expect(try sensor("sensor.living_room_temperature") == "living_room.temperature")
        #expect(try sensor("binary_sensor.hallway_motion") == "hallway.motion")
        #expect(try sensor("sensor.bedroom_carbon_dioxide") == "bedroom.carbon_dioxide")
        #expect(try sensor("sensor.attic_fan") == "attic.fan")
        #expect(try sensor("sensor.outside") == "outside.state")
        #expect(throws: ImportLineError.self) { try ImportLineParser.homeAssistantMapping("nodot") }
    }

    @Test func jsonLinesRoundTrip() async throws {
        var lines: [String] = []
        var values: [(Int64, Double)] = []
        for index in 0..<500 {
            let time = Self.start + Int64(index) * 120_000
            let value = Double(index % 40) * 25
            values.append((time, value))
            // Alternate ISO strings and Unix seconds; the unit rides along.
            let stamp = index % 2 == 0 ? "\"\(Self.iso(time))\"" : "\(time / 1000)"
            lines.append(#"{"time": \#(stamp), "sensor": "office.illuminance", "value": \#(value), "unit": "lx"}"#)
        }
        lines.append(#"{"time": "2026-03-02T00:00:30Z", "sensor": "office.door", "value": true}"#)
        lines.append(#"{"time": 1772409660000, "sensor": "office.door", "value": "off"}"#)
        let path = try home.write("history.jsonl", lines.joined(separator: "\n"))
        let summary = try await run(path)
        #expect(summary.format == .jsonl && summary.bad == 0 && summary.added == 502)
        let stored = try await runtime.database.readings.fetch(sensor: "office.illuminance")
        #expect(stored.count == 500 && stored.first?.value == 0 && stored.last?.value == values.last?.1)
        #expect(stored.last?.time.rawValue == values.last?.0)
        try await expectRollups("office.illuminance", equal: values)
        #expect(try await runtime.database.readings.fetch(sensor: "office.door").map(\.value) == [1, 0])
    }

    /// Lines 3 (not a number), 5 (too few fields), 6 (no time) and 8 (in the future) are bad.
    static let badFile = """
        time,kitchen.temperature,kitchen.humidity
        2026-03-02T08:00:00Z,20.1,41
        2026-03-02T08:01:00Z,warm,41
        2026-03-02T08:02:00Z,20.3,42
        2026-03-02T08:03:00Z,20.4
        yesterday,20.5,43
        2026-03-02T08:05:00Z,20.6,44
        2036-03-02T08:06:00Z,20.7,45

        """

    @Test func badLinesAreReportedWithTheirNumbersAndSkipped() async throws {
        let path = try home.write("bad.csv", Self.badFile)
        let summary = try await run(path)
        #expect(summary.badLines.map(\.line) == [3, 5, 6, 8])
        #expect(summary.badLines[0].reason.contains("'warm' is not a number"))
        #expect(summary.badLines[1].reason.contains("2 fields where the header has 3"))
        #expect(summary.badLines[3].reason.contains("in the future"))
        #expect(summary.bad == 4 && summary.added == 6 && !summary.refused)
        #expect(try await runtime.database.readings.fetch(sensor: "kitchen.temperature").map(\.value) == [20.1, 20.3, 20.6])
    }

    @Test func strictRefusesTheFileAndStoresNothing() async throws {
        let path = try home.write("bad.csv", Self.badFile)
        let summary = try await run(path) { $0.strict = true }
        #expect(summary.refused && summary.bad == 4 && summary.badLines.map(\.line) == [3, 5, 6, 8])
        #expect(try await runtime.database.readings.readingCount() == 0)
        #expect(try await runtime.database.readings.registeredSensors().isEmpty)
        #expect(try await runtime.database.imports.importedFile(digest: summary.digest) == nil)
        // A clean file passes strict and is stored in full.
        let clean = try home.write("clean.csv", "time,kitchen.temperature\n2026-03-02T08:00:00Z,20\n2026-03-02T08:01:00Z,21\n")
        let stored = try await run(clean) { $0.strict = true }
        #expect(!stored.refused && stored.added == 2)
    }

    @Test func dryRunCountsAndStoresNothing() async throws {
        let file = try wideCSV()
        let maps = [try ImportMapping(parsing: "Temp=living_room.temperature:°C")]
        let dry = try await run(file.path) { $0.mappings = maps; $0.dryRun = true }
        #expect(dry.dryRun && dry.added == 2880 && dry.sensors.map(\.sensor) == ["living_room.temperature"])
        #expect(dry.sensors.first?.firstValue == 20 && dry.sensors.first?.unit == "°C")
        #expect(try await runtime.database.readings.readingCount() == 0)
        #expect(try await runtime.database.readings.registeredSensors().isEmpty)
        _ = try await run(file.path) { $0.mappings = maps }
        // After the import a dry run of an overlapping file sees the values as already stored.
        let copy = try home.write("copy.csv", try String(contentsOfFile: file.path, encoding: .utf8) + "\n")
        let again = try await run(copy) { $0.mappings = maps; $0.dryRun = true }
        #expect(again.added == 0 && again.alreadyStored == 2880)
    }

    @Test func liveSensorsKeepTheirOwnReadings() async throws {
        // A sensor a live driver registered at `start + 1 day`: imported values from then on are skipped.
        _ = try await runtime.database.readings.registerSensors(
            [SensorDescriptor(id: "living_room.temperature", name: "T", unit: "°C")], driver: "mqtt",
            now: UTCMillis(rawValue: Self.start + 86_400_000))
        let file = try wideCSV()
        let summary = try await run(file.path) { $0.mappings = [try ImportMapping(parsing: "Temp=living_room.temperature")] }
        #expect(summary.added == 1440 && summary.recordedLive == 1440)
        let refused = try await run(file.path) {
            $0.mappings = [try ImportMapping(parsing: "Temp=living_room.temperature:°F")]
            $0.dryRun = true
        }
        #expect(refused.bad == 2880 && refused.badLines[0].reason.contains("unit '°F'"))
    }

    @Test func timesParse() throws {
        let utc = ImportTimeParser(timezone: nil)
        #expect(try utc.parse("2026-03-02T00:00:00Z").rawValue == Self.start)
        #expect(try utc.parse("2026-03-02T01:00:00.250+01:00").rawValue == Self.start + 250)
        #expect(try utc.parse("1772409600").rawValue == Self.start)
        #expect(try utc.parse("1772409600000").rawValue == Self.start)
        #expect(throws: ImportLineError.self) { try utc.parse("2026-03-02 00:00:00").rawValue }
        let berlin = ImportTimeParser(timezone: TimeZone(identifier: "Europe/Berlin"))
        #expect(try berlin.parse("2026-03-02 01:00:00").rawValue == Self.start)
        // Summer time (UTC+2) from 2026-03-29.
        #expect(try berlin.parse("2026-07-01T12:00:00") == (try utc.parse("2026-07-01T10:00:00Z")))
    }

    @Test func observingImportedHistoryStoresObservationsAndMemories() async throws {
        let file = try wideCSV()
        _ = try await run(file.path) {
            $0.mappings = [try ImportMapping(parsing: "Temp=living_room.temperature:°C"),
                           try ImportMapping(parsing: "Motion=hallway.motion")]
        }
        let clock = try await MemoryWiring.commandClock(runtime: runtime)
        let loop = ObserveHistory.loop(runtime: runtime, clock: clock, narrator: nil, logger: .quiet)
        let report = try await ObserveHistory.observe(
            loop: loop, reflection: MemoryWiring.reflection(runtime: runtime, clock: clock, logger: .quiet),
            from: UTCMillis(rawValue: Self.start) + .seconds(86_400),
            to: UTCMillis(rawValue: Self.start) + .seconds(86_400 + 6 * 3_600), interval: .seconds(900))
        #expect(report.windows == 24)
        let stored = try await runtime.database.knowledge.recentObservations(limit: 1000)
        #expect(!stored.isEmpty && report.stored["rules", default: 0] == stored.count)
        #expect(stored.allSatisfy { $0.record.timeStart.rawValue >= Self.start + 86_400_000 })
        #expect(stored.contains { $0.record.subjects.contains("hallway.motion") })
    }

    @Test func backfillObservesTheWindowsMissedWhileStopped() async throws {
        let file = try wideCSV()
        _ = try await run(file.path) { $0.mappings = [try ImportMapping(parsing: "Motion=hallway.motion")] }
        let clock = try await MemoryWiring.commandClock(runtime: runtime)
        let loop = ObserveHistory.loop(runtime: runtime, clock: clock, narrator: nil, logger: .quiet)
        let stoppedAt = UTCMillis(rawValue: Self.start) + .seconds(86_400)
        _ = try await ObserveHistory.observe(loop: loop, reflection: nil, from: stoppedAt - .seconds(900), to: stoppedAt,
                                             interval: .seconds(900))
        let restart = stoppedAt + .seconds(3 * 3_600 + 45)
        func service(horizon: Duration) -> ObservationBackfillService {
            ObservationBackfillService(loop: loop, database: runtime.database, origin: runtime.identity.nodeID,
                                       interval: .seconds(900), horizon: horizon, logger: .quiet) { restart }
        }
        // Three hours stopped: 12 windows, less the one the live loop observes first.
        let missed = try await service(horizon: .seconds(86_400)).missedWindows(now: restart)
        #expect(missed.count == 11 && missed.first?.lowerBound == stoppedAt)
        #expect(missed.last?.upperBound == stoppedAt + .seconds(11 * 900))
        #expect(try await service(horizon: .seconds(3_600)).missedWindows(now: restart).count == 2)
        #expect(try await service(horizon: .zero).missedWindows(now: restart).isEmpty)
        #expect(try await service(horizon: .seconds(86_400)).backfill() == 11)
        #expect(try await runtime.database.knowledge.lastObservedEnd(origin: runtime.identity.nodeID) == stoppedAt + .seconds(11 * 900))
        #expect(try await service(horizon: .seconds(86_400)).missedWindows(now: restart).isEmpty)
    }

    /// `observe --from --to` over past days writes each day's digest once its last window is
    /// observed; a second run over the same range writes none.
    @Test func observingPastDaysWritesOneDigestPerDay() async throws {
        let file = try wideCSV()
        _ = try await run(file.path) {
            $0.mappings = [try ImportMapping(parsing: "Temp=living_room.temperature:°C"),
                           try ImportMapping(parsing: "Motion=hallway.motion")]
        }
        let clock = try await MemoryWiring.commandClock(runtime: runtime)
        let local = LocalClock(timeZone: runtime.config.node.timeZone)
        let day = local.dayIndex(UTCMillis(rawValue: Self.start + 86_400_000)) - 1
        let midnight = local.midnight(ofDay: day + 1)
        func observe() async throws -> ObserveHistory.Report {
            let loop = ObserveHistory.loop(runtime: runtime, clock: clock, narrator: nil, logger: .quiet)
            return try await ObserveHistory.observe(loop: loop, reflection: nil, from: midnight - .seconds(3_600), to: midnight,
                                                    interval: .seconds(900))
        }
        #expect(try await observe().digests == 1)
        #expect(try await observe().digests == 0, "a re-run writes no second digest")
        let digests = try await runtime.database.knowledge.recentObservations(limit: 1000).map(\.record)
            .filter { $0.kind == DailyDigest.kind }
        #expect(digests.count == 1 && digests.first?.timeEnd == midnight)
        let record = try #require(digests.first)
        let packet = try await ObserveHistory.digest(runtime: runtime).packet(day: day)
        #expect(DailyDigest.verify(record, against: packet) == nil, "\(record.text)")
        #expect(record.text.contains("°C") && !record.text.contains("living_room"), "\(record.text)")
    }
}
