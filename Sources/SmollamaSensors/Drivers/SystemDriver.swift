import Foundation
public import SmollamaCore
#if canImport(Glibc)
import Glibc
#endif

/// The node's own health as sensors: CPU temperature (when the machine has a thermal zone or
/// hwmon sensor — many VMs have neither, and then it is simply not offered), load average,
/// memory available, free space on the data disk and this process's resident memory.
public struct SystemDriver: SensorDriver {
    public struct Options: Codable, Sendable, Hashable {
        public var name: String = "system"
        public var interval: ConfigDuration = .seconds(30)

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, interval
        }

        public init() {}

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decodeIfPresent(String.self, forKey: .name) ?? name
            interval = try container.decodeIfPresent(ConfigDuration.self, forKey: .interval) ?? interval
        }
    }

    public let name: String
    public let interval: Duration
    public let sensors: [SensorDescriptor]
    private let context: DriverContext
    /// The file giving CPU temperature in millidegrees, found once at start.
    private let temperatureFile: String?

    public static let kind = SensorDriverKind(
        name: "system", summary: "this machine: CPU temperature, load, memory, disk free, process memory"
    ) { entry, context in
        SystemDriver(options: try Options(from: entry), context: context)
    }

    public init(options: Options = .init(), context: DriverContext) {
        self.name = options.name
        self.interval = options.interval.duration
        self.context = context
        self.temperatureFile = Self.findTemperatureFile(context)
        let prefix = options.name
        var sensors = [
            SensorDescriptor(id: SensorID("\(prefix).load_1m"), name: "Load average (1 min)", range: 0...10_000),
            SensorDescriptor(id: SensorID("\(prefix).memory_available"), name: "Memory available", unit: "B",
                             deviceClass: "data_size", range: 0...Double(1 << 50)),
            SensorDescriptor(id: SensorID("\(prefix).disk_free"), name: "Disk free (data)", unit: "B",
                             deviceClass: "data_size", range: 0...Double(1 << 60)),
            SensorDescriptor(id: SensorID("\(prefix).process_rss"), name: "Smollama memory (RSS)", unit: "B",
                             deviceClass: "data_size", range: 0...Double(1 << 50)),
        ]
        if temperatureFile != nil {
            sensors.insert(
                SensorDescriptor(id: SensorID("\(prefix).cpu_temperature"), name: "CPU temperature", unit: "°C",
                                 deviceClass: "temperature", range: -40...150), at: 0)
        }
        self.sensors = sensors
    }

    public func read(now: UTCMillis) async throws -> [SensorSample] {
        var samples: [SensorSample] = []
        var problems: [String] = []
        func add(_ suffix: String, _ value: () throws -> Double) {
            do { samples.append(SensorSample(sensor: SensorID("\(name).\(suffix)"), value: try value())) } catch {
                problems.append("\(suffix): \(error)")
            }
        }
        if let temperatureFile {
            add("cpu_temperature") { try Self.number(in: temperatureFile) / 1000 }
        }
        add("load_1m") {
            let text = try Self.text(context.systemPath("/proc/loadavg"))
            guard let first = text.split(separator: " ").first, let load = Double(first) else {
                throw SensorFault(driver: name, "cannot parse /proc/loadavg: '\(text.prefix(40))'")
            }
            return load
        }
        add("memory_available") { try Self.kilobytes("MemAvailable:", in: context.systemPath("/proc/meminfo")) * 1024 }
        add("disk_free") { try Self.freeBytes(at: context.dataDirectory) }
        add("process_rss") { try Self.kilobytes("VmRSS:", in: context.systemPath("/proc/self/status")) * 1024 }
        // Partial answers are still answers; only when everything failed is the read a fault.
        if samples.isEmpty { throw SensorFault(driver: name, problems.joined(separator: "; ")) }
        return samples
    }

    /// Prefers a thermal zone whose type names the CPU, then any zone, then hwmon temp1_input.
    static func findTemperatureFile(_ context: DriverContext) -> String? {
        let fm = FileManager.default
        let thermal = context.systemPath("/sys/class/thermal")
        let zones = ((try? fm.contentsOfDirectory(atPath: thermal)) ?? []).filter { $0.hasPrefix("thermal_zone") }.sorted()
        let readable = zones.filter { (try? number(in: "\(thermal)/\($0)/temp")) != nil }
        let cpu = readable.first { zone in
            let type = (try? text("\(thermal)/\(zone)/type")) ?? ""
            return ["cpu", "soc", "x86_pkg", "coretemp"].contains { type.lowercased().contains($0) }
        }
        if let zone = cpu ?? readable.first { return "\(thermal)/\(zone)/temp" }
        let hwmon = context.systemPath("/sys/class/hwmon")
        for device in ((try? fm.contentsOfDirectory(atPath: hwmon)) ?? []).sorted() {
            let file = "\(hwmon)/\(device)/temp1_input"
            if (try? number(in: file)) != nil { return file }
        }
        return nil
    }

    static func text(_ path: String) throws -> String {
        do { return try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw SensorFault(driver: "system", "cannot read \(path)")
        }
    }

    static func number(in path: String) throws -> Double {
        let raw = try text(path).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let value = Double(raw) else { throw SensorFault(driver: "system", "\(path) holds '\(raw)', not a number") }
        return value
    }

    static func kilobytes(_ key: String, in path: String) throws -> Double {
        for line in try text(path).split(separator: "\n") where line.hasPrefix(key) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let value = Double(fields[1]) { return value }
        }
        throw SensorFault(driver: "system", "\(path) has no '\(key)' line")
    }

    static func freeBytes(at path: String) throws -> Double {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else {
            throw SensorFault(driver: "system", "statvfs(\(path)) failed: \(String(cString: strerror(errno)))")
        }
        return Double(stats.f_bavail) * Double(stats.f_frsize)
    }
}
