/// Finds a sysfs device directory (`iio:deviceN`, `hwmonN`) by the name the driver gives it,
/// because the numbers change with probe order and kernel version.
enum SysfsDeviceLookup {
    struct Device: Hashable, Sendable {
        var directory: String
        var entry: String
        var name: String
    }

    /// Every `prefix*` entry of `classDirectory` with its `name` attribute.
    static func devices(in classDirectory: String, prefix: String) -> [Device] {
        SysfsFile.list(classDirectory).filter { $0.hasPrefix(prefix) }.map { entry in
            let directory = classDirectory + "/" + entry
            let name = (try? SysfsFile.read(directory + "/name")) ?? ""
            return Device(directory: directory, entry: entry, name: name)
        }
    }

    /// The device whose entry (`iio:device0`) or name (`bme280`) is `wanted`.
    static func find(_ wanted: String, in classDirectory: String, prefix: String) -> Device? {
        let all = devices(in: classDirectory, prefix: prefix)
        return all.first { $0.entry == wanted } ?? all.first { $0.name == wanted }
    }
}
