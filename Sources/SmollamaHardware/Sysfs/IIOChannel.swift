/// One IIO input channel as sysfs exposes it: `in_<channel>_input` (processed) or
/// `in_<channel>_raw` with `_scale`/`_offset` (per channel, or shared per type).
public struct IIOChannel: Hashable, Sendable {
    /// `temp`, `humidityrelative`, `voltage0`, `temp_ambient`, `distance`.
    public var id: String
    /// Leading letters of the id: `voltage`, `temp`, …
    public var type: String
    public var processed: Bool

    /// Channels found in a device directory's file names, in name order.
    public static func channels(in files: [String]) -> [IIOChannel] {
        var found: [String: Bool] = [:]
        for file in files where file.hasPrefix("in_") {
            for (suffix, processed) in [("_input", true), ("_raw", false)] where file.hasSuffix(suffix) {
                let id = String(file.dropFirst(3).dropLast(suffix.count))
                guard !id.isEmpty else { continue }
                found[id] = (found[id] ?? false) || processed
            }
        }
        return found.keys.sorted(by: SysfsFile.naturalOrder).map { id in
            IIOChannel(id: id, type: typeName(of: id), processed: found[id] ?? false)
        }
    }

    static func typeName(of id: String) -> String {
        String(id.prefix { $0.isLetter && $0.isASCII })
    }

    /// How the ABI's units map to the units Smollama stores.
    public struct Unit: Hashable, Sendable {
        public var symbol: String
        public var deviceClass: String?
        /// Multiply the IIO value (after scale/offset) by this …
        public var factor: Double
        public var range: ClosedRange<Double>?
        /// … or divide by this (exact for milli-units: 1650 / 1000 == 1.65, 1650 × 0.001 is not).
        public var divisor: Double = 1

        public func convert(_ value: Double) -> Double { value * factor / divisor }
    }

    /// Units from Documentation/ABI/testing/sysfs-bus-iio: temperature in m°C, relative humidity
    /// in m%, pressure in kPa, voltage in mV, current in mA, illuminance in lux, distance in m.
    public var unit: Unit {
        switch type {
        case "temp": Unit(symbol: "°C", deviceClass: "temperature", factor: 1, range: -273.15...2000, divisor: 1000)
        case "humidityrelative": Unit(symbol: "%", deviceClass: "humidity", factor: 1, range: 0...100, divisor: 1000)
        case "pressure": Unit(symbol: "hPa", deviceClass: "pressure", factor: 10, range: 0...20000)
        case "voltage": Unit(symbol: "V", deviceClass: "voltage", factor: 1, range: nil, divisor: 1000)
        case "current": Unit(symbol: "A", deviceClass: "current", factor: 1, range: nil, divisor: 1000)
        case "power": Unit(symbol: "W", deviceClass: "power", factor: 1, range: nil, divisor: 1000)
        case "illuminance": Unit(symbol: "lx", deviceClass: "illuminance", factor: 1, range: 0...200_000)
        case "distance": Unit(symbol: "cm", deviceClass: "distance", factor: 100, range: 0...10_000)
        case "concentration": Unit(symbol: "ppm", deviceClass: nil, factor: 1, range: nil)
        case "resistance": Unit(symbol: "Ω", deviceClass: nil, factor: 1, range: nil)
        default: Unit(symbol: "", deviceClass: nil, factor: 1, range: nil)
        }
    }

    /// The file names holding this channel's value and its conversion.
    var inputFile: String { "in_\(id)_input" }
    var rawFile: String { "in_\(id)_raw" }
    var scaleFiles: [String] { ["in_\(id)_scale", "in_\(type)_scale"] }
    var offsetFiles: [String] { ["in_\(id)_offset", "in_\(type)_offset"] }
}
