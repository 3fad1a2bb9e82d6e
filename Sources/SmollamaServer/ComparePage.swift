import Foundation
import SmollamaCore
import SmollamaStore

/// `/api/v1/compare?quantity=temperature&range=24h`: one quantity across every node's sensors,
/// each line a sensor's rollups (means), on one time axis in the household's time zone.
public struct CompareBody: Codable, Sendable, Hashable {
    public struct Line: Codable, Sendable, Hashable {
        public var node: String
        public var nodeName: String
        public var series: Series
    }

    public var quantity: String
    /// Every quantity some sensor measures (the last part of a sensor key), sorted.
    public var quantities: [String]
    public var range: ChartRange
    /// IANA name of the zone the chart's axis is drawn in.
    public var timeZone: String
    public var lines: [Line]
}

/// `/api/v1/compare`, written by `JSONWriter` as the node's series are: a household's
/// temperatures are ~20 lines of up to `Chart.maxPoints` points, and `JSONEncoder` took three
/// quarters of the API's time.
struct CompareJSON: JSONWritable {
    var body: CompareBody
    var estimatedBytes: Int { 512 + body.lines.reduce(0) { $0 + 256 + $1.series.points.count * 120 } }

    func write(to json: inout JSONWriter) throws {
        try json.object { json in
            json.key("lines")
            try json.array(body.lines) { json, line in
                try json.object { json in
                    json.key("node")
                    json.string(line.node)
                    json.key("nodeName")
                    json.string(line.nodeName)
                    json.key("series")
                    try line.series.write(to: &json)
                }
            }
            json.key("quantities")
            json.strings(body.quantities)
            json.key("quantity")
            json.string(body.quantity)
            json.key("range")
            json.string(body.range.rawValue)
            json.key("timeZone")
            json.string(body.timeZone)
        }
    }
}

extension DashboardQueries {
    /// What a sensor key measures: its last dotted part (`living_room.temperature` → `temperature`).
    static func quantity(of sensor: SensorID) -> String {
        String(sensor.rawValue.split(separator: ".").last ?? Substring(sensor.rawValue))
    }

    /// Every node's sensors measuring `quantity`, each a line; the sensors come from this node's
    /// registry and the keys the others synced, and every synced line's rollups from one read.
    func compare(quantity: String, range: ChartRange) async throws -> CompareBody {
        var quantities = Set<String>()
        var charts: [(node: NodeSummary?, sensor: SensorDescriptor)] = []
        let keys = try await environment.database.hubPages.foreignSensorKeys()
        for node in try await nodes() {
            let sensors: [SensorDescriptor]
            if node.isThisNode {
                sensors = try await self.sensors().map(\.sensor)
            } else {
                sensors = NodeID(hex: node.id).flatMap { keys[$0] }?.map { SensorDescriptor(id: $0, name: $0.rawValue) } ?? []
            }
            for sensor in sensors {
                let measured = Self.quantity(of: sensor.id)
                quantities.insert(measured)
                guard measured == quantity else { continue }
                charts.append((node, sensor))
            }
        }
        let series = try await series(of: charts, range: range)
        let lines = zip(charts, series).compactMap { chart, series in
            chart.node.map { CompareBody.Line(node: $0.id, nodeName: $0.name, series: series.bounded(Chart.maxPoints)) }
        }
        return CompareBody(quantity: quantity, quantities: quantities.sorted(), range: range,
                           timeZone: environment.timeZone.identifier, lines: lines)
    }
}

extension Pages {
    static func compare(node: NodeInfo, body compare: CompareBody, timeZone: TimeZone, signedIn: Bool) -> HTML {
        var options = HTML.empty
        for quantity in compare.quantities {
            let selected: HTML = quantity == compare.quantity ? " selected" : .empty
            options += "<option value=\"\(quantity)\"\(selected)>\(quantity)</option>"
        }
        var ranges = HTML.empty
        for option in ChartRange.allCases {
            let current: HTML = option == compare.range ? " aria-current=\"page\"" : .empty
            let query = "quantity=\(DashboardQueries.queryValue(compare.quantity))"
            ranges += "<a href=\"/compare?\(query)&amp;range=\(option.rawValue)\"\(current)>\(option.rawValue)</a>"
        }
        var legend = HTML.empty
        for (index, line) in compare.lines.enumerated() {
            legend += "<li><span class=\"swatch c\(index % Chart.palette)\"></span><a href=\"/nodes/\(line.node)\">\(line.nodeName)</a> · \(line.series.name)</li>"
        }
        let chart: HTML = compare.lines.isEmpty
            ? "<p class=\"empty\">No sensor measures \(compare.quantity) on any node.</p>"
            : Chart.lines(compare.lines.map(\.series), timeZone: timeZone) + "<ul class=\"legend\">\(legend)</ul>"
        let body: HTML = """
            <h1>Compare</h1>
            <form class="filters" method="get" action="/compare"><label>Quantity<select name="quantity">\(options)</select></label>
            <input type="hidden" name="range" value="\(compare.range.rawValue)"><button type="submit">Show</button></form>
            <div class="ranges">\(ranges)</div>
            <section class="panel"><h2>\(compare.quantity) on every node <span class="muted">times in \(compare.timeZone)</span></h2>\(chart)</section>
            """
        return Layout.page(title: "Compare", node: node, tab: .compare, body: body, signedIn: signedIn)
    }
}

extension Series {
    /// At most `limit` points: neighbouring buckets merged (counts and sums added, min of mins,
    /// max of maxes, count-weighted means), so a chart's size does not grow with its range.
    func bounded(_ limit: Int) -> Series {
        guard points.count > limit, limit > 0 else { return self }
        let group = (points.count + limit - 1) / limit
        var merged: [Point] = []
        var start = 0
        while start < points.count {
            let slice = points[start..<min(points.count, start + group)]
            let count = slice.reduce(0) { $0 + $1.count }
            let weighted = slice.reduce(0.0) { $0 + ($1.mean ?? 0) * Double($1.count) }
            merged.append(Point(
                start: slice.first?.start ?? from, count: count, min: slice.compactMap(\.min).min(),
                max: slice.compactMap(\.max).max(), mean: count > 0 ? weighted / Double(count) : nil,
                onDuration: slice.reduce(0) { $0 + $1.onDuration }, onCount: slice.reduce(0) { $0 + $1.onCount }))
            start += group
        }
        var copy = self
        copy.points = merged
        copy.resolutionMilliseconds *= Int64(group)
        return copy
    }
}

extension Chart {
    /// Most points a chart draws (a 30-day hourly chart is merged to two-hour buckets).
    static let maxPoints = 400
    /// Line colours (`.c0` … in the stylesheet).
    static let palette = 8

    /// Several series' means as lines on one axis, ticks in `timeZone`.
    static func lines(_ all: [Series], timeZone: TimeZone) -> HTML {
        guard let first = all.first else { return .empty }
        let values = all.flatMap { $0.points.compactMap(\.mean) }.filter(\.isFinite)
        guard let scale = ValueAxis(values) else { return empty(first) }
        let y = scale.y
        var paths = ""
        for (index, series) in all.enumerated() {
            let half = Double(series.resolutionMilliseconds) / 2
            var d = ""
            for run in runs(series) {
                d += "M" + run.map { "\(f(x($0.start + .milliseconds(Int64(half)), first))),\(f(y($0.mean ?? 0)))" }
                    .joined(separator: "L")
            }
            paths += "<path class=\"line c\(index % palette)\" d=\"\(d)\"/>"
        }
        let grid = scale.grid(unit: first.unit)
        var axis = ""
        for step in 0...3 {
            let time = first.from + (first.to - first.from) * step / 3
            let anchor = step == 0 ? "start" : step == 3 ? "end" : "middle"
            axis += "<text x=\"\(f(x(time, first)))\" y=\"\(f(height - 4))\" text-anchor=\"\(anchor)\">"
                + HTML.escape(Format.tick(time, range: first.range, timeZone: timeZone)) + "</text>"
        }
        return HTML(trusted: "<svg class=\"chart compare\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\" aria-label=\""
            + HTML.escape("\(all.count) sensors, last \(first.range.rawValue)") + "\"><g class=\"grid\">\(grid)</g>"
            + axis + paths + "</svg>")
    }
}
