/// What one `/dev/gpiochipN` says about itself (`GPIO_GET_CHIPINFO_IOCTL` + line names).
public struct GPIOChipInfo: Hashable, Sendable, Codable {
    /// Device path, e.g. `/dev/gpiochip0` (under the device root).
    public var path: String
    /// Kernel name, e.g. `gpiochip0`. Numbers change between kernels: never configure by it.
    public var name: String
    /// Driver label: `pinctrl-rp1` (Pi 5), `pinctrl-bcm2711` (Pi 4), `pinctrl-bcm2835` (Pi ≤ 3).
    public var label: String
    public var lineCount: Int
    /// Line names by offset (`GPIO17`, `ID_SDA`, …); empty strings for unnamed lines.
    public var lineNames: [String]

    public init(path: String, name: String, label: String, lineCount: Int, lineNames: [String] = []) {
        self.path = path
        self.name = name
        self.label = label
        self.lineCount = lineCount
        self.lineNames = lineNames
    }
}

/// Lists the GPIO chips of a machine. The Linux implementation asks the character devices;
/// tests and `detect` fixtures pass recorded layouts.
public protocol GPIOChipProbe: Sendable {
    func chips() throws -> [GPIOChipInfo]
}

/// A line as written in the config: a name the kernel gives it (`GPIO17`), or a BCM number on
/// the 40-pin header chip.
public enum GPIOLineSpec: Hashable, Sendable, Codable, CustomStringConvertible {
    case named(String)
    case headerNumber(Int)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            self = .headerNumber(number)
        } else {
            let text = try container.decode(String.self)
            if let number = Int(text) { self = .headerNumber(number) } else { self = .named(text) }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .named(let name): try container.encode(name)
        case .headerNumber(let number): try container.encode(number)
        }
    }

    public var description: String {
        switch self {
        case .named(let name): name
        case .headerNumber(let number): "GPIO\(number)"
        }
    }
}

/// A resolved line: the chip to open and the offset on it.
public struct GPIOLineLocation: Hashable, Sendable {
    public var chip: GPIOChipInfo
    public var offset: UInt32
}

/// Finds chips and lines by label or name, so a config keeps working when a kernel renumbers
/// chips (Pi 5 kernels moved the header from gpiochip4 to gpiochip0).
public enum GPIOChipLocator {
    /// Labels of the chip wired to the 40-pin header, most recent boards first.
    public static let headerChipLabels = ["pinctrl-rp1", "pinctrl-bcm2711", "pinctrl-bcm2835"]

    public struct NotFound: Error, Hashable, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    /// The header chip: the one labelled `label` if given, else the first known header label.
    public static func headerChip(in chips: [GPIOChipInfo], label: String? = nil) throws(NotFound) -> GPIOChipInfo {
        let wanted = label.map { [$0] } ?? headerChipLabels
        for candidate in wanted {
            if let chip = chips.first(where: { $0.label == candidate }) { return chip }
        }
        throw NotFound(
            message: "no GPIO chip labelled \(wanted.joined(separator: " or ")); chips present: \(summary(chips))")
    }

    /// Resolves a configured line. Names are looked up on the header chip first, then on all chips.
    public static func locate(_ spec: GPIOLineSpec, in chips: [GPIOChipInfo], chipLabel: String? = nil)
        throws(NotFound) -> GPIOLineLocation
    {
        switch spec {
        case .headerNumber(let number):
            let chip = try headerChip(in: chips, label: chipLabel)
            guard number >= 0, number < chip.lineCount else {
                throw NotFound(message: "GPIO\(number) is not a line of \(chip.label) (\(chip.lineCount) lines)")
            }
            return GPIOLineLocation(chip: chip, offset: UInt32(number))
        case .named(let name):
            var ordered = chips
            if let header = try? headerChip(in: chips, label: chipLabel) {
                ordered.removeAll { $0 == header }
                ordered.insert(header, at: 0)
            } else if let chipLabel {
                ordered = chips.filter { $0.label == chipLabel }
            }
            for chip in ordered {
                if let offset = chip.lineNames.firstIndex(of: name) {
                    return GPIOLineLocation(chip: chip, offset: UInt32(offset))
                }
            }
            throw NotFound(message: "no GPIO line named '\(name)'; chips present: \(summary(chips))")
        }
    }

    static func summary(_ chips: [GPIOChipInfo]) -> String {
        chips.isEmpty ? "none (is /dev/gpiochip* readable?)" : chips.map { "\($0.name) '\($0.label)'" }.joined(separator: ", ")
    }
}
