import Foundation
import SmollamaProcess
import SmollamaTesting
import Synchronization
import Testing

@Suite struct ChildProcessTests {
    /// The fields of /proc/self/status that `cat` (our direct child) reports about itself.
    func statusOfChild() async throws -> [String: String] {
        let directory = try TemporaryDirectory("child")
        let child = try ChildProcess("cat", ["/proc/self/status"], output: .file(directory.path + "/status"))
        #expect(await child.wait(timeout: .seconds(30)) == 0)
        let text = try String(contentsOfFile: directory.path + "/status", encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        return fields
    }

    /// The spawner thread blocks every signal and this process ignores SIGPIPE (as NIO does):
    /// none of it reaches the child.
    @Test func childStartsWithNoBlockedOrIgnoredSignals() async throws {
        signal(SIGPIPE, SIG_IGN)
        let fields = try await statusOfChild()
        #expect(fields["SigBlk"] == "0000000000000000")
        #expect(fields["SigIgn"] == "0000000000000000")
    }

    /// The kernel's parent-death signal is armed: SIGKILL (9).
    @Test func childHasTheParentDeathSignalArmed() async throws {
        let directory = try TemporaryDirectory("child")
        // /proc/PID/stat has no pdeathsig; `setpriv --dump` (util-linux) prints it.
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
        let child = try ChildProcess("/usr/bin/setpriv", ["--dump"], output: .file(directory.path + "/dump"))
        #expect(await child.wait(timeout: .seconds(30)) == 0)
        let dump = try String(contentsOfFile: directory.path + "/dump", encoding: .utf8)
        #expect(dump.contains("Parent death signal: KILL"), "setpriv said: \(dump)")
    }

    @Test func childLeadsItsOwnProcessGroup() async throws {
        let child = try ChildProcess("sleep", ["30"], output: .discard)
        defer { child.stop(grace: .milliseconds(100)) }
        let stat = try String(contentsOfFile: "/proc/\(child.pid)/stat", encoding: .utf8)
        // pid (comm) state ppid pgrp ...: the fields after the command's closing parenthesis.
        let fields = stat[stat.range(of: ")", options: .backwards)!.upperBound...].split(separator: " ")
        #expect(Int32(fields[2]) == child.pid, "pgrp is the child's own pid")
        #expect(Int32(fields[1]) == getpid(), "its parent is this process")
    }

    @Test func outputArrivesLineByLineWithTheLastPartialLine() async throws {
        let lines = Mutex<[String]>([])
        let child = try ChildProcess("/bin/sh", ["-c", "echo one; echo two >&2; printf three"],
                                     output: .lines { line in lines.withLock { $0.append(line) } })
        #expect(await child.wait() == .exited(0))
        #expect(try await eventually { lines.withLock { $0.count } == 3 })
        #expect(lines.withLock { $0 } == ["one", "two", "three"])
    }

    @Test func environmentIsAddedToOurs() async throws {
        let lines = Mutex<[String]>([])
        let child = try ChildProcess("/bin/sh", ["-c", "echo $SMOLLAMA_TEST_VALUE; test -n \"$PATH\" && echo path"],
                                     environment: ["SMOLLAMA_TEST_VALUE": "forty-two"],
                                     output: .lines { line in lines.withLock { $0.append(line) } })
        #expect(await child.wait() == .exited(0))
        #expect(try await eventually { lines.withLock { $0 } == ["forty-two", "path"] })
    }

    @Test func exitStatusAndSignalAreReported() async throws {
        let exits = try ChildProcess("/bin/sh", ["-c", "exit 3"], output: .discard)
        #expect(await exits.wait() == .exited(3))
        #expect(exits.status == 3)
        #expect(!exits.isRunning)
        let killed = try ChildProcess("sleep", ["30"], output: .discard)
        killed.signal(SIGKILL)
        #expect(await killed.wait() == .signalled(SIGKILL))
        #expect(killed.status == 128 + SIGKILL)
    }

    /// A child that ignores SIGTERM (and whose own child inherits that) is SIGKILLed, group and all.
    @Test func terminateEscalatesToKillForTheWholeGroup() async throws {
        let directory = try TemporaryDirectory("child")
        let pidFile = directory.path + "/grandchild"
        let child = try ChildProcess("/bin/sh", ["-c", "trap '' TERM; sleep 30 & echo $! > \(pidFile); wait"], output: .discard)
        #expect(try await eventually { FileManager.default.fileExists(atPath: pidFile)
            && !((try? String(contentsOfFile: pidFile, encoding: .utf8)) ?? "").isEmpty })
        let grandchild = try #require(Int32((try String(contentsOfFile: pidFile, encoding: .utf8))
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(await child.terminate(grace: .milliseconds(300)) == .signalled(SIGKILL))
        #expect(try await eventually { !isAlive(grandchild) }, "the grandchild went with the group")
    }

    @Test func unknownProgramsAreClearErrors() throws {
        #expect {
            _ = try ChildProcess("smollama-no-such-program", [])
        } throws: { error in
            "\(error)".contains("cannot start smollama-no-such-program: not found in PATH")
        }
        #expect {
            _ = try ChildProcess("/nonexistent/llama-server", [])
        } throws: { error in
            "\(error)" == "cannot start /nonexistent/llama-server: No such file or directory"
        }
    }

    @Test func waitReturnsNilWhenCancelledAndTheChildRunsOn() async throws {
        let child = try ChildProcess("sleep", ["30"], output: .discard)
        defer { child.stop(grace: .milliseconds(100)) }
        let waiter = Task { await child.wait() }
        waiter.cancel()
        #expect(await waiter.value == nil)
        #expect(child.isRunning)
    }
}

/// Alive and not a zombie (a zombie still answers `kill(pid, 0)`).
func isAlive(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = stat.range(of: ")", options: .backwards) else { return false }
    return !stat[close.upperBound...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}
