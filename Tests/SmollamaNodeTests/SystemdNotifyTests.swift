import Foundation
import Logging
import ServiceLifecycle
import SmollamaTesting
import Synchronization
import Testing
@testable import SmollamaNode
#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket standing in for systemd's `$NOTIFY_SOCKET`: bound at a path, read without
/// blocking a thread (messages are polled).
final class FakeNotifySocket: Sendable {
    let path: String
    private let descriptor: Int32

    init(path: String) throws {
        self.path = path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        // An abstract name ("\0…") is exactly as long as the address says; a path ends in NUL.
        let name = Array(path.utf8) + (path.hasPrefix("\0") ? [] : [0])
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: name) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        guard descriptor >= 0, bound == 0 else { throw POSIXError(.EADDRINUSE) }
    }

    deinit {
        close(descriptor)
        if !path.hasPrefix("\0") { unlink(path) }
    }

    /// The next datagram already received, if any.
    func poll() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(descriptor, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    /// Waits (polling, at most `timeout` of real time) for the next datagram.
    func next(timeout: Duration = .seconds(30)) async throws -> String? {
        var message: String?
        _ = try await eventually(timeout: timeout, poll: .milliseconds(10)) {
            message = poll()
            return message != nil
        }
        return message
    }
}

@Suite struct SystemdNotifyTests {
    @Test func environmentNamesTheSocketAndHalvesTheWatchdog() {
        #expect(SystemdNotifier(environment: [:]) == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative"]) == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "@abstract"])?.socketPath == "@abstract")
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "60000000"]) == .seconds(30))
        #expect(SystemdNotifier.watchdogInterval(environment: [:]) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"], pid: 2) == nil)
        #expect(SystemdNotifier.watchdogInterval(environment: ["WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "2"], pid: 2) == .seconds(30))
    }

    @Test func sendsToPathAndAbstractSockets() async throws {
        let directory = try TemporaryDirectory("notify")
        let socket = try FakeNotifySocket(path: directory.path + "/notify.sock")
        #expect(SystemdNotifier(socketPath: socket.path).send(["READY=1", "STATUS=a\nb"]))
        #expect(try await socket.next() == "READY=1\nSTATUS=a b")

        let name = "smollama-test-\(UUID().uuidString.prefix(8))"
        let abstract = try FakeNotifySocket(path: "\0" + name)
        #expect(SystemdNotifier(socketPath: "@" + name).send(["WATCHDOG=1"]))
        #expect(try await abstract.next() == "WATCHDOG=1")
        #expect(!SystemdNotifier(socketPath: directory.path + "/nobody.sock").send(["READY=1"]))
    }

    @Test func journalLinesCarryPrioritiesAndNoTimestamp() {
        let written = Mutex<[String]>([])
        var logger = Logger(label: "smollama") { JournalLogHandler(label: $0) { line in written.withLock { $0.append(line) } } }
        logger.logLevel = .debug
        logger.error("two\nlines", metadata: ["smollama.b": "2", "smollama.a": "1"])
        logger.debug("quiet")
        #expect(written.withLock { $0 } == [
            "<3>smollama : smollama.a=1 smollama.b=2 [SmollamaNodeTests] two\n<3>lines\n", "<7>smollama : [SmollamaNodeTests] quiet\n",
        ])
        #expect(JournalLogHandler.isUnderSystemd(environment: ["INVOCATION_ID": "abc"]))
        #expect(JournalLogHandler.isUnderSystemd(environment: ["JOURNAL_STREAM": "8:1234"]))
        #expect(!JournalLogHandler.isUnderSystemd(environment: ["JOURNAL_STREAM": ""]))
        #expect(JournalLogHandler.priority(.warning) == 4 && JournalLogHandler.priority(.notice) == 5)
    }

    /// Pings come every interval of the (manual) clock while healthy, stop while not, and
    /// shutdown says STOPPING=1.
    @Test func watchdogPingsOnlyWhileHealthy() async throws {
        let directory = try TemporaryDirectory("notify")
        let socket = try FakeNotifySocket(path: directory.path + "/notify.sock")
        let clock = ManualClock()
        let healthy = Atomic<Bool>(true)
        let service = SystemdNotifyService(
            notifier: SystemdNotifier(socketPath: socket.path), watchdogInterval: .seconds(30), clock: clock,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        ) { healthy.load(ordering: .relaxed) }
        let group = ServiceGroup(configuration: .init(services: [service], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await clock.waitForSleepers(1))
            #expect(socket.poll() == nil, "nothing before the first interval")
            clock.advance(by: .seconds(30))
            #expect(try await socket.next() == "WATCHDOG=1")

            healthy.store(false, ordering: .relaxed)
            #expect(try await eventually { clock.sleepsStarted >= 2 && clock.sleepers == 1 })
            let before = clock.sleepsStarted
            clock.advance(by: .seconds(30))
            #expect(try await eventually { clock.sleepsStarted > before && clock.sleepers == 1 })
            #expect(socket.poll() == nil, "no ping while unhealthy")

            healthy.store(true, ordering: .relaxed)
            clock.advance(by: .seconds(30))
            #expect(try await socket.next() == "WATCHDOG=1")

            await group.triggerGracefulShutdown()
            #expect(try await socket.next()?.hasPrefix("STOPPING=1") == true)
            try await tasks.waitForAll()
        }
    }

    /// The real binary under a fake systemd: READY once serving, WATCHDOG pings, STOPPING on
    /// SIGTERM; journald priorities on every log line; and the managed LLM runtime (a stand-in
    /// `ollama` script) gets SIGTERM and is gone when the daemon exits.
    @Test func theDaemonSpeaksTheNotifyProtocol() async throws {
        let home = try TemporaryDirectory("notify-node")
        #expect(try await SmollamaBinary.run(["init", "--demo", "--name", "svc"], home: home.path).status == 0)
        let socket = try FakeNotifySocket(path: home.path + "/notify.sock")
        let fake = home.path + "/fake-ollama"
        try """
            #!/bin/sh
            echo $$ > "\(home.path)/runtime.pid"
            trap 'echo term > "\(home.path)/runtime.term"; exit 0' TERM
            while :; do sleep 0.1; done

            """.write(toFile: fake, atomically: true, encoding: .utf8)
        chmod(fake, 0o755)
        let node = RunningNode(arguments: ["run"], home: home.path, environment: [
            "NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000", "INVOCATION_ID": "0123456789abcdef",
            "SMOLLAMA_LLM_RUNTIME": "managed", "SMOLLAMA_LLM_BACKEND": "ollama", "SMOLLAMA_LLM_MANAGED_OLLAMA": fake,
        ])
        try node.start()
        defer { if node.process.isRunning { node.signal(SIGKILL) } }

        let ready = try #require(try await socket.next(), "\(node.stderr)")
        #expect(ready.hasPrefix("READY=1\nSTATUS=serving "), "\(ready)")
        #expect(try await socket.next() == "WATCHDOG=1")
        #expect(try await socket.next() == "WATCHDOG=1")
        #expect(try await eventually { FileManager.default.fileExists(atPath: home.path + "/runtime.pid") })
        let runtimePID = try #require(Int32(try String(contentsOfFile: home.path + "/runtime.pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))

        node.signal(SIGTERM)
        var stopping = false
        while !stopping, let message = try await socket.next() {
            #expect(message == "WATCHDOG=1" || message.hasPrefix("STOPPING=1"), "\(message)")
            stopping = message.hasPrefix("STOPPING=1")
        }
        #expect(stopping)
        #expect(try await node.waitForExit() == 0, "\(node.stderr)")
        #expect(FileManager.default.fileExists(atPath: home.path + "/runtime.term"), "the runtime was asked to stop")
        #expect(try await eventually { Self.isGone(runtimePID) }, "the runtime is not left running")

        let lines = node.stderr.split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { $0.wholeMatch(of: #/<[2-7]>smollama : .*/#) != nil }, "\(node.stderr)")
        #expect(lines.contains { $0.hasPrefix("<6>") && $0.hasSuffix("smollama node started") })
    }

    /// Exited: no such process, or a zombie nobody reaped yet.
    static func isGone(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") == true
    }
}
