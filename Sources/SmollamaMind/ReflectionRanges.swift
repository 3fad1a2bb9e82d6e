import Foundation
public import SmollamaCore
import SmollamaStore

/// Four parts of the local day.
public enum PartOfDay: String, Codable, Sendable, Hashable, CaseIterable {
    case night, morning, afternoon, evening

    /// Local hours: night 00–06, morning 06–12, afternoon 12–18, evening 18–24.
    public var hours: Range<Int> {
        switch self {
        case .night: 0..<6
        case .morning: 6..<12
        case .afternoon: 12..<18
        case .evening: 18..<24
        }
    }

    public var phrase: String { self == .night ? "at night" : "in the \(rawValue)" }

    public static func of(hour: Int) -> PartOfDay { allCases.first { $0.hours.contains(hour) } ?? .night }
}

/// The quantities whose typical ranges reflection remembers.
public enum RangeQuantity: String, Codable, Sendable, Hashable, CaseIterable {
    case temperature, humidity, co2

    /// From the device class, else the id's last part (`study.co2`).
    public static func of(_ descriptor: SensorDescriptor) -> RangeQuantity? {
        guard descriptor.kind != .binary else { return nil }
        switch descriptor.deviceClass ?? String(descriptor.id.rawValue.split(separator: ".").last ?? "") {
        case "temperature": return .temperature
        case "humidity": return .humidity
        case "carbon_dioxide", "co2": return .co2
        default: return nil
        }
    }

    var defaultUnit: String {
        switch self {
        case .temperature: "°C"
        case .humidity: "%"
        case .co2: "ppm"
        }
    }
}

/// What a numeric sensor usually reads in one part of the local day: the 10th to 90th
/// percentile of its hourly rollup means over the reflection window.
public struct TypicalRange: Sendable, Hashable {
    /// One local day of the sample: its midnight and the median of its hourly means in the part.
    struct Day: Sendable, Hashable {
        var start: UTCMillis
        var median: Double
    }

    public static let lowQuantile = 0.1
    public static let highQuantile = 0.9

    public var sensor: String
    public var room: String
    public var quantity: RangeQuantity
    public var part: PartOfDay
    public var low: Double
    public var high: Double
    public var unit: String
    public var sampleDays: Int
    /// Hourly means the range rests on.
    public var samples: Int
    var sample: [Day]

    public var key: String { "range|\(sensor)|\(part.rawValue)" }
    /// More days, and hours covered in them, give more confidence.
    public var confidence: Double {
        Reflection.confidence(days: sampleDays, clarity: Double(samples) / Double(max(1, sampleDays * part.hours.count)))
    }

    /// The smallest difference the text shows: tenths for a narrow temperature range, tens of
    /// ppm for a wide CO₂ range, units otherwise.
    public var displayStep: Double { Self.displayStep(quantity, width: high - low) }

    static func displayStep(_ quantity: RangeQuantity, width: Double) -> Double {
        switch quantity {
        case .temperature: width < 2 ? 0.1 : 1
        case .humidity: 1
        case .co2: width >= 100 ? 10 : 1
        }
    }

    func formatted(_ value: Double) -> String {
        let step = displayStep
        let rounded = (value / step).rounded() * step
        return step < 1 ? String(format: "%.1f", rounded) : String(Int(rounded))
    }

    /// The rules sentence: display name, units, part of the local day.
    public var text: String {
        let low = formatted(low)
        let high = formatted(high)
        let span = low == high ? "about \(low) \(unit)" : "\(low)–\(high) \(unit)"
        let room = RulesAnswerer.roomName(room)
        let days = "(over \(sampleDays) days)"
        switch quantity {
        case .temperature: return "The \(room) is usually \(span) \(part.phrase) \(days)."
        case .humidity: return "Humidity in the \(room) is usually \(span) \(part.phrase) \(days)."
        case .co2: return "CO₂ in the \(room) is usually \(span) \(part.phrase) \(days)."
        }
    }

    /// The same range: both bounds within the tolerance (a share of the old range's width, at
    /// least what the text shows).
    func matches(low oldLow: Double, high oldHigh: Double, tolerance: Double) -> Bool {
        let allowed = max(tolerance * max(0, oldHigh - oldLow), Self.displayStep(quantity, width: oldHigh - oldLow))
        return abs(low - oldLow) <= allowed && abs(high - oldHigh) <= allowed
    }

    /// The local midnight after the last day whose median was nearer the old range's middle than
    /// the new one's; the first day of the sample when none was.
    func changePoint(low oldLow: Double, high oldHigh: Double, clock: LocalClock) -> UTCMillis? {
        let oldMiddle = (oldLow + oldHigh) / 2
        let newMiddle = (low + high) / 2
        var change = sample.first?.start
        for day in sample where abs(day.median - oldMiddle) < abs(day.median - newMiddle) {
            change = clock.midnight(ofDay: clock.dayIndex(day.start) + 1)
        }
        return change
    }
}

extension Reflection {
    /// Typical ranges of every temperature, humidity and CO₂ sensor in a room, per part of the
    /// day with data on at least `minDays` days.
    func findRanges(now: UTCMillis) async throws -> [TypicalRange] {
        let clock = LocalClock(timeZone: settings.timeZone)
        let window = dayWindow(now: now)
        var ranges: [TypicalRange] = []
        for registered in try await database.readings.registeredSensors() {
            let descriptor = registered.descriptor
            let parts = descriptor.id.rawValue.split(separator: ".")
            guard parts.count >= 2, let quantity = RangeQuantity.of(descriptor) else { continue }
            let rollups = try await database.readings.rollups(
                sensor: descriptor.id, resolution: .hour, from: window.start, to: window.end)
            var byPart: [PartOfDay: [(day: Int64, mean: Double)]] = [:]
            for rollup in rollups where rollup.count > 0 && rollup.mean.isFinite {
                byPart[PartOfDay.of(hour: clock.hour(rollup.bucketStart)), default: []]
                    .append((clock.dayIndex(rollup.bucketStart), rollup.mean))
            }
            for part in PartOfDay.allCases {
                let values = byPart[part] ?? []
                let days = Dictionary(grouping: values, by: \.day)
                guard days.count >= settings.minDays, let low = quantile(values.map(\.mean), TypicalRange.lowQuantile),
                      let high = quantile(values.map(\.mean), TypicalRange.highQuantile) else { continue }
                ranges.append(TypicalRange(
                    sensor: descriptor.id.rawValue, room: String(parts[0]), quantity: quantity, part: part,
                    low: low, high: high, unit: descriptor.unit.isEmpty ? quantity.defaultUnit : descriptor.unit,
                    sampleDays: days.count, samples: values.count,
                    sample: days.keys.sorted().map { day in
                        .init(start: clock.midnight(ofDay: day), median: quantile(days[day]!.map(\.mean), 0.5) ?? 0)
                    }))
            }
        }
        return ranges
    }

    func finding(_ range: TypicalRange) -> ReflectionFinding {
        let clock = LocalClock(timeZone: settings.timeZone)
        let tolerance = settings.rangeTolerance
        func bounds(_ old: MemoryRecord) -> (low: Double, high: Double)? {
            guard let low = old.metadata["low"].flatMap(Double.init), let high = old.metadata["high"].flatMap(Double.init)
            else { return nil }
            return (low, high)
        }
        return ReflectionFinding(
            key: range.key, kind: "range", subjects: [range.sensor], text: range.text, confidence: range.confidence,
            metadata: [
                "room": range.room, "quantity": range.quantity.rawValue, "part": range.part.rawValue,
                "low": String(range.low), "high": String(range.high), "unit": range.unit,
                "sample_days": String(range.sampleDays), "samples": String(range.samples),
            ],
            firstDay: range.sample.first?.start ?? 0,
            matches: { old in
                guard let (low, high) = bounds(old) else { return false }
                return range.matches(low: low, high: high, tolerance: tolerance)
            },
            changePoint: { old in
                guard let (low, high) = bounds(old) else { return old.validFrom }
                return range.changePoint(low: low, high: high, clock: clock) ?? old.validFrom
            })
    }
}
