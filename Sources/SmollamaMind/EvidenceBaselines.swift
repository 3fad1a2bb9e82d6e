import Foundation
import SmollamaCore
import SmollamaStore

/// What the baselines compare with (`EvidenceBuilder.build`): which hours are "around this one",
/// whether the hours either side are quiet, the trend line through earlier days and the range
/// they showed around it, and how numbers are rounded and shown.
extension EvidenceBuilder {
    /// Whether the hours either side of `hour` were each active on at most `limit` of the days in
    /// `history` (every kind of day: a weekday habit next to a rare weekend hour makes it the
    /// habit's edge, not a night).
    static func quietAround(hour: Int, history: [Rollup], clock: LocalClock, limit: Double) -> Bool {
        let days = Set(history.map { clock.dayIndex($0.bucketStart) })
        guard !days.isEmpty else { return true }
        return [(hour + 23) % 24, (hour + 1) % 24].allSatisfy { neighbour in
            let active = Set(history.filter { $0.onCount > 0 && clock.hour($0.bucketStart) == neighbour }
                .map { clock.dayIndex($0.bucketStart) })
            return Double(active.count) / Double(days.count) <= limit
        }
    }

    /// Days since the sensor was last active in this local hour of day (any kind of day), or the
    /// days of history when it never was; nil with too little history or when it was active yesterday.
    func daysSinceActive(atHourOf time: UTCMillis, history: [Rollup], clock: LocalClock) -> Int64? {
        let days = Set(history.map { clock.dayIndex($0.bucketStart) })
        guard days.count >= settings.minimumBaselineDays else { return nil }
        let hour = clock.hour(time)
        let today = clock.dayIndex(time)
        let last = history.filter { $0.onCount > 0 && clock.hour($0.bucketStart) == hour }
            .map { clock.dayIndex($0.bucketStart) }.filter { $0 < today }.max()
        let since = last.map { today - $0 } ?? Int64(days.count)
        return since >= 2 ? since : nil
    }

    /// Whether `hour` is `reference` or an hour either side of it (across midnight too).
    static func isNear(hour: Int, _ reference: Int) -> Bool {
        let distance = abs(hour - reference)
        return min(distance, 24 - distance) <= 1
    }

    /// The level a line through `points` (time offset in ms from the window, value) reads at
    /// offset 0, kept within the values seen, the spread of the points around the line, and its
    /// slope per ms. Fewer than three points, or all at one time: their mean and spread, slope 0.
    static func trend(_ points: [(Int64, Double)]) -> (level: Double, spread: Double, slope: Double) {
        let n = Double(points.count)
        let meanValue = points.reduce(0) { $0 + $1.1 } / n
        let meanTime = points.reduce(0) { $0 + Double($1.0) } / n
        let covariance = points.reduce(0) { $0 + (Double($1.0) - meanTime) * ($1.1 - meanValue) }
        let variance = points.reduce(0) { $0 + (Double($1.0) - meanTime) * (Double($1.0) - meanTime) }
        guard points.count > 2, variance > 0 else {
            let spread = (points.reduce(0) { $0 + ($1.1 - meanValue) * ($1.1 - meanValue) } / n).squareRoot()
            return (meanValue, spread, 0)
        }
        let slope = covariance / variance
        // A trend reads inside what was seen: a light level used on some evenings must not be
        // extrapolated below zero.
        let values = points.map(\.1)
        let level = min(values.max() ?? meanValue, max(values.min() ?? meanValue, meanValue - slope * meanTime))
        let residuals = points.reduce(0) { total, point in
            let fitted = level + slope * Double(point.0)
            return total + (point.1 - fitted) * (point.1 - fitted)
        }
        return (level, (residuals / n).squareRoot(), slope)
    }

    /// The range `rollups` covered around `line` (offsets from it, through each bucket's lowest and
    /// highest reading), `start` being offset 0 of the line.
    static func seenRange(_ rollups: [Rollup], line: (level: Double, spread: Double, slope: Double),
                          start: UTCMillis) -> ClosedRange<Double> {
        var (low, high) = (Double.infinity, -Double.infinity)
        for rollup in rollups {
            let fitted = line.level + line.slope * Double((rollup.bucketStart - start).wholeMilliseconds)
            low = min(low, rollup.min - fitted)
            high = max(high, rollup.max - fitted)
        }
        return low <= high ? low...high : 0...0
    }

    /// Decimals a unit is shown with: people read temperatures to a tenth, percentages and lux whole.
    static func decimals(unit: String) -> Int {
        switch unit {
        case "°C", "°F", "V", "A", "hPa": 1
        default: 0
        }
    }

    /// The smallest step worth calling a change.
    static func resolution(unit: String) -> Double {
        switch unit {
        case "°C", "°F": 0.3
        case "%": 2
        case "lx": 20
        default: 1
        }
    }

    static func round(_ value: Double, _ decimals: Int) -> Double {
        let scale = pow(10, Double(decimals))
        return (value * scale).rounded() / scale
    }
}
