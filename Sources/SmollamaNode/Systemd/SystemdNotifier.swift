import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import Logging
public import ServiceLifecycle
import SmollamaCore

/// systemd's notify protocol without libsystemd: each state change is one datagram of
/// `KEY=VALUE` lines sent to the AF_UNIX socket named by `$NOTIFY_SOCKET` (a path, or an abstract
/// socket when it starts with `@`). `Type=notify` units wait for `READY=1`; `WatchdogSec=` units
/// must send `WATCHDOG=1` within `$WATCHDOG_USEC` or systemd restarts them.
public struct SystemdNotifier: Sendable {
    public let socketPath: String

    /// The notifier for `$NOTIFY_SOCKET`, or nil when the process was not started by systemd
    /// with notify access (then every state change is simply not sent).
    public init?(environment: [String: String]) {
        guard let path = environment["NOTIFY_SOCKET"], path.hasPrefix("/") || path.hasPrefix("@"), path.utf8.count > 1
        else { return nil }
        socketPath = path
    }

    public init(socketPath: String) {
        self.socketPath = socketPath
    }

    /// How often to send `WATCHDOG=1`: half of `$WATCHDOG_USEC`, as sd_notify(3) advises; nil when
    /// no watchdog is armed or it is armed for another process (`$WATCHDOG_PID`).
    public static func watchdogInterval(environment: [String: String], pid: Int32? = nil) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let microseconds = Int64(text), microseconds > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], Int32(owner) != (pid ?? getpid()) { return nil }
        return .microseconds(microseconds / 2)
    }

    /// Sends one notification, e.g. `["READY=1", "STATUS=serving"]`. Returns false when the
    /// datagram could not be sent (systemd gone); the daemon carries on either way.
    @discardableResult
    public func send(_ assignments: [String]) -> Bool {
        let message = assignments.map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n")
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        // An abstract socket's name starts with a NUL byte and is not NUL-terminated.
        var path = Array(socketPath.utf8)
        let abstract = path.first == UInt8(ascii: "@")
        if abstract { path[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path)
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + path.count + (abstract ? 0 : 1))
        let sent = message.utf8CString.withUnsafeBufferPointer { text in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                    sendto(descriptor, text.baseAddress, text.count - 1, Int32(MSG_NOSIGNAL), socketAddress, length)
                }
            }
        }
        return sent == message.utf8.count
    }
}

/// The daemon's side of `Type=notify` (a `Service`, last in the group so it is told to stop
/// first): while the daemon runs it sends `WATCHDOG=1` every half `$WATCHDOG_USEC`, but only
/// after `healthy` answers true, so a wedged writer or store stops the pings and systemd restarts
/// the node; on graceful shutdown it sends `STOPPING=1`. `READY=1` is sent by the daemon once its
/// dashboard serves (`Daemon.run`).
public struct SystemdNotifyService: Service {
    let notifier: SystemdNotifier
    let watchdogInterval: Duration?
    let clock: ServiceClock
    let healthy: @Sendable () async -> Bool
    let logger: Logger

    public init(notifier: SystemdNotifier, watchdogInterval: Duration?, clock: some Clock<Duration> = ContinuousClock(),
                logger: Logger, healthy: @escaping @Sendable () async -> Bool) {
        self.notifier = notifier
        self.watchdogInterval = watchdogInterval
        self.clock = ServiceClock(clock)
        self.healthy = healthy
        self.logger = logger
    }

    public func run() async throws {
        if let interval = watchdogInterval {
            try? await cancelWhenGracefulShutdown { [self] in
                var wasHealthy = true
                while !Task.isCancelled {
                    try await clock.sleep(for: interval)
                    let isHealthy = await healthy()
                    if isHealthy { notifier.send(["WATCHDOG=1"]) }
                    if isHealthy != wasHealthy {
                        if isHealthy {
                            logger.notice("systemd watchdog: healthy again, pings resumed")
                        } else {
                            logger.error("systemd watchdog: the writer or store did not answer; pings withheld, systemd restarts the node when WatchdogSec passes")
                        }
                    }
                    wasHealthy = isHealthy
                }
            }
        } else {
            try? await gracefulShutdown()
        }
        notifier.send(["STOPPING=1", "STATUS=stopping: flushing readings, stopping the LLM runtime"])
    }
}
