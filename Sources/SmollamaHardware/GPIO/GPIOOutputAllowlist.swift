/// Which GPIO lines Smollama may drive as outputs (LED, relay, buzzer). Empty by default: no
/// line is ever set unless the config lists it. The node's config owns the list
/// (`gpio: { outputs: [GPIO27] }`); `LinuxGPIOOutput.open` refuses anything else.
public struct GPIOOutputAllowlist: Hashable, Sendable, Decodable {
    public var lines: [GPIOLineSpec]

    public init(lines: [GPIOLineSpec] = []) { self.lines = lines }

    public init(from decoder: any Decoder) throws {
        lines = try decoder.singleValueContainer().decode([GPIOLineSpec].self)
    }

    public func permits(_ line: GPIOLineSpec) -> Bool {
        lines.contains { allowed in
            allowed == line || allowed.headerNumber.map { $0 == line.headerNumber } ?? false
        }
    }

    public struct NotAllowed: Error, Hashable, Sendable, CustomStringConvertible {
        public var line: GPIOLineSpec
        public var description: String {
            "GPIO output \(line) is not allowlisted; add it to gpio.outputs in the config to let Smollama drive it"
        }
    }
}

extension GPIOLineSpec {
    /// `17` for `.headerNumber(17)` and for names of the form `GPIO17`.
    var headerNumber: Int? {
        switch self {
        case .headerNumber(let number): number
        case .named(let name): name.hasPrefix("GPIO") ? Int(name.dropFirst(4)) : nil
        }
    }
}
