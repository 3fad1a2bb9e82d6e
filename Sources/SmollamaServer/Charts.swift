import Foundation
import SmollamaCore

/// Server-rendered SVG charts: a min–max band with the mean as a line for numbers, an activity
/// strip for binary sensors. No script draws them, so they show with JavaScript off.
enum Chart {
    static let width = 400.0
    static let height = 140.0
    static let left = 44.0
    static let bottom = 18.0

    static func svg(_ series: Series) -> HTML {
        series.kind == .binary ? strip(series) : band(series)
    }

    /// Plain millisecond arithmetic: `Duration`'s 128-bit maths showed in the 30-day page's profile.
    static func x(_ time: UTCMillis, _ series: Series) -> Double {
        let span = Double(max(1, series.to.rawValue - series.from.rawValue))
        return left + (width - left) * Double(time.rawValue - series.from.rawValue) / span
    }

    /// Contiguous runs of points with values; a gap longer than two buckets breaks the line.
    static func runs(_ series: Series) -> [[Series.Point]] {
        var runs: [[Series.Point]] = []
        var current: [Series.Point] = []
        for point in series.points where point.mean != nil {
            if let last = current.last, point.start.rawValue - last.start.rawValue > 2 * series.resolutionMilliseconds {
                runs.append(current)
                current = []
            }
            current.append(point)
        }
        if !current.isEmpty { runs.append(current) }
        return runs
    }

    static func band(_ series: Series) -> HTML {
        var values: [Double] = []
        values.reserveCapacity(series.points.count * 2)
        for point in series.points {
            if let low = point.min { values.append(low) }
            if let high = point.max { values.append(high) }
        }
        guard let scale = ValueAxis(values) else { return empty(series) }
        let y = scale.y
        let half = series.resolutionMilliseconds / 2
        func cx(_ point: Series.Point) -> Double { x(UTCMillis(rawValue: point.start.rawValue + half), series) }

        // Written straight into one byte buffer (a 30-day page draws ~40 k coordinates).
        var out = SVGBuffer(capacity: 600 + series.points.count * 40)
        out += open(series) + "<g class=\"grid\">" + scale.grid(unit: series.unit) + "</g>" + timeAxis(series)
        let runs = runs(series)
        func point(_ point: Series.Point, _ value: Double?) {
            out.number(cx(point))
            out.byte(UInt8(ascii: ","))
            out.number(y(value ?? 0))
        }
        out += "<path class=\"band\" d=\""
        for run in runs {
            for (index, item) in run.enumerated() {
                out.byte(UInt8(ascii: index == 0 ? "M" : "L"))
                point(item, item.max)
            }
            for item in run.reversed() {
                out.byte(UInt8(ascii: "L"))
                point(item, item.min)
            }
            out.byte(UInt8(ascii: "Z"))
        }
        out += "\"/><path class=\"mean\" d=\""
        for run in runs {
            for (index, item) in run.enumerated() {
                out.byte(UInt8(ascii: index == 0 ? "M" : "L"))
                point(item, item.mean)
            }
        }
        out += "\"/></svg>"
        return HTML(trusted: out.string)
    }

    static func strip(_ series: Series) -> HTML {
        let top = 20.0, stripHeight = height - bottom - 40
        var out = SVGBuffer(capacity: 1000 + series.points.count * 8)
        out += open(series)
        out += "<rect class=\"strip-bg\" x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(width - left))\" height=\"\(f(stripHeight))\"/>"
        out += "<text x=\"\(f(left - 4))\" y=\"\(f(top + stripHeight / 2))\" text-anchor=\"end\" dominant-baseline=\"middle\">on</text>"
        let span = Double(max(1, series.to.rawValue - series.from.rawValue))
        let bucketWidth = (width - left) * Double(series.resolutionMilliseconds) / span
        let barHead = "\" y=\"\(f(top))\" width=\"\(f(max(1, bucketWidth)))\" height=\"\(f(stripHeight))\" fill-opacity=\""
        for point in series.points where point.onDuration > 0 || point.onCount > 0 {
            let share = min(1, Double(point.onDuration) / Double(series.resolutionMilliseconds))
            out += "<rect class=\"on\" x=\""
            out.number(x(point.start, series))
            out += barHead
            out.number(0.35 + 0.65 * share)
            out += "\"/>"
        }
        // An empty path keeps the shape of every chart alike (a band chart always has paths).
        out += timeAxis(series)
        out += "<path class=\"mean\" d=\"M\(f(left)),\(f(top + stripHeight))H\(f(width))\" stroke-opacity=\"0.4\"/></svg>"
        return HTML(trusted: out.string)
    }

    /// A small line of values (one per bucket, nil for a gap), no axes: a node card's key sensor.
    static func sparkline(_ values: [Double?]) -> HTML {
        let known = values.compactMap { $0 }.filter(\.isFinite)
        guard var low = known.min(), var high = known.max() else {
            return HTML(trusted: "<svg class=\"sparkline\" viewBox=\"0 0 120 24\" role=\"img\" aria-label=\"no data\"></svg>")
        }
        if high - low < 1e-9 { low -= 1; high += 1 }
        let step = 120.0 / Double(max(1, values.count - 1))
        var path = ""
        var pen = false
        for (index, value) in values.enumerated() {
            guard let value, value.isFinite else { pen = false; continue }
            path += (pen ? "L" : "M") + "\(f(Double(index) * step)),\(f(2 + 20 * (1 - (value - low) / (high - low))))"
            pen = true
        }
        let label = HTML.escape("\(Format.value(low, unit: "", compact: true)) … \(Format.value(high, unit: "", compact: true))")
        return HTML(trusted: "<svg class=\"sparkline\" viewBox=\"0 0 120 24\" role=\"img\" aria-label=\"\(label)\">"
            + "<path d=\"\(path)\"/></svg>")
    }

    static func empty(_ series: Series) -> HTML {
        HTML(trusted: open(series) + timeAxis(series)
            + "<text x=\"\(f(width / 2))\" y=\"\(f(height / 2))\" text-anchor=\"middle\">no data in this range</text></svg>")
    }

    static func open(_ series: Series) -> String {
        "<svg class=\"chart\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\" aria-label=\""
            + HTML.escape("\(series.name), last \(series.range.rawValue)") + "\">"
    }

    /// Four time ticks along the bottom, in UTC (the page's script does not touch the SVG).
    static func timeAxis(_ series: Series) -> String {
        var text = ""
        for step in 0...3 {
            let time = series.from + (series.to - series.from) * step / 3
            let anchor = step == 0 ? "start" : step == 3 ? "end" : "middle"
            text += "<text x=\"\(f(x(time, series)))\" y=\"\(f(height - 4))\" text-anchor=\"\(anchor)\">"
                + Format.tick(time, range: series.range) + "</text>"
        }
        return text
    }

    /// One decimal, as `SVGBuffer.number` writes it.
    static func f(_ value: Double) -> String {
        var out = SVGBuffer(capacity: 24)
        out.number(value)
        return out.string
    }
}

/// Bytes of SVG markup being written: coordinates go in digit by digit, no string each.
struct SVGBuffer {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) { bytes.reserveCapacity(capacity) }

    var string: String { String(decoding: bytes, as: UTF8.self) }

    static func += (lhs: inout SVGBuffer, rhs: String) { lhs.bytes.append(contentsOf: rhs.utf8) }

    mutating func byte(_ byte: UInt8) { bytes.append(byte) }

    /// One decimal, without `String(format:)`: a 30-day page formats ~40 k coordinates, and
    /// Foundation's formatter once made that the page's main cost (63 ms → see BENCHMARKS.md).
    mutating func number(_ value: Double) {
        guard value.isFinite else {
            self += "0.0"
            return
        }
        let tenths = Int((value * 10).rounded())
        if tenths < 0 { bytes.append(UInt8(ascii: "-")) }
        var whole = tenths.magnitude / 10
        let fraction = tenths.magnitude % 10
        let first = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(whole % 10))
            whole /= 10
        } while whole > 0
        bytes[first...].reverse()
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction))
    }
}

/// Numbers and times as people read them.
enum Format {
    static func value(_ value: Double?, unit: String, compact: Bool = false) -> String {
        guard let value, value.isFinite else { return "–" }
        if unit == "B" {
            let units = ["B", "kB", "MB", "GB", "TB"]
            var scaled = value
            var index = 0
            while abs(scaled) >= 1000, index < units.count - 1 {
                scaled /= 1000
                index += 1
            }
            return String(format: index == 0 ? "%.0f %@" : "%.1f %@", scaled, units[index])
        }
        let magnitude = abs(value)
        let digits = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : 2
        let number = String(format: "%.\(compact ? min(digits, 1) : digits)f", value)
        return unit.isEmpty ? number : number + " " + unit
    }

    static func binary(_ value: Double?) -> String {
        guard let value else { return "–" }
        return value >= 0.5 ? "on" : "off"
    }

    /// `timeZone` nil is UTC (the page's script shows list times locally; charts stay in UTC,
    /// except compare, which draws in the household's zone).
    static func tick(_ time: UTCMillis, range: ChartRange, timeZone: TimeZone? = nil) -> String {
        let date = time.date
        var calendar = utcCalendar
        if let timeZone { calendar.timeZone = timeZone }
        let parts = calendar.dateComponents([.month, .day, .hour, .minute], from: date)
        return range == .day ? twoDigits(parts.hour) + ":" + twoDigits(parts.minute)
            : twoDigits(parts.month) + "-" + twoDigits(parts.day)
    }

    /// `%02d` without `String(format:)` (every log line formats two ticks).
    static func twoDigits(_ value: Int?) -> String {
        let value = value ?? 0
        return value >= 0 && value < 10 ? "0" + String(value) : String(value)
    }

    /// Made once: building a `Calendar` cost more than the ticks it formats.
    static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar
    }()

    static func age(_ time: UTCMillis?, now: UTCMillis) -> String {
        guard let time else { return "never" }
        let seconds = max(0, (now - time).components.seconds)
        if seconds < 60 { return "\(seconds) s ago" }
        if seconds < 3600 { return "\(seconds / 60) min ago" }
        if seconds < 86_400 { return "\(seconds / 3600) h ago" }
        return "\(seconds / 86_400) d ago"
    }

    static func bytes(_ value: Int64) -> String { Format.value(Double(value), unit: "B") }

    /// A node's wall clock against the hub's at its last handshake: "+1.2 s from the hub"
    /// (ahead), "-0.4 s" (behind), as `hub nodes` prints it.
    static func clockOffset(_ milliseconds: Int64) -> String {
        String(format: "%+.1f s from the hub", Double(milliseconds) / 1000)
    }

    /// 371220 → "371,220".
    static func count(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }
}

/// A chart's value axis over `values`: 8 % padding each side, a flat series widened to ±1; three
/// labelled grid lines over the values' own range.
struct ValueAxis {
    let low: Double
    let high: Double
    let pad: Double

    init?(_ values: [Double]) {
        guard var low = values.min(), var high = values.max() else { return nil }
        if high - low < 1e-9 { low -= 1; high += 1 }
        pad = (high - low) * 0.08
        self.low = low - pad
        self.high = high + pad
    }

    /// The SVG y of `value` in the plot area (above the time axis).
    func y(_ value: Double) -> Double {
        4 + (Chart.height - Chart.bottom - 8) * (1 - (value - low) / (high - low))
    }

    /// Grid lines and their labels at the lowest, middle and highest value.
    func grid(unit: String) -> String {
        var grid = ""
        for step in 0...2 {
            let value = low + pad + (high - low - 2 * pad) * Double(step) / 2
            let gy = Chart.f(y(value))
            grid += "<line x1=\"\(Chart.f(Chart.left))\" x2=\"\(Chart.f(Chart.width))\" y1=\"\(gy)\" y2=\"\(gy)\"/>"
            grid += "<text x=\"\(Chart.f(Chart.left - 4))\" y=\"\(gy)\" text-anchor=\"end\" dominant-baseline=\"middle\">"
                + HTML.escape(Format.value(value, unit: unit, compact: true)) + "</text>"
        }
        return grid
    }
}
