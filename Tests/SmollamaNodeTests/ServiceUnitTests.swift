import Foundation
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// `smollama service`: the unit's contents, the install plan, `--dry-run` through the real binary,
/// and the error where systemd is not PID 1.
@Suite struct ServiceUnitTests {
    func lines(_ unit: SystemdUnit) -> Set<Substring> { Set(unit.render().split(separator: "\n")) }

    @Test func theUnitIsHardenedAndNotified() {
        let unit = SystemdUnit(user: "smollama", home: "/var/lib/smollama/.smollama", binary: "/usr/local/bin/smollama")
        let text = lines(unit)
        for line in [
            "Type=notify", "User=smollama", "Group=smollama", "Environment=SMOLLAMA_HOME=/var/lib/smollama/.smollama",
            "ExecStart=/usr/local/bin/smollama run", "Restart=on-failure", "WatchdogSec=60", "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/smollama/.smollama", "ProtectHome=yes", "NoNewPrivileges=yes",
            "WantedBy=multi-user.target",
        ] {
            #expect(text.contains(Substring(line)), "missing \(line)")
        }
        // The stop timeout leaves room for the daemon's 20 s graceful shutdown.
        #expect(text.contains("TimeoutStopSec=40"))
        // A home under /home can only be writable over a read-only view of it.
        #expect(lines(SystemdUnit(user: "pi", home: "/home/pi/.smollama", binary: "/b")).contains("ProtectHome=read-only"))
    }

    @Test func installCreatesAMissingUserOnly() {
        let unit = SystemdUnit(user: "smollama", home: "/var/lib/smollama/.smollama", binary: "/usr/local/bin/smollama")
        let fresh = ServicePlan.install(unit: unit, userExists: false, groups: ["gpio"])
        #expect(fresh.first == .command(["useradd", "--system", "--user-group", "--home-dir", "/var/lib/smollama",
                                         "--shell", "/usr/sbin/nologin", "smollama"]))
        #expect(fresh.contains(.command(["usermod", "--append", "--groups", "gpio", "smollama"])))
        #expect(fresh.contains(.writeFile(path: "/etc/systemd/system/smollama.service", contents: unit.render())))
        #expect(fresh.suffix(3) == [.command(["systemctl", "daemon-reload"]), .command(["systemctl", "enable", "smollama.service"]),
                                    .command(["systemctl", "restart", "smollama.service"])])
        let again = ServicePlan.install(unit: unit, userExists: true, groups: [])
        #expect(!again.contains { $0.description.hasPrefix("useradd") })
        #expect(ServicePlan.uninstall().first == .command(["systemctl", "disable", "--now", "smollama.service"]))
    }

    @Test func dryRunPrintsThePlanAndChangesNothing() async throws {
        let home = try TemporaryDirectory("service")
        let output = try await SmollamaBinary.run(
            ["service", "install", "--dry-run", "--user", "smollama-test-nobody", "--home", home.path + "/node",
             "--binary", "/opt/smollama/bin/smollama"], home: home.path)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("is not a node yet: run `sudo -u smollama-test-nobody smollama init` first"))
        #expect(output.stdout.contains("useradd --system --user-group --home-dir /var/lib/smollama-test-nobody"))
        #expect(output.stdout.contains("ExecStart=/opt/smollama/bin/smollama run"))
        #expect(output.stdout.contains("ReadWritePaths=\(home.path)/node"))
        #expect(!FileManager.default.fileExists(atPath: home.path + "/node"))
        let unit = try await SmollamaBinary.run(
            ["service", "unit", "--user", "smollama-test-nobody", "--home", "/srv/n", "--binary", "/b/smollama"], home: home.path)
        #expect(unit.stdout == SystemdUnit(user: "smollama-test-nobody", home: "/srv/n", binary: "/b/smollama").render())
    }

    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/run/systemd/system"), "systemd is PID 1 here"))
    func withoutSystemdTheCommandsSaySo() async throws {
        let home = try TemporaryDirectory("service")
        for command in [["status"], ["logs"], ["install", "--home", home.path], ["uninstall"]] {
            let output = try await SmollamaBinary.run(["service"] + command, home: home.path)
            #expect(output.status == 1)
            #expect(output.stderr.contains("systemd is not running on this machine"), "\(command): \(output.stderr)")
        }
    }

    @Test func theVersionIsOneConstant() async throws {
        let home = try TemporaryDirectory("service")
        let output = try await SmollamaBinary.run(["--version"], home: home.path)
        #expect(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == SmollamaVersion.current)
    }
}
