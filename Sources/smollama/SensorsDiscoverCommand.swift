import ArgumentParser
import Foundation
import Logging
import SmollamaMQTT

/// `smollama sensors discover --broker HOST:PORT [--seconds N] [--json]`: what the devices on a
/// broker announce with Home Assistant MQTT discovery (Zigbee2MQTT, Tasmota, ESPHome), which
/// sensors `driver: mqtt_discovery` would make of it, and the config snippet.
struct SensorsDiscoverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discover",
        abstract: "List the sensors a broker's devices announce (Home Assistant MQTT discovery) and print a config snippet.",
        discussion: """
            Reads the retained configs under <prefix>/<component>/[<node>/]<object>/config for a few seconds; \
            nothing is published. Entities are listed with the sensor id they get, or why they are not adopted.
            """)

    @Option(help: "The broker, as host:port (e.g. hub.local:1883).")
    var broker: String

    @Option(help: "How long to listen for announcements.")
    var seconds = 3

    @Option(help: "The discovery prefix the devices use.")
    var prefix = "homeassistant"

    @Flag(help: "Print the entities and the snippet as JSON.")
    var json = false

    func validate() throws {
        guard (1...120).contains(seconds) else { throw ValidationError("--seconds must be 1 to 120") }
        guard endpoint != nil else {
            throw ValidationError("--broker '\(broker)' is not host:port; write e.g. hub.local:1883")
        }
        guard !prefix.isEmpty, !prefix.contains(where: { "+#".contains($0) }) else {
            throw ValidationError("--prefix '\(prefix)' is not a topic prefix; e.g. homeassistant")
        }
    }

    var endpoint: (host: String, port: Int32)? {
        let parts = broker.split(separator: ":", omittingEmptySubsequences: false)
        guard let host = parts.first, !host.isEmpty, parts.count <= 2 else { return nil }
        guard parts.count == 2 else { return (String(host), 1883) }
        guard let port = Int32(parts[1]), (1...65535).contains(port) else { return nil }
        return (String(host), port)
    }

    func run() async throws {
        try await userFacing {
            guard let endpoint else { throw ValidationError("--broker is not host:port") }
            var logger = Logger(label: "smollama.sensors.discover")
            logger.logLevel = .error
            let report = try await DiscoveryScan.scan(host: endpoint.host, port: endpoint.port, prefix: prefix,
                                                      duration: .seconds(seconds), logger: logger)
            if json { return try printJSON(report) }
            print(Self.render(report))
        }
    }

    static func render(_ report: DiscoveryScan.Report) -> String {
        guard !report.entities.isEmpty else {
            return "Nothing announced under \(report.prefix)/ on \(report.broker): is Home Assistant discovery on "
                + "in Zigbee2MQTT (homeassistant: true), Tasmota (SetOption19 1) or ESPHome (mqtt: discovery: true)?"
        }
        let adopted = report.entities.filter { $0.sensor != nil }
        let skipped = report.entities.filter { $0.sensor == nil }
        // Announced text is the devices' own: the table and `inert` make it safe to print.
        let rows = adopted.map { entity in
            [entity.sensor ?? "", [entity.unit, entity.deviceClass].compactMap { $0 }.joined(separator: " "),
             entity.name ?? ""]
        }
        var text = "\(report.entities.count) entities announced on \(report.broker) (\(adopted.count) become sensors):\n\n"
        if !rows.isEmpty { text += Terminal.table(["SENSOR", "UNIT/CLASS", "NAME"], rows) + "\n\n" }
        if !skipped.isEmpty {
            text += "Not adopted:\n" + skipped.map { "  \($0.entityID): \(Terminal.inert($0.reason ?? ""))" }
                .joined(separator: "\n") + "\n\n"
        }
        text += "Merge this into your config (include/exclude: globs on entity ids, the part after the room; "
            + "area: globs to rooms):\n\n" + report.snippet
        return text
    }
}
