import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SmollamaNode

/// `smollama service install|status|uninstall|logs|unit`: the node as a hardened systemd service
/// (`SystemdUnit`, `ServicePlan`); status and logs wrap systemctl and journalctl.
struct ServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "Run the node as a systemd service: install, status, logs, uninstall.",
        subcommands: [Install.self, Status.self, Logs.self, Uninstall.self, Unit.self])

    /// Options naming the service's user, home and binary.
    struct UnitOptions: ParsableArguments {
        @Option(help: "The service's user (created when missing).")
        var user = "smollama"

        @Option(help: "The node's home (default: the user's ~/.smollama; /var/lib/USER/.smollama for a new user).")
        var home: String?

        @Option(help: "The smollama binary the unit runs (default: this one).")
        var binary: String?

        var resolvedHome: String { home ?? ServicePlan.defaultHome(user: user) }

        var resolvedBinary: String {
            if let binary { return binary }
            return (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        }

        var unit: SystemdUnit { SystemdUnit(user: user, home: resolvedHome, binary: resolvedBinary) }
    }

    struct Install: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the user if missing, write the unit, enable and start it.",
            discussion: "The node must be initialised first: sudo -u smollama smollama init.")

        @OptionGroup var options: UnitOptions
        @Flag(help: "Print what would be done, change nothing.") var dryRun = false

        func run() async throws {
            try await userFacing {
                let unit = options.unit
                let userExists = ServicePlan.existingUserHome(unit.user) != nil
                let groups = ServicePlan.hardwareGroups.filter(ServicePlan.groupExists)
                let steps = ServicePlan.install(unit: unit, userExists: userExists, groups: groups)
                let initialised = FileManager.default.fileExists(atPath: SmollamaPaths(home: unit.home).identityFile)
                if dryRun {
                    if !initialised { print("# note: \(ServiceError.notInitialised(home: unit.home, user: unit.user))") }
                    print("# would run, as root:")
                    for step in steps { print(step) }
                    return
                }
                try ServicePlan.requireSystemd()
                guard geteuid() == 0 else { throw ServiceError.notRoot }
                guard initialised else { throw ServiceError.notInitialised(home: unit.home, user: unit.user) }
                try ServicePlan.execute(steps)
                print("Installed \(SystemdUnit.name): \(unit.binary) run, as \(unit.user), home \(unit.home)")
                print("  status: smollama service status    logs: smollama service logs")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "systemctl status of the service.")

        func run() async throws {
            let status = try await userFacing {
                try ServicePlan.requireSystemd()
                return try ServicePlan.run(["systemctl", "status", "--no-pager", SystemdUnit.name])
            }
            if status != 0 { throw ExitCode(status) }
        }
    }

    struct Logs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The service's log (journalctl).")

        @Option(name: .shortAndLong, help: "How many lines.") var lines = 100
        @Flag(name: .shortAndLong, help: "Keep printing new lines.") var follow = false

        func run() async throws {
            let status = try await userFacing {
                try ServicePlan.requireSystemd()
                return try ServicePlan.run(
                    ["journalctl", "--no-pager", "-u", SystemdUnit.name, "-n", String(lines)] + (follow ? ["-f"] : []))
            }
            if status != 0 { throw ExitCode(status) }
        }
    }

    struct Uninstall: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop and disable the service and remove its unit (the user and the node's home stay).")

        @Flag(help: "Print what would be done, change nothing.") var dryRun = false

        func run() async throws {
            try await userFacing {
                let steps = ServicePlan.uninstall()
                if dryRun {
                    print("# would run, as root:")
                    for step in steps { print(step) }
                    return
                }
                try ServicePlan.requireSystemd()
                guard geteuid() == 0 else { throw ServiceError.notRoot }
                try ServicePlan.execute(steps)
                print("Removed \(SystemdUnit.name); the node's home and user are kept")
            }
        }
    }

    struct Unit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the systemd unit (what install writes).")

        @OptionGroup var options: UnitOptions

        func run() async throws { print(options.unit.render(), terminator: "") }
    }
}
