import SmollamaCore
import SmollamaStore

/// The dashboard's pages as escaped HTML. Each takes view models, never the database.
enum Pages {
    static func overview(node: NodeInfo, nodes: [NodeSummary], sensors: [SensorSummary], log: [LogEntry], now: UTCMillis,
                         signedIn: Bool) -> HTML {
        var body: HTML = "<h1>\(node.isHub ? "Hub overview" : "Overview")</h1>"
        for summary in nodes { body += nodeCards(summary, now: now) }
        if nodes.count > 1 || node.isHub {
            body += "<section class=\"panel\" style=\"margin-bottom:1rem\"><h2>Nodes</h2>" + nodeTable(nodes, now: now) + "</section>"
        }
        let faulty = sensors.filter { $0.status != "ok" }
        body += "<div class=\"grid split\"><section class=\"panel\"><h2>Sensors</h2>\(sensorTable(sensors, now: now))</section>"
        body += "<section class=\"panel\" data-live-log data-after=\"\(log.first.map { String($0.hlc.rawValue) })\"><h2>Recent log <span class=\"live\">connecting…</span></h2>"
            + timeline(Array(log.prefix(12)), compact: true) + "<p><a href=\"/log\">Full log →</a></p></section></div>"
        if !faulty.isEmpty {
            body += "<section class=\"panel\" style=\"margin-top:1rem\"><h2 class=\"bad\">Faulty sensors</h2><ul>"
            for sensor in faulty {
                body += "<li><strong>\(sensor.sensor.id.rawValue)</strong> — \(sensor.lastError ?? "no error recorded")</li>"
            }
            body += "</ul></section>"
        }
        return Layout.page(title: "Overview", node: node, tab: .overview, body: body, signedIn: signedIn)
    }

    static func nodeCards(_ node: NodeSummary, now: UTCMillis) -> HTML {
        let clock = node.clockQuality?.rawValue ?? "unknown"
        let healthy = node.sensorCount - node.faultySensorCount
        return """
            <div class="cards">
            <div class="card"><div class="label">Node</div><div class="value name"><a href="/nodes/\(node.id)">\(node.name)</a></div>
              <div class="sub"><span class="badge \(node.state.rawValue)">\(node.state.rawValue)</span> last reading \(Format.age(node.lastSeen, now: now))</div></div>
            <div class="card"><div class="label">Clock</div><div class="value \(clock)">\(clock)</div><div class="sub">\(node.clockQuality == .synced ? "wall clock trusted" : "monotonic time, re-timed later")</div></div>
            <div class="card"><div class="label">Sensors</div><div class="value">\(healthy)/\(node.sensorCount)</div><div class="sub \(node.faultySensorCount > 0 ? "bad" : "")">\(node.faultySensorCount) faulty</div></div>
            <div class="card"><div class="label">Readings</div><div class="value">\(Format.count(node.readingCount))</div><div class="sub">\(node.rollupLag == 0 ? "rollups up to date" : "\(node.rollupLag) not rolled up")</div></div>
            <div class="card"><div class="label">Database</div><div class="value">\(Format.bytes(node.databaseBytes))</div><div class="sub">\(Format.count(node.eventCount)) \(node.eventCount == 1 ? "event" : "events")</div></div>
            <div class="card"><div class="label">Observations</div><div class="value">\(node.observationCount)</div><div class="sub">\(node.memoryCount) \(node.memoryCount == 1 ? "memory" : "memories")</div></div>
            </div>
            """
    }

    static func nodeTable(_ nodes: [NodeSummary], now: UTCMillis) -> HTML {
        var rows = HTML.empty
        for node in nodes {
            rows += """
                <tr><td><a href="/nodes/\(node.id)">\(node.name)</a>\(node.isThisNode ? HTML(" <span class=\"muted\">(this hub)</span>") : .empty)</td>
                <td>\(node.role)</td><td><span class="badge \(node.state.rawValue)">\(node.state.rawValue)</span></td>
                <td>\(Format.age(node.lastSeen, now: now))</td><td>\(node.faultySensorCount)/\(node.sensorCount) faulty</td></tr>
                """
        }
        return "<div class=\"scroll\"><table><thead><tr><th>Node</th><th>Role</th><th>State</th><th>Last reading</th><th>Sensors</th></tr></thead><tbody>\(rows)</tbody></table></div>"
    }

    static func current(_ sensor: SensorSummary) -> String {
        sensor.sensor.kind == .binary ? Format.binary(sensor.lastValue) : Format.value(sensor.lastValue, unit: sensor.sensor.unit)
    }

    static func sensorTable(_ sensors: [SensorSummary], now: UTCMillis) -> HTML {
        guard !sensors.isEmpty else { return "<p class=\"empty\">No sensors yet.</p>" }
        var rows = HTML.empty
        for sensor in sensors {
            rows += """
                <tr><td><a href="/sensors#s-\(sensor.sensor.id.rawValue)">\(sensor.sensor.name)</a>\(simulatedBadge(sensor))<div class="muted">\(sensor.sensor.id.rawValue)</div></td>
                <td class="num">\(current(sensor))</td><td class="num muted">\(Format.age(sensor.lastTime, now: now))</td>
                <td><span class="badge \(sensor.status)">\(sensor.status)</span></td></tr>
                """
        }
        return "<div class=\"scroll\"><table><thead><tr><th>Sensor</th><th>Now</th><th>Age</th><th>Status</th></tr></thead><tbody>\(rows)</tbody></table></div>"
    }

    /// " simulated" after a sensor a simulated driver registered: its values are made up.
    static func simulatedBadge(_ sensor: SensorSummary) -> HTML {
        sensor.simulated ? " <span class=\"badge simulated\" title=\"made up by the demo house\">simulated</span>" : .empty
    }

    static func sensors(node: NodeInfo, charts: [(SensorSummary, Series)], range: ChartRange, now: UTCMillis,
                        signedIn: Bool) -> HTML {
        var body: HTML = "<h1>Sensors</h1><div class=\"ranges\">"
        for option in ChartRange.allCases {
            let current: HTML = option == range ? " aria-current=\"page\"" : .empty
            body += "<a href=\"/sensors?range=\(option.rawValue)\"\(current)>\(option.rawValue)</a>"
        }
        body += "</div>"
        guard !charts.isEmpty else {
            return Layout.page(title: "Sensors", node: node, tab: .sensors,
                               body: body + "<p class=\"empty\">No sensors yet.</p>", signedIn: signedIn)
        }
        body += "<div class=\"grid\">"
        for (sensor, series) in charts { body += chartPanel(sensor, series, range: range, now: now) }
        body += "</div>"
        return Layout.page(title: "Sensors", node: node, tab: .sensors, body: body, signedIn: signedIn)
    }

    /// One sensor's chart with its name, state and current value; `id="s-KEY"` is its anchor.
    static func chartPanel(_ sensor: SensorSummary, _ series: Series, range: ChartRange, now: UTCMillis) -> HTML {
        let stats: HTML = sensor.sensor.kind == .binary
            ? "\(series.points.reduce(0) { $0 + $1.onCount }) times on in \(range.rawValue)"
            : sensor.hourMin == nil ? "no rollups in the last hour"
            : "last hour \(Format.value(sensor.hourMin, unit: sensor.sensor.unit)) … \(Format.value(sensor.hourMax, unit: sensor.sensor.unit))"
        return """
            <section class="panel" id="s-\(sensor.sensor.id.rawValue)"><div class="sensor-head"><div><h2>\(sensor.sensor.name)</h2>
            <div class="muted">\(sensor.sensor.id.rawValue)\(simulatedBadge(sensor)) · <span class="\(sensor.status)">\(sensor.status)</span> · \(Format.age(sensor.lastTime, now: now))</div></div>
            <div class="now">\(current(sensor))</div></div>
            \(Chart.svg(series))<div class="muted">\(stats)</div></section>
            """
    }

    static func timeline(_ entries: [LogEntry], emptyText: String = "Nothing logged yet.", compact: Bool = false) -> HTML {
        var items = HTML.empty
        for entry in entries {
            let unsynced: HTML = entry.clockQuality == .unsynced ? " ~" : .empty
            items += """
                <li data-hlc="\(entry.hlc.rawValue)"><div class="meta"><time data-ms="\(entry.time.rawValue)">\(Format.tick(entry.time, range: .week)) \(Format.tick(entry.time, range: .day))</time>\(unsynced)
                <span class="stream">\(entry.stream.rawValue) · \(entry.type)</span></div><div class="text"><strong>\(entry.subject)</strong> \(entry.message)</div></li>
                """
        }
        let empty: HTML = entries.isEmpty ? "<p class=\"empty\">\(emptyText)</p>" : .empty
        let style: HTML = compact ? "timeline compact" : "timeline"
        return "\(empty)<ol class=\"\(style)\">\(items)</ol>"
    }

    static func log(node: NodeInfo, entries: [LogEntry], filter: LogFilter, subjects: [String], writer: String? = nil,
                    signedIn: Bool) -> HTML {
        var streamOptions: HTML = "<option value=\"\">all</option>"
        for stream in LogEntry.streams {
            let selected: HTML = filter.stream == stream ? " selected" : .empty
            streamOptions += "<option value=\"\(stream.rawValue)\"\(selected)>\(stream.rawValue)</option>"
        }
        var subjectOptions: HTML = "<option value=\"\">all</option>"
        for subject in subjects {
            let selected: HTML = filter.subject == subject ? " selected" : .empty
            subjectOptions += "<option value=\"\(subject)\"\(selected)>\(subject)</option>"
        }
        let observations = filter.stream == .observations
        let emptyText = observations
            ? "No observations yet. They appear here, live, once the node's language model starts writing them."
            : "No entries match."
        let body: HTML = """
            <h1>\(observations ? "Observations" : "Log") <span class="live">connecting…</span></h1>
            \(writer.map { "<p class=\"sub\" data-writer>\($0)</p>" as HTML } ?? .empty)
            <form class="filters" method="get" action="/log">
            <label>Stream<select name="stream">\(streamOptions)</select></label>
            <label>Subject<select name="subject">\(subjectOptions)</select></label>
            <label>Search<input type="search" name="q" value="\(filter.query)" placeholder="text"></label>
            <button type="submit">Filter</button> <a href="/log?stream=observations">Observations only</a></form>
            <section class="panel" data-live-log data-after="\(entries.first.map { String($0.hlc.rawValue) })" data-stream="\(filter.stream?.rawValue)" data-subject="\(filter.subject)" data-q="\(filter.query)">
            \(timeline(entries, emptyText: emptyText))</section>
            """
        return Layout.page(title: observations ? "Observations" : "Log", node: node, tab: .log, body: body,
                           signedIn: signedIn)
    }

    static func login(node: NodeInfo, failed: Bool) -> HTML {
        let message: HTML = failed ? "<p class=\"bad\">That token is not right.</p>" : .empty
        let body: HTML = """
            <form class="login panel" method="post" action="/login"><h1>Sign in</h1>
            <p class="muted">This dashboard is reachable from the network, so it asks for the token set in <code>http.token</code>.</p>
            \(message)<input type="password" name="token" autocomplete="current-password" placeholder="token" required autofocus>
            <button type="submit">Sign in</button></form>
            """
        return Layout.page(title: "Sign in", node: node, tab: nil, body: body)
    }

    static func notFound(node: NodeInfo, what: String) -> HTML {
        Layout.page(title: "Not found", node: node, tab: nil,
                    body: "<h1>Not found</h1><p class=\"empty\">\(what)</p><p><a href=\"/\">Back to the overview</a></p>")
    }
}
