import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `smollama service install|uninstall` does, as a list of steps: computed first (pure, so
/// `--dry-run` prints exactly what would run and tests read it), then carried out in order.
public enum ServiceStep: Sendable, Hashable, CustomStringConvertible {
    case command([String])
    case writeFile(path: String, contents: String)
    case removeFile(path: String)

    public var description: String {
        switch self {
        case .command(let arguments): arguments.map(Self.quoted).joined(separator: " ")
        case .writeFile(let path, let contents): "write \(path):\n" + contents
        case .removeFile(let path): "rm -f \(path)"
        }
    }

    static func quoted(_ word: String) -> String {
        word.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:@+,".contains($0) } && !word.isEmpty ? word : "'\(word)'"
    }
}

public enum ServiceError: Error, CustomStringConvertible {
    case systemdNotRunning(initProcess: String)
    case notRoot
    case notInitialised(home: String, user: String)
    case stepFailed(step: String, status: Int32)

    public var description: String {
        switch self {
        case .systemdNotRunning(let name):
            "systemd is not running on this machine (PID 1 is \(name)), so there is no service to manage. "
                + "Run the node in the foreground with `smollama run` (or under the supervisor this machine has); "
                + "`smollama service install --dry-run` shows the unit"
        case .notRoot: "installing a service changes /etc/systemd and creates a user: run it with sudo"
        case .notInitialised(let home, let user):
            "\(home) is not a node yet: run `sudo -u \(user) smollama init` first (or pass --home)"
        case .stepFailed(let step, let status): "`\(step)` failed (exit status \(status)); nothing after it was done"
        }
    }
}

public enum ServicePlan {
    /// Hardware groups a sensor node's user joins when this machine has them (Raspberry Pi OS does).
    public static let hardwareGroups = ["gpio", "i2c", "spi", "dialout"]

    /// The node home for `user`: their `~/.smollama` when they exist, else under the home a new
    /// system user gets (`/var/lib/USER`).
    public static func defaultHome(user: String) -> String {
        (existingUserHome(user) ?? newUserHome(user)) + "/.smollama"
    }

    public static func newUserHome(_ user: String) -> String { "/var/lib/\(user)" }

    public static func existingUserHome(_ user: String) -> String? {
        guard let entry = getpwnam(user), let directory = entry.pointee.pw_dir else { return nil }
        return String(cString: directory)
    }

    public static func groupExists(_ group: String) -> Bool { getgrnam(group) != nil }

    /// Creates the user when missing, gives it the home, writes the unit, enables and (re)starts it.
    public static func install(unit: SystemdUnit, userExists: Bool, groups: [String]) -> [ServiceStep] {
        var steps: [ServiceStep] = []
        if !userExists {
            steps.append(.command([
                "useradd", "--system", "--user-group", "--home-dir", newUserHome(unit.user), "--shell", "/usr/sbin/nologin",
                unit.user,
            ]))
        }
        steps.append(.command(["install", "-d", "-o", unit.user, "-g", unit.user, "-m", "0750", unit.home]))
        steps.append(.command(["chown", "-R", "\(unit.user):\(unit.user)", unit.home]))
        for group in groups { steps.append(.command(["usermod", "--append", "--groups", group, unit.user])) }
        steps.append(.writeFile(path: SystemdUnit.path, contents: unit.render()))
        steps.append(.command(["systemctl", "daemon-reload"]))
        steps.append(.command(["systemctl", "enable", SystemdUnit.name]))
        steps.append(.command(["systemctl", "restart", SystemdUnit.name]))
        return steps
    }

    /// Stops and disables the unit and removes its file; the user and the node's home stay.
    public static func uninstall() -> [ServiceStep] {
        [
            .command(["systemctl", "disable", "--now", SystemdUnit.name]),
            .removeFile(path: SystemdUnit.path),
            .command(["systemctl", "daemon-reload"]),
        ]
    }

    /// Throws unless systemd is PID 1 (sd_booted(3): /run/systemd/system exists).
    public static func requireSystemd(root: String = "/") throws {
        guard !FileManager.default.fileExists(atPath: root + "run/systemd/system") else { return }
        let name = (try? String(contentsOfFile: "/proc/1/comm", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        throw ServiceError.systemdNotRunning(initProcess: name.map { $0.isEmpty ? "unknown" : $0 } ?? "unknown")
    }

    /// Carries out the steps in order, stopping at the first that fails.
    public static func execute(_ steps: [ServiceStep]) throws {
        for step in steps {
            switch step {
            case .command(let arguments):
                let status = try run(arguments)
                guard status == 0 else { throw ServiceError.stepFailed(step: step.description, status: status) }
            case .writeFile(let path, let contents):
                try Data(contents.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
                _ = chmod(path, 0o644)
            case .removeFile(let path):
                if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            }
        }
    }

    /// Runs a program found on PATH with this terminal, and returns its exit status.
    @discardableResult
    public static func run(_ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
