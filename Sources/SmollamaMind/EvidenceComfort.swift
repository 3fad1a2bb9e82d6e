import Foundation
import SmollamaCore
import SmollamaStore

/// One numeric sensor's rollups as the evidence builder fetched them for a window: 5-minute
/// buckets of the window and the one before it, hourly buckets of the same hour on earlier days.
struct NumericSeries: Sendable {
    var descriptor: SensorDescriptor
    var window: [Rollup]
    var previous: [Rollup]
    var sameHour: [Rollup]

    var mean: Double? { Self.mean(window) }
    var previousMean: Double? { Self.mean(previous) }

    static func mean(_ rollups: [Rollup]) -> Double? {
        let count = rollups.reduce(0) { $0 + $1.count }
        return count > 0 ? rollups.reduce(0) { $0 + $1.sum } / Double(count) : nil
    }
}

/// Fixed physical limits (not learned: they are what people are told to act on).
enum ComfortLimits {
    /// Relative humidity above which mould grows and bathrooms want airing.
    static let humidity = 70.0
    /// A stretch above the humidity limit shorter than this is a passing shower, not worth a sentence.
    static let humidStretch: Int64 = 15 * 60_000
    /// A stretch still going is told once, when it reaches this.
    static let longHumidStretch: Int64 = 2 * 3_600_000
    /// CO₂ above this (ppm) means: ventilate.
    static let co2 = 1000.0

    /// The smallest difference people feel: 1 °C, 5 % relative humidity.
    static func felt(unit: String) -> Double {
        switch unit {
        case "°C": 1
        case "°F": 2
        case "%": 5
        default: 0
        }
    }

    /// Dew point (°C) by the Magnus formula (Sonntag's constants, good to ±0.35 °C from −45 to 60 °C).
    static func dewPoint(temperature: Double, humidity: Double) -> Double {
        let b = 17.62, c = 243.12
        let gamma = log(max(humidity, 0.1) / 100) + b * temperature / (c + temperature)
        return c * gamma / (b - gamma)
    }
}

/// Evidence by kind of quantity, per room (the room of a sensor: `PresenceRoom.key`, `areas:`
/// included): comfort (temperature with humidity), air (CO₂), lamps and presence. Each fact is
/// there only when it is worth a sentence (a crossing, a stretch that ended, a change), except
/// presence, which every room has in every window.
extension EvidenceBuilder {
    func roomFacts(numeric: [NumericSeries], descriptors: [SensorDescriptor], start: UTCMillis, end: UTCMillis,
                   nextID: () -> String) async throws -> (facts: [EvidenceFact], presence: [PresenceWindow]) {
        var byRoom: [String: [String: NumericSeries]] = [:]
        for series in numeric {
            guard let room = PresenceRoom.key(of: series.descriptor.id, areas: settings.areas) else { continue }
            byRoom[room, default: [:]][PresenceRoom.quantity(series.descriptor)] = series
        }
        var facts: [EvidenceFact] = []
        for (room, quantities) in byRoom.sorted(by: { $0.key < $1.key }) {
            if let humidity = quantities["humidity"], let temperature = quantities["temperature"],
               let fact = try await comfortFact(room: room, humidity: humidity, temperature: temperature, start: start,
                                                end: end, id: nextID)
            {
                facts.append(fact)
            }
            if let co2 = quantities["carbon_dioxide"] ?? quantities["co2"],
               let fact = try await airFact(room: room, co2: co2.descriptor, start: start, end: end, id: nextID) {
                facts.append(fact)
            }
        }
        let rooms = try await presenceAndLightFacts(descriptors: descriptors, start: start, end: end, nextID: nextID)
        return (facts + rooms.facts, rooms.presence)
    }

    /// A humid stretch that ended in the window (or reached two hours), else a window whose
    /// temperature or humidity left the room's usual range for this hour (said once, when it
    /// leaves it); nil otherwise.
    func comfortFact(room: String, humidity: NumericSeries, temperature: NumericSeries, start: UTCMillis, end: UTCMillis,
                     id: () -> String) async throws -> EvidenceFact? {
        let sensor = humidity.descriptor.id
        let lookBack = start - .seconds(12 * 3600)
        let humid = try await rollups(sensor: sensor, resolution: .fiveMinutes, from: lookBack, to: end)
        let warm = try await rollups(sensor: temperature.descriptor.id, resolution: .fiveMinutes,
                                                       from: lookBack, to: end)
        if let stretch = Self.humidStretch(humid, start: start, end: end) {
            let inside = humid.filter { $0.bucketStart >= stretch.from && $0.bucketStart < stretch.to }
            let temperatures = warm.filter { $0.bucketStart >= stretch.from && $0.bucketStart < stretch.to }
            guard let rh = NumericSeries.mean(inside), let celsius = NumericSeries.mean(temperatures) else { return nil }
            let minutes = Double((stretch.to - stretch.from).wholeMilliseconds / 60_000)
            return EvidenceFact(
                id: id(), key: "\(room)/humid@\(stretch.from)", kind: .comfort, sensor: sensor,
                values: [
                    EvidenceValue(name: "humidity limit", value: ComfortLimits.humidity, unit: "%", decimals: 0),
                    EvidenceValue(name: "time above limit", value: minutes, unit: "min", decimals: 0),
                    EvidenceValue(name: "peak humidity", value: Self.round(inside.map(\.max).max() ?? rh, 0), unit: "%",
                                  decimals: 0),
                    EvidenceValue(name: "dew point", value: Self.round(ComfortLimits.dewPoint(temperature: celsius, humidity: rh), 1),
                                  unit: "°C", decimals: 1),
                ],
                level: .activity, note: stretch.ongoing ? "still humid" : "humid stretch ended", room: room)
        }
        // The usual range at this hour: the lowest and highest hourly mean of earlier days.
        for series in [humidity, temperature] {
            let means = series.sameHour.filter { $0.count > 0 }.map(\.mean)
            guard means.count >= settings.minimumBaselineDays, let mean = series.mean, let low = means.min(),
                  let high = means.max() else { continue }
            let unit = series.descriptor.unit
            // Well outside: by more than the range is wide, and by more than people feel.
            let margin = max(high - low, ComfortLimits.felt(unit: unit))
            func outside(_ value: Double) -> Bool { value > high + margin || value < low - margin }
            let isHumidity = series.descriptor.id == sensor
            // Said once: not when any bucket of the three hours before was already out.
            let before = (isHumidity ? humid : warm).filter {
                $0.count > 0 && $0.bucketStart >= start - .seconds(3 * 3600) && $0.bucketStart < start
            }
            // Above the humidity limit, the stretch is told when it ends, not here.
            guard outside(mean), !before.contains(where: { outside($0.mean) }),
                  !(isHumidity && mean >= ComfortLimits.humidity) else { continue }
            let decimals = Self.decimals(unit: unit)
            let above = mean > high
            var values = [
                EvidenceValue(name: isHumidity ? "humidity" : "temperature", value: Self.round(mean, decimals), unit: unit,
                              decimals: decimals),
                EvidenceValue(name: "usual low", value: Self.round(low, decimals), unit: unit, decimals: decimals),
                EvidenceValue(name: "usual high", value: Self.round(high, decimals), unit: unit, decimals: decimals),
            ]
            if let rh = humidity.mean, let celsius = temperature.mean {
                values.append(EvidenceValue(name: "dew point", value: Self.round(ComfortLimits.dewPoint(temperature: celsius, humidity: rh), 1),
                                            unit: "°C", decimals: 1))
            }
            let note = isHumidity ? (above ? "more humid than usual" : "drier than usual")
                : (above ? "warmer than usual" : "cooler than usual")
            return EvidenceFact(id: id(), key: "\(series.descriptor.id)/range@\(start)", kind: .comfort,
                                sensor: series.descriptor.id, values: values, level: .activity, note: note, room: room)
        }
        return nil
    }

    /// The stretch above the humidity limit that ended in `[start, end)` (its first bucket back
    /// under the limit lies in the window), or one still going that reached two hours in it.
    static func humidStretch(_ rollups: [Rollup], start: UTCMillis, end: UTCMillis)
        -> (from: UTCMillis, to: UTCMillis, ongoing: Bool)?
    {
        let bucket = Duration.seconds(300)
        var runStart: UTCMillis?
        var previousEnd: UTCMillis?
        for rollup in rollups where rollup.count > 0 {
            // A gap in the readings ends a stretch where the readings stopped.
            if let from = runStart, let last = previousEnd, rollup.bucketStart > last {
                if last - from >= .milliseconds(ComfortLimits.humidStretch), last >= start, last < end {
                    return (from, last, false)
                }
                runStart = nil
            }
            if rollup.mean >= ComfortLimits.humidity {
                if runStart == nil { runStart = rollup.bucketStart }
            } else if let from = runStart {
                let to = rollup.bucketStart
                if to >= start, to < end, to - from >= .milliseconds(ComfortLimits.humidStretch) { return (from, to, false) }
                runStart = nil
            }
            previousEnd = rollup.bucketStart + bucket
        }
        if let from = runStart, let last = previousEnd, last > start {
            let long = Duration.milliseconds(ComfortLimits.longHumidStretch)
            if last - from >= long, start - from < long { return (from, last, true) }
        }
        return nil
    }

    /// CO₂ crossing the ventilation limit in the window: when, the peak since, minutes above and
    /// how fast it rose over the half hour before; nil when it did not cross here.
    func airFact(room: String, co2 sensor: SensorDescriptor, start: UTCMillis, end: UTCMillis, id: () -> String)
        async throws -> EvidenceFact?
    {
        let rollups = try await rollups(sensor: sensor.id, resolution: .fiveMinutes,
                                                          from: start - .seconds(3600), to: end)
            .filter { $0.count > 0 }
        return Self.airFact(room: room, sensor: sensor.id, rollups: rollups, start: start,
                            clock: LocalClock(timeZone: settings.timeZone), id: id)
    }

    static func airFact(room: String, sensor: SensorID, rollups: [Rollup], start: UTCMillis, clock: LocalClock,
                        id: () -> String) -> EvidenceFact? {
        let limit = ComfortLimits.co2
        guard let index = rollups.indices.first(where: { index in
            index > 0 && rollups[index].bucketStart >= start && rollups[index].mean >= limit
                && rollups[index - 1].mean < limit
                && rollups[index].bucketStart - rollups[index - 1].bucketStart <= .seconds(300)
        }) else { return nil }
        let crossing = rollups[index]
        let since = rollups[index...]
        var values = [
            EvidenceValue(name: "limit", value: limit, unit: "ppm", decimals: 0),
            EvidenceValue(name: "at", value: timeOfDay(crossing.bucketStart, clock), unit: "time", decimals: 2),
            EvidenceValue(name: "peak", value: round(since.map(\.max).max() ?? crossing.mean, 0), unit: "ppm", decimals: 0),
            EvidenceValue(name: "time above limit", value: Double(since.filter { $0.mean >= limit }.count * 5), unit: "min",
                          decimals: 0),
        ]
        // The rise over the half hour before the crossing (or as much of it as there is), per hour.
        if let earlier = rollups[..<index].first(where: { crossing.bucketStart - $0.bucketStart <= .seconds(1800) }),
           earlier.bucketStart < crossing.bucketStart
        {
            let hours = (crossing.bucketStart - earlier.bucketStart) / .seconds(3600)
            let rise = (crossing.mean - earlier.mean) / hours
            if rise > 0 { values.append(EvidenceValue(name: "rise", value: round(rise, 0), unit: "ppm/h", decimals: 0)) }
        }
        return EvidenceFact(id: id(), key: "\(sensor)/ventilate@\(crossing.bucketStart)", kind: .air, sensor: sensor,
                            values: values, level: .activity, note: "CO₂ above the limit", room: room)
    }

    /// A local time of day as evidence values carry it: hour + minute / 100 (`08:40` → 8.40).
    static func timeOfDay(_ time: UTCMillis, _ clock: LocalClock) -> Double {
        Double(clock.hour(time)) + Double(clock.minute(time)) / 100
    }
}
