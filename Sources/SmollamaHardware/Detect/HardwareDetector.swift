import Foundation
public import SmollamaSensors

/// `smollama sensors detect`: looks at GPIO chips, I2C buses (probing a few well-known addresses
/// with register reads only, and never an address a kernel driver owns), SPI devices, 1-Wire
/// thermometers, IIO devices and hwmon chips under the context's roots, and suggests config.
public struct HardwareDetector: Sendable {
    public var context: DriverContext
    public var gpioChips: any GPIOChipProbe
    public var i2cBus: @Sendable (_ path: String) -> any I2CBus

    public init(context: DriverContext, backends: HardwareBackends) {
        self.context = context
        gpioChips = backends.gpioChips(context)
        i2cBus = backends.i2cBus
    }

    public func detect() -> DetectionReport {
        var names = UniqueNames()
        var devices: [DetectedDevice] = []
        devices += gpio()
        devices += i2c(names: &names)
        devices += spi()
        devices += oneWire(names: &names)
        devices += iio(names: &names)
        devices += hwmon(names: &names)
        return DetectionReport(devices: devices)
    }

    func gpio() -> [DetectedDevice] {
        let chips = (try? gpioChips.chips()) ?? []
        let header = try? GPIOChipLocator.headerChip(in: chips)
        return chips.map { chip in
            let isHeader = chip == header
            let named = chip.lineNames.filter { !$0.isEmpty }.count
            return DetectedDevice(
                bus: "gpiochip", location: chip.path,
                summary: "'\(chip.label)', \(chip.lineCount) lines (\(named) named)"
                    + (isHeader ? ", the 40-pin header" : ""),
                note: isHeader ? "wire a sensor and add e.g. '- driver: pir' with 'line: GPIO17'" : nil)
        }
    }

    func i2c(names: inout UniqueNames) -> [DetectedDevice] {
        var found: [DetectedDevice] = []
        let devDirectory = context.devicePath("/dev")
        for entry in SysfsFile.list(devDirectory) where entry.hasPrefix("i2c-") {
            guard let bus = Int(entry.dropFirst(4)) else { continue }
            let path = devDirectory + "/" + entry
            let transport = i2cBus(path)
            var answered = false
            var busError: String?
            for candidate in I2CCandidate.known {
                let location = "\(path) 0x\(String(candidate.address, radix: 16))"
                if let owner = kernelOwner(bus: bus, address: candidate.address) {
                    answered = true
                    found.append(
                        DetectedDevice(
                            bus: "i2c", location: location, summary: "owned by kernel driver '\(owner)'",
                            note: "not probed; read it through the iio or hwmon driver"))
                    continue
                }
                let identified: String?
                do {
                    identified = try candidate.identify(transport)
                } catch {
                    // No acknowledgement is the normal answer of an empty address; anything else is the bus's problem.
                    if !Self.isNoAcknowledge(error), busError == nil { busError = "\(error)" }
                    continue
                }
                guard let identified else { continue }
                answered = true
                let name = names.make(candidate.driver)
                found.append(
                    DetectedDevice(
                        bus: "i2c", location: location, summary: identified,
                        entry: [
                            ConfigPair("driver", candidate.driver), ConfigPair("name", name), ConfigPair("bus", String(bus)),
                            ConfigPair("address", "0x" + String(candidate.address, radix: 16)),
                        ]))
            }
            if !answered {
                let probed = I2CCandidate.known.map { "0x" + String($0.address, radix: 16) }.joined(separator: ", ")
                found.append(
                    DetectedDevice(
                        bus: "i2c", location: path, summary: "I2C bus, no known sensor at \(probed)",
                        note: busError.map { "probing failed: \($0)" }))
            }
        }
        return found
    }

    static func isNoAcknowledge(_ error: any Error) -> Bool {
        guard let code = (error as? I2CError)?.code else { return false }
        // bcm2835 answers EREMOTEIO, SMBus controllers ENXIO, i2c-stub ENODEV.
        return code == ENXIO || code == EREMOTEIO || code == EIO || code == ENODEV
    }

    /// The kernel driver bound to `bus`-`address`, if one is (`/sys/bus/i2c/devices/1-0076/driver`).
    func kernelOwner(bus: Int, address: UInt8) -> String? {
        let hex = String(address, radix: 16)
        let device = context.systemPath("/sys/bus/i2c/devices/\(bus)-" + String(repeating: "0", count: 4 - hex.count) + hex)
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: device + "/driver") else { return nil }
        return (target as NSString).lastPathComponent
    }

    func spi() -> [DetectedDevice] {
        let devDirectory = context.devicePath("/dev")
        return SysfsFile.list(devDirectory).filter { $0.hasPrefix("spidev") }.map { entry in
            let parts = entry.dropFirst("spidev".count).split(separator: ".")
            let example = parts.count == 2 ? "'- driver: mcp3008' with 'bus: \(parts[0])', 'chip_select: \(parts[1])'" : "'- driver: mcp3008'"
            return DetectedDevice(
                bus: "spi", location: devDirectory + "/" + entry, summary: "SPI device (SPI has no identification to probe)",
                note: "for an MCP3008 add \(example) and its channels")
        }
    }

    func oneWire(names: inout UniqueNames) -> [DetectedDevice] {
        let directory = context.systemPath("/sys/bus/w1/devices")
        return SysfsFile.list(directory).filter { entry in
            DS18B20Driver.thermometerFamilies.contains { entry.lowercased().hasPrefix($0 + "-") }
        }.map { entry in
            let name = names.make("ds18b20_" + DriverNaming.sanitized(String(entry.suffix(4))))
            return DetectedDevice(
                bus: "w1", location: directory + "/" + entry, summary: "1-Wire thermometer \(entry)",
                entry: [ConfigPair("driver", "ds18b20"), ConfigPair("name", name), ConfigPair("device", entry)])
        }
    }

    func iio(names: inout UniqueNames) -> [DetectedDevice] {
        let directory = context.systemPath("/sys/bus/iio/devices")
        return SysfsDeviceLookup.devices(in: directory, prefix: "iio:device").map { device in
            let channels = IIOChannel.channels(in: SysfsFile.list(device.directory))
            let label = device.name.isEmpty ? device.entry : device.name
            guard !channels.isEmpty else {
                return DetectedDevice(bus: "iio", location: device.directory, summary: "IIO device '\(label)'", note: "no input channels")
            }
            return DetectedDevice(
                bus: "iio", location: device.directory,
                summary: "IIO device '\(label)': " + channels.map(\.id).joined(separator: ", "),
                entry: [
                    ConfigPair("driver", "iio"), ConfigPair("name", names.make(DriverNaming.sanitized(label))),
                    ConfigPair("device", device.name.isEmpty ? device.entry : device.name),
                ])
        }
    }

    func hwmon(names: inout UniqueNames) -> [DetectedDevice] {
        let directory = context.systemPath("/sys/class/hwmon")
        return SysfsDeviceLookup.devices(in: directory, prefix: "hwmon").map { device in
            let channels = HwmonDriver.channels(in: SysfsFile.list(device.directory))
            let label = device.name.isEmpty ? device.entry : device.name
            guard !channels.isEmpty else {
                return DetectedDevice(bus: "hwmon", location: device.directory, summary: "hwmon '\(label)'", note: "no readable channels")
            }
            return DetectedDevice(
                bus: "hwmon", location: device.directory, summary: "hwmon '\(label)': " + channels.joined(separator: ", "),
                entry: [
                    ConfigPair("driver", "hwmon"), ConfigPair("name", names.make(DriverNaming.sanitized(label))),
                    ConfigPair("device", device.name.isEmpty ? device.entry : device.name),
                ])
        }
    }
}

/// Names for suggested entries: `bme280`, then `bme280_2`, …
struct UniqueNames {
    private var used: Set<String> = []

    mutating func make(_ base: String) -> String {
        var candidate = base
        var counter = 2
        while used.contains(candidate) {
            candidate = "\(base)_\(counter)"
            counter += 1
        }
        used.insert(candidate)
        return candidate
    }
}
