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
            // Started as root, mosquitto would switch to the `mosquitto` user and lose access to our data dir.
            "user \(Self.currentUser)",
        ]
        if configuration.username != nil {
            lines += ["allow_anonymous false", "password_file \(passwordFile)"]
        } else {
            lines.append("allow_anonymous true")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static var currentUser: String {
        guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return "root" }
        return String(cString: name)
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
            let tool = try ChildProcess(configuration.passwordTool,
                                        ["-c", "-b", passwordFile, username, configuration.password ?? ""])
            let status = tool.waitBlocking(timeout: .seconds(30))
            guard status == 0 else {
                throw MQTTError.setup("\(configuration.passwordTool) failed (status \(status.map(String.init) ?? "timeout")); "
                                      + "install Debian's mosquitto package")
            }
        }
    }

    public func run() async throws {
        try prepare()
        var failures = 0
        while !Task.isCancelledOrShuttingDown {
            let started = ContinuousClock.now
            let process: ChildProcess
            do {
                process = try ChildProcess(configuration.executable, ["-c", configFile], ownProcessGroup: true)
            } catch {
                throw MQTTError.setup("cannot start \(configuration.executable) (\(error)); install Debian's mosquitto "
                                      + "package, or set mqtt.broker to an existing broker's host:port")
            }
            logger.info("managed MQTT broker started",
                        metadata: ["smollama.mqtt.listen": "\(configuration.bindAddress):\(configuration.port)",
                                   "smollama.mqtt.broker_pid": "\(process.pid)"])
            let exit = await waitForExit(process)
            guard let status = exit, !Task.isCancelledOrShuttingDown else {
                // Shutting down: stop the broker (it saves its persistence file) and wait for it.
                process.stop()
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

    /// The exit status, or nil when the node is shutting down.
    private func waitForExit(_ process: ChildProcess) async -> Int32? {
        while true {
            if let status = process.status { return status }
            if Task.isCancelledOrShuttingDown { return nil }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }
}

extension Task where Success == Never, Failure == Never {
    static var isCancelledOrShuttingDown: Bool { isCancelled || isShuttingDownGracefully }
}
