import Foundation
public import Logging
public import ServiceLifecycle
import SmollamaProcess

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
    private let supervisor: ProcessSupervisor

    /// `clock` times the restart backoff (1 s doubling to 30 s; 30 s up starts it over).
    public init(configuration: Configuration, logger: Logger, clock: some Clock<Duration> = ContinuousClock()) {
        self.configuration = configuration
        self.logger = logger
        supervisor = ProcessSupervisor(
            backoff: RestartBackoff(initial: .seconds(1), maximum: .seconds(30), healthyAfter: .seconds(30)), clock: clock)
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
            // The password never goes on a command line (any local user could read it in `ps`): a
            // plain-text file only we can read, hashed in place by `mosquitto_passwd -U`.
            try? FileManager.default.removeItem(atPath: passwordFile)
            let plain = Data("\(username):\(configuration.password ?? "")\n".utf8)
            guard FileManager.default.createFile(atPath: passwordFile, contents: plain,
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw MQTTError.setup("cannot write \(passwordFile); check the data directory is writable")
            }
            let tool: ChildProcess
            do {
                tool = try ChildProcess(configuration.passwordTool, ["-U", passwordFile])
            } catch {
                throw MQTTError.setup("\(error); install Debian's mosquitto package")
            }
            let status = tool.waitBlocking(timeout: .seconds(30))
            guard status == 0 else {
                throw MQTTError.setup("\(configuration.passwordTool) failed (status \(status.map(String.init) ?? "timeout")); "
                                      + "install Debian's mosquitto package")
            }
        }
    }

    /// mosquitto's output (`log_dest stderr`) goes to smollama's stderr, as the daemon's own does.
    public func run() async throws {
        try prepare()
        let configuration = configuration, configFile = configFile, logger = logger
        try await cancelWhenGracefulShutdown {
            try await supervisor.run(
                start: {
                    let process = try ChildProcess(configuration.executable, ["-c", configFile])
                    logger.info("managed MQTT broker started",
                                metadata: ["smollama.mqtt.listen": "\(configuration.bindAddress):\(configuration.port)",
                                           "smollama.mqtt.broker_pid": "\(process.pid)"])
                    return process
                },
                exited: { ending, delay in
                    if case .failedToStart(let error) = ending {
                        throw MQTTError.setup("\(error); install Debian's mosquitto package, or set mqtt.broker to an "
                                              + "existing broker's host:port")
                    }
                    logger.error("managed MQTT broker exited; restarting",
                                 metadata: ["smollama.mqtt.exit": "\(ending)", "smollama.mqtt.restart_in": "\(delay)"])
                },
                stopped: { _, _ in logger.info("managed MQTT broker stopped") })
        }
    }
}
