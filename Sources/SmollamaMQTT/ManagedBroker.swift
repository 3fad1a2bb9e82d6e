import Foundation
public import Logging
public import ServiceLifecycle

/// `mqtt.broker: managed` on the hub: runs Debian's `mosquitto` with a generated config
/// (listener, persistence in the data directory, a password file when a username is set),
/// restarts it when it exits (with back-off), and stops it on shutdown.
public struct ManagedBroker: Service {
    public struct Configuration: Sendable, Hashable {
        public var bindAddress: String
        public var port: Int32
        /// Holds `mosquitto.conf`, the password file and the persistence database.
        public var directory: String
        public var username: String?
        public var password: String?
        public var executable: String = "mosquitto"
        public var passwordTool: String = "mosquitto_passwd"

        public init(bindAddress: String, port: Int32, directory: String, username: String? = nil,
                    password: String? = nil) {
            self.bindAddress = bindAddress
            self.port = port
            self.directory = directory
            self.username = username
            self.password = password
        }
    }

    public let configuration: Configuration
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The generated `mosquitto.conf`.
    public func renderConfig() -> String {
        var lines = [
            "# Written by smollama (mqtt.broker: managed); regenerated at every start.",
            "listener \(configuration.port) \(configuration.bindAddress)",
            "persistence true",
            "persistence_location \(configuration.directory)/",
            "autosave_interval 60",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "max_queued_messages 10000",
        ]
        if configuration.username != nil {
            lines += ["allow_anonymous false", "password_file \(passwordFile)"]
        } else {
            lines.append("allow_anonymous true")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    var configFile: String { configuration.directory + "/mosquitto.conf" }
    var passwordFile: String { configuration.directory + "/passwords" }

    /// Writes the config (and password file) into the broker's directory.
    public func prepare() throws {
        try FileManager.default.createDirectory(atPath: configuration.directory, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: configFile, contents: Data(renderConfig().utf8)) else {
            throw MQTTError.setup("cannot write \(configFile); check the data directory is writable")
        }
        if let username = configuration.username {
            try? FileManager.default.removeItem(atPath: passwordFile)
            let tool = try launch(configuration.passwordTool,
                                  ["-c", "-b", passwordFile, username, configuration.password ?? ""])
            tool.waitUntilExit()
            guard tool.terminationStatus == 0 else {
                throw MQTTError.setup("\(configuration.passwordTool) failed (status \(tool.terminationStatus)); "
                                      + "install Debian's mosquitto package")
            }
        }
    }

    public func run() async throws {
        try prepare()
        var failures = 0
        while !Task.isCancelledOrShuttingDown {
            let started = ContinuousClock.now
            let process: Process
            do {
                process = try launch(configuration.executable, ["-c", configFile])
            } catch {
                throw MQTTError.setup("cannot start \(configuration.executable): \(error); install Debian's mosquitto "
                                      + "package, or set mqtt.broker to an existing broker's host:port")
            }
            logger.info("managed MQTT broker started",
                        metadata: ["smollama.mqtt.listen": "\(configuration.bindAddress):\(configuration.port)",
                                   "smollama.mqtt.broker_pid": "\(process.processIdentifier)"])
            let exit = await waitForExit(process)
            guard let status = exit else {
                // Shutting down: stop the broker and wait for it.
                process.terminate()
                _ = await waitForExit(process, stopOnShutdown: false, timeout: .seconds(5))
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                logger.info("managed MQTT broker stopped")
                return
            }
            failures = ContinuousClock.now - started > .seconds(30) ? 1 : failures + 1
            let delay = Duration.seconds(min(30, 1 << min(failures - 1, 5)))
            logger.error("managed MQTT broker exited; restarting",
                         metadata: ["smollama.mqtt.exit_status": "\(status)", "smollama.mqtt.restart_in": "\(delay)"])
            do { try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) } } catch { return }
        }
    }

    private func launch(_ executable: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The exit status, or nil when the node is shutting down (or the timeout passed).
    private func waitForExit(_ process: Process, stopOnShutdown: Bool = true, timeout: Duration? = nil) async -> Int32? {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while process.isRunning {
            if stopOnShutdown, Task.isCancelledOrShuttingDown { return nil }
            if let deadline, ContinuousClock.now > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return process.terminationStatus
    }
}

extension Task where Success == Never, Failure == Never {
    static var isCancelledOrShuttingDown: Bool { isCancelled || isShuttingDownGracefully }
}
