import Foundation
import Logging
import SmollamaSensors

/// A temporary directory laid out like `/sys` and `/dev`, removed when the test ends.
struct FixtureTree: ~Copyable {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("smollama-hw-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Writes `content` (sysfs attributes end in a newline) at `path`, creating directories.
    func write(_ path: String, _ content: String) throws {
        let full = root + path
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(content.utf8).write(to: URL(fileURLWithPath: full))
    }

    func mkdir(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: root + path, withIntermediateDirectories: true)
    }

    func symlink(_ path: String, to destination: String) throws {
        try FileManager.default.createDirectory(
            atPath: ((root + path) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + path, withDestinationPath: destination)
    }

    /// Makes `path` fail with EIO when read, as a sysfs attribute does when the sensor does not
    /// answer: a link to /proc/self/mem, whose first page is never mapped.
    func makeEIO(_ path: String) throws {
        try? FileManager.default.removeItem(atPath: root + path)
        try symlink(path, to: "/proc/self/mem")
    }

    func remove(_ path: String) throws {
        try FileManager.default.removeItem(atPath: root + path)
    }

    var context: DriverContext {
        DriverContext(systemRoot: root, deviceRoot: root, dataDirectory: root, logger: Logger(label: "test"))
    }
}
