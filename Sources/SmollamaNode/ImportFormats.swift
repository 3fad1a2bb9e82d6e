public import Foundation
public import SmollamaCore

/// The file formats `smollama import` reads. Pure parsing: lines in, values out.
public enum ImportFormat: String, Sendable, Codable, CaseIterable {
    /// A time column and one column per quantity.
    case csv
    /// Home Assistant's history export: `entity_id,state,last_changed`.
    case homeAssistant = "home-assistant"
    /// One JSON object per line: `{"time": …, "sensor": …, "value": …, "unit": …}`.
    case jsonl

    /// Recognises a file by its first line.
    public static func detect(header: String) -> ImportFormat {
        let trimmed = header.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("{") { return .jsonl }
        let columns = Set((CSV.fields(trimmed) ?? []).map { $0.lowercased() })
        if columns.isSuperset(of: ["entity_id", "state", "last_changed"]) { return .homeAssistant }
        return .csv
    }
}

/// A value as the file wrote it: a number, or an on/off state.
public enum ImportValue: Sendable, Hashable {
    case number(Double)
    case state(Bool)

    /// Words that mean on or off in the exports we read (Home Assistant's among them).
    static let onWords: Set<String> = ["on", "true", "open", "detected", "home", "yes"]
    static let offWords: Set<String> = ["off", "false", "closed", "clear", "not_home", "no"]

    static func parse(_ text: String) -> ImportValue? {
        if let number = Double(text), number.isFinite { return .number(number) }
        let word = text.lowercased()
        if onWords.contains(word) { return .state(true) }
        if offWords.contains(word) { return .state(false) }
        return nil
    }

    /// The value as stored for a sensor of `kind`, or why it does not fit.
    func stored(as kind: SensorDescriptor.Kind) -> Result<Double, ImportLineError> {
        switch (self, kind) {
        case (.state(let on), .binary): .success(on ? 1 : 0)
        case (.number(let value), .binary) where value == 0 || value == 1: .success(value)
        case (.number(let value), .binary): .failure(.init("value \(value) for a binary sensor (expected 0/1 or on/off)"))
        case (.number(let value), .numeric): .success(value)
        case (.state, .numeric): .failure(.init("an on/off value for a numeric sensor"))
        }
    }
}

/// One value read from a line, before it meets the store.
public struct ParsedValue: Sendable, Hashable {
    /// Where it came from: the column or entity id, or the JSON `sensor` field.
    public var source: String
    public var sensor: SensorID
    public var unit: String?
    public var time: UTCMillis
    public var value: ImportValue
}

/// Why one line was skipped.
public struct ImportLineError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// `--map SOURCE=SENSOR[:UNIT]`: what a column (or entity id, or JSON sensor) becomes.
public struct ImportMapping: Sendable, Hashable, Codable {
    public var source: String
    public var sensor: SensorID
    public var unit: String?

    public init(source: String, sensor: SensorID, unit: String?) {
        self.source = source
        self.sensor = sensor
        self.unit = unit
    }

    /// Parses `COLUMN=SENSOR[:UNIT]`; the column may itself contain `=` only if quoted away by
    /// the shell, so the last `=` splits.
    public init(parsing text: String) throws(ImportError) {
        guard let equals = text.lastIndex(of: "="), equals != text.startIndex else { throw .badMapping(text) }
        source = String(text[..<equals])
        let target = text[text.index(after: equals)...]
        let parts = target.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let sensor = String(parts[0])
        guard SensorID.validate(sensor) else { throw .badMapping(text) }
        self.sensor = SensorID(sensor)
        unit = parts.count > 1 ? String(parts[1]) : nil
    }
}

/// Reads times: ISO 8601 (`2026-03-01T08:15:00Z`, `…+01:00`, fractions), naive local times
/// (`2026-03-01 08:15:00`, read in `timezone`), or Unix epoch seconds / milliseconds.
public struct ImportTimeParser: Sendable {
    public var timezone: TimeZone?

    public init(timezone: TimeZone?) { self.timezone = timezone }

    public func parse(_ text: String) throws(ImportLineError) -> UTCMillis {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let epoch = Double(text), epoch.isFinite, !text.contains("-") {
            // Seconds until year 5138; a 13-digit number is milliseconds.
            return UTCMillis(rawValue: epoch >= 1e11 ? Int64(epoch) : Int64((epoch * 1000).rounded()))
        }
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + digits] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += digits
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        let bad = ImportLineError("'\(text)' is not a time (ISO 8601, e.g. 2026-03-01T08:15:00Z, or Unix seconds)")
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              (1...12).contains(month), (1...31).contains(day), expect("T "), let hour = number(2), expect(":"),
              let minute = number(2), hour < 24, minute < 60
        else { throw bad }
        var second = 0
        var millisecond = 0
        if expect(":") {
            guard let value = number(2), value < 61 else { throw bad }
            second = value
            if expect(".,") {
                var scale = 100
                while index < bytes.count, (48...57).contains(bytes[index]) {
                    millisecond += Int(bytes[index] - 48) * scale
                    scale /= 10
                    index += 1
                }
            }
        }
        let local = (Self.daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60
                     + second) * 1000 + millisecond
        if index == bytes.count {
            guard let timezone else {
                throw ImportLineError("'\(text)' has no zone offset; pass --timezone (an IANA name such as Europe/Berlin)")
            }
            return UTCMillis(rawValue: Int64(local)) - .seconds(Self.offset(of: timezone, atLocal: local))
        }
        if expect("Zz"), index == bytes.count { return UTCMillis(rawValue: Int64(local)) }
        guard index < bytes.count, bytes[index] == 43 || bytes[index] == 45 else { throw bad }
        let sign = bytes[index] == 45 ? -1 : 1
        index += 1
        guard let offsetHours = number(2) else { throw bad }
        _ = expect(":")
        let offsetMinutes = number(2) ?? 0
        guard index == bytes.count else { throw bad }
        return UTCMillis(rawValue: Int64(local)) - .seconds(sign * (offsetHours * 3600 + offsetMinutes * 60))
    }

    /// The zone's offset in seconds for a wall-clock time: in a daylight-saving gap the earlier
    /// offset is used, in an overlap the first (daylight) one.
    static func offset(of timezone: TimeZone, atLocal local: Int) -> Int {
        let guess = Date(timeIntervalSince1970: Double(local) / 1000)
        let first = timezone.secondsFromGMT(for: guess)
        let second = timezone.secondsFromGMT(for: guess.addingTimeInterval(-Double(first)))
        return first == second ? first : max(first, second)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

/// Turns lines of one format into values. Built from the header line.
struct ImportLineParser: Sendable {
    let format: ImportFormat
    let times: ImportTimeParser
    let mappings: [String: ImportMapping]
    /// Wide CSV: the time column and the (column index, mapping) pairs imported.
    private(set) var timeIndex = 0
    private(set) var columns: [(index: Int, mapping: ImportMapping)] = []
    /// Wide CSV columns that are not imported (no mapping, header not a sensor id).
    private(set) var ignoredColumns: [String] = []
    private var entityIndex = 0
    private var stateIndex = 1
    private var changedIndex = 2
    private var fieldCount = 0

    /// Home Assistant states that mean "no value": skipped and counted, not errors.
    static let missingStates: Set<String> = ["unavailable", "unknown", "none", ""]

    init(format: ImportFormat, header: String, timeColumn: String?, mappings: [ImportMapping],
         timezone: TimeZone?) throws(ImportError) {
        self.format = format
        times = ImportTimeParser(timezone: timezone)
        self.mappings = Dictionary(mappings.map { ($0.source, $0) }, uniquingKeysWith: { _, last in last })
        switch format {
        case .jsonl:
            return
        case .homeAssistant:
            guard let names = CSV.fields(header)?.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }),
                  let entity = names.firstIndex(of: "entity_id"), let state = names.firstIndex(of: "state"),
                  let changed = names.firstIndex(of: "last_changed")
            else { throw .notHomeAssistant(header: header) }
            (entityIndex, stateIndex, changedIndex, fieldCount) = (entity, state, changed, names.count)
        case .csv:
            guard let names = CSV.fields(header)?.map({ $0.trimmingCharacters(in: .whitespaces) }) else {
                throw .badHeader(header)
            }
            fieldCount = names.count
            if let timeColumn {
                guard let index = names.firstIndex(of: timeColumn) else {
                    throw .noTimeColumn(timeColumn, columns: names)
                }
                timeIndex = index
            } else {
                timeIndex = names.firstIndex { ["time", "timestamp", "datetime", "date", "ts"].contains($0.lowercased()) }
                    ?? 0
            }
            for (index, name) in names.enumerated() where index != timeIndex {
                if let mapping = self.mappings[name] {
                    columns.append((index, mapping))
                } else if mappings.isEmpty, SensorID.validate(name) {
                    columns.append((index, ImportMapping(source: name, sensor: SensorID(name), unit: nil)))
                } else {
                    ignoredColumns.append(name)
                }
            }
            let unknown = Set(mappings.map(\.source)).subtracting(names)
            if let missing = unknown.sorted().first { throw .mappedColumnMissing(missing, columns: names) }
            guard !columns.isEmpty else { throw .noSensorColumns(columns: names) }
        }
    }

    /// The values of one data line (empty cells and missing states give none).
    func parse(_ line: String, missing: inout Int) throws(ImportLineError) -> [ParsedValue] {
        switch format {
        case .csv: return try parseWide(line, missing: &missing)
        case .homeAssistant: return try parseHomeAssistant(line, missing: &missing)
        case .jsonl: return try parseJSON(line)
        }
    }

    private func row(_ line: String) throws(ImportLineError) -> [String] {
        guard let fields = CSV.fields(line) else { throw ImportLineError("a quote is not closed") }
        guard fields.count == fieldCount else {
            throw ImportLineError("\(fields.count) fields where the header has \(fieldCount)")
        }
        return fields
    }

    private func parseWide(_ line: String, missing: inout Int) throws(ImportLineError) -> [ParsedValue] {
        let fields = try row(line)
        let time = try times.parse(fields[timeIndex])
        var values: [ParsedValue] = []
        for (index, mapping) in columns {
            let text = fields[index].trimmingCharacters(in: .whitespaces)
            if text.isEmpty {
                missing += 1
                continue
            }
            guard let value = ImportValue.parse(text) else {
                throw ImportLineError("column '\(mapping.source)': '\(text)' is not a number or on/off")
            }
            values.append(ParsedValue(source: mapping.source, sensor: mapping.sensor, unit: mapping.unit, time: time,
                                      value: value))
        }
        return values
    }

    private func parseHomeAssistant(_ line: String, missing: inout Int) throws(ImportLineError) -> [ParsedValue] {
        let fields = try row(line)
        let entity = fields[entityIndex].trimmingCharacters(in: .whitespaces)
        let state = fields[stateIndex].trimmingCharacters(in: .whitespaces)
        if Self.missingStates.contains(state.lowercased()) {
            missing += 1
            return []
        }
        let time = try times.parse(fields[changedIndex])
        let mapping: ImportMapping
        if let mapped = mappings[entity] { mapping = mapped } else { mapping = try Self.homeAssistantMapping(entity) }
        guard let value = ImportValue.parse(state) else {
            throw ImportLineError("\(entity): state '\(state)' is not a number or on/off")
        }
        return [ParsedValue(source: entity, sensor: mapping.sensor, unit: mapping.unit, time: time, value: value)]
    }

    /// JSON lines: `time` (ISO 8601 string or Unix seconds/milliseconds), `sensor` (a sensor id,
    /// or a source named in `--map`), `value` (number, true/false, or an on/off word), optional
    /// `unit`. Other keys are ignored.
    private func parseJSON(_ line: String) throws(ImportLineError) -> [ParsedValue] {
        struct Line: Decodable {
            var time: Stamp
            var sensor: String
            var value: Value
            var unit: String?
        }
        enum Stamp: Decodable {
            case text(String), number(Double)
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Double.self) { self = .number(number) } else {
                    self = .text(try container.decode(String.self))
                }
            }
        }
        enum Value: Decodable {
            case flag(Bool), number(Double), text(String)
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let flag = try? container.decode(Bool.self) {
                    self = .flag(flag)
                } else if let number = try? container.decode(Double.self) {
                    self = .number(number)
                } else {
                    self = .text(try container.decode(String.self))
                }
            }
        }
        let decoded: Line
        do {
            decoded = try JSONDecoder().decode(Line.self, from: Data(line.utf8))
        } catch {
            throw ImportLineError("not a JSON object with time, sensor and value")
        }
        let time: UTCMillis
        switch decoded.time {
        case .text(let text): time = try times.parse(text)
        case .number(let number): time = try times.parse(String(format: "%.3f", number))
        }
        let mapping: ImportMapping
        if let mapped = mappings[decoded.sensor] {
            mapping = mapped
        } else {
            guard SensorID.validate(decoded.sensor) else {
                throw ImportLineError("sensor '\(decoded.sensor)' is not a sensor id (lower-case a-z, 0-9, _ - .); "
                                      + "map it with --map '\(decoded.sensor)=room.quantity'")
            }
            mapping = ImportMapping(source: decoded.sensor, sensor: SensorID(decoded.sensor), unit: decoded.unit)
        }
        let value: ImportValue
        switch decoded.value {
        case .flag(let flag): value = .state(flag)
        case .number(let number) where number.isFinite: value = .number(number)
        case .number(let number): throw ImportLineError("value \(number) is not a finite number")
        case .text(let text):
            guard let parsed = ImportValue.parse(text) else { throw ImportLineError("value '\(text)' is not a number or on/off") }
            value = parsed
        }
        return [ParsedValue(source: decoded.sensor, sensor: mapping.sensor, unit: mapping.unit ?? decoded.unit,
                            time: time, value: value)]
    }

    /// Quantities recognised at the end of an entity's object id, longest first, with the unit
    /// Home Assistant uses for them by default.
    static let quantities: [(suffix: String, unit: String)] = [
        ("carbon_dioxide", "ppm"), ("temperature", "°C"), ("illuminance", "lx"), ("occupancy", ""),
        ("humidity", "%"), ("pressure", "hPa"), ("presence", ""), ("battery", "%"), ("contact", ""),
        ("window", ""), ("motion", ""), ("energy", "kWh"), ("power", "W"), ("light", ""), ("door", ""),
        ("pm25", "µg/m³"), ("co2", "ppm"), ("voc", "ppb"), ("lux", "lx"),
    ]

    /// `sensor.living_room_temperature` → `living_room.temperature` (°C);
    /// `binary_sensor.hallway_motion` → `hallway.motion`; an object id without a known quantity
    /// splits at its last `_` (`sensor.attic_fan` → `attic.fan`), one without `_` gets `.state`.
    static func homeAssistantMapping(_ entity: String) throws(ImportLineError) -> ImportMapping {
        let parts = entity.split(separator: ".", maxSplits: 1)
        guard parts.count == 2 else { throw ImportLineError("'\(entity)' is not a Home Assistant entity id") }
        let object = parts[1].lowercased()
        var room = object
        var quantity = "state"
        var unit: String?
        if let known = quantities.first(where: { object.hasSuffix("_" + $0.suffix) }) {
            room = String(object.dropLast(known.suffix.count + 1))
            quantity = known.suffix
            unit = known.unit.isEmpty ? nil : known.unit
        } else if let underscore = object.lastIndex(of: "_") {
            room = String(object[..<underscore])
            quantity = String(object[object.index(after: underscore)...])
        }
        let sensor = "\(room).\(quantity)"
        guard SensorID.validate(sensor) else {
            throw ImportLineError("'\(entity)' does not make a sensor id; map it with --map '\(entity)=room.quantity'")
        }
        return ImportMapping(source: entity, sensor: SensorID(sensor), unit: unit)
    }
}
