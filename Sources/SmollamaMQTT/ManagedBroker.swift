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

    /// Where a broker already listening on our port answers: the bind address itself, or
    /// loopback for a wildcard bind (Debian's `mosquitto` service listens on 127.0.0.1:1883).
    var probeAddress: String {
        ["0.0.0.0", "", "*", "::"].contains(configuration.bindAddress) ? "127.0.0.1" : configuration.bindAddress
    }

    /// Whether something accepts TCP connections at `host:port` (a local address: the answer is
    /// immediate, accepted or refused).
    static func somethingListens(host: String, port: Int32) -> Bool {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return result == 0
    }

    /// mosquitto's output (`log_dest stderr`) goes to smollama's stderr, as the daemon's own does.
    /// A broker already listening on the port (Debian's `mosquitto` service starts one on 1883) is
    /// used as it is, with a warning naming both ways to settle it; ours is not started.
    public func run() async throws {
        let address = probeAddress
        if Self.somethingListens(host: address, port: configuration.port) {
            let at = "\(address):\(configuration.port)"
            logger.warning(
                """
                mqtt.broker is managed, but a broker already listens on \(at) (Debian's mosquitto service?): \
                using it. Either set mqtt.broker: \(at) to use it on purpose, or stop it \
                (sudo systemctl disable --now mosquitto) so smollama runs its own
                """,
                metadata: ["smollama.mqtt.listen": "\(configuration.bindAddress):\(configuration.port)"])
            try await gracefulShutdown()
            return
        }
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
