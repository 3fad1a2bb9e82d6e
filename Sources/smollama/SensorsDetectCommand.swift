import ArgumentParser
import Foundation
import Logging
import SmollamaHardware
import SmollamaSensors

/// `smollama sensors detect [--json]`: what hardware sensors this machine has, and a config
/// snippet to paste under `sensors:`.
struct SensorsDetectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Find GPIO chips, I2C/SPI/1-Wire sensors, IIO and hwmon devices and print a config snippet.",
        discussion: """
            I2C buses are probed only at a few well-known addresses (BME280/BMP280 0x76/0x77, BH1750 0x23/0x5c), \
            with register reads, and never at an address a kernel driver owns.
            """)

    @Flag(help: "Print the devices and the snippet as JSON.")
    var json = false

    @Option(help: "Root under which /sys is read (default: $SMOLLAMA_SYSFS_ROOT or /).")
    var sysfsRoot: String?

    @Option(help: "Root under which /dev is opened (default: $SMOLLAMA_DEV_ROOT or /).")
    var devRoot: String?

    func validate() throws {
        for (flag, root) in [("--sysfs-root", resolvedSysfsRoot), ("--dev-root", resolvedDevRoot)] {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("\(flag) '\(root)' is not a directory; give the root that holds sys/ or dev/")
            }
        }
    }

    var resolvedSysfsRoot: String { sysfsRoot ?? ProcessInfo.processInfo.environment["SMOLLAMA_SYSFS_ROOT"] ?? "/" }
    var resolvedDevRoot: String { devRoot ?? ProcessInfo.processInfo.environment["SMOLLAMA_DEV_ROOT"] ?? "/" }

    func run() async throws {
        #if os(Linux)
        let context = DriverContext(
            systemRoot: resolvedSysfsRoot, deviceRoot: resolvedDevRoot, dataDirectory: FileManager.default.currentDirectoryPath,
            logger: Logger(label: "smollama.sensors.detect"))
        let report = HardwareDetector(context: context, backends: .linux).detect()
        if json {
            print(try report.json())
        } else {
            print(report.text)
            print("Merge these entries into sensors.drivers in your config:\n")
            print(report.configSnippet, terminator: "")
        }
        #else
        throw ValidationError("sensors detect needs Linux (GPIO character devices, i2c-dev, spidev, sysfs)")
        #endif
    }
}
