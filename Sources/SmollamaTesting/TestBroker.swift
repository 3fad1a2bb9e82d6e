import Foundation
import SmollamaProcess
import Synchronization

/// A real mosquitto for one test: its own config in a temp dir, listening on a free loopback
/// port, stopped when the test ends. Never the machine's system broker.
public final class TestBroker: Sendable {
    public let directory: TemporaryDirectory
    public let port: Int32
    private let process = Mutex<ChildProcess?>(nil)

    /// Starts a broker on `port`, or on a free port (retrying another if a client's ephemeral
    /// socket took the chosen one in the meantime: tests run in parallel).
    public init(port: Int32? = nil, listenerOptions: String = "") async throws {
        directory = try TemporaryDirectory("mosquitto")
        var attempt = 0
        while true {
            attempt += 1
            let candidate = try port ?? Self.freePort()
            try Self.writeConfig(directory: directory, port: candidate, listenerOptions: listenerOptions)
            do {
                let broker = try await Self.spawn(directory: directory, port: candidate)
                self.port = candidate
                process.withLock { $0 = broker }
                return
            } catch where attempt < 5 && port == nil {
                continue
            }
        }
    }

    static func writeConfig(directory: TemporaryDirectory, port: Int32, listenerOptions: String) throws {
        let config = """
            listener \(port) 127.0.0.1
            \(listenerOptions)
            allow_anonymous true
            persistence true
            persistence_location \(directory.path)/
            log_dest file \(directory.path)/mosquitto.log
            log_type all
            user \(currentUser)

            """
        try directory.write("mosquitto.conf", config)
    }

    deinit { stop() }

    public var address: String { "127.0.0.1:\(port)" }

    /// Starts mosquitto again (after `stop`) on the same port.
    public func start() async throws {
        let broker = try await Self.spawn(directory: directory, port: port)
        process.withLock { $0 = broker }
    }

    /// Starts mosquitto and waits (without blocking a thread: tests run in parallel on a pool of
    /// one thread per core) until it accepts connections.
    static func spawn(directory: TemporaryDirectory, port: Int32) async throws -> ChildProcess {
        let broker = try ChildProcess(executable, ["-c", directory.path + "/mosquitto.conf"],
                                      output: .file(directory.path + "/stderr.log"))
        if try await eventually(timeout: .seconds(60), { canConnect(port: port) || !broker.isRunning }),
           broker.isRunning {
            return broker
        }
        broker.stop(grace: .seconds(1))
        throw BrokerFailed(description: "mosquitto did not start on 127.0.0.1:\(port); log: "
                           + ((try? String(contentsOfFile: directory.path + "/mosquitto.log", encoding: .utf8)) ?? ""))
    }

    /// Stops mosquitto (SIGTERM; it saves its persistence file) and waits for it to exit.
    public func stop() {
        guard let broker = process.withLock({ state -> ChildProcess? in
            defer { state = nil }
            return state
        }) else { return }
        broker.stop()
    }

    public var log: String {
        (try? String(contentsOfFile: directory.path + "/mosquitto.log", encoding: .utf8)) ?? ""
    }

    public struct BrokerFailed: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    static var executable: String {
        for path in ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"]
        where FileManager.default.isExecutableFile(atPath: path) { return path }
        return "/usr/sbin/mosquitto"
    }

    /// mosquitto started as root drops to the `mosquitto` user unless told otherwise; it must
    /// stay the test's user to write its log and persistence in the test's temp dir.
    static var currentUser: String {
        guard let entry = getpwuid(getuid()), let name = entry.pointee.pw_name else { return "root" }
        return String(cString: name)
    }

    public static func freePort() throws -> Int32 { Int32(freeLoopbackPort()) }

    public static func canConnect(port: Int32) -> Bool { (try? RawConnection(port: Int(port))) != nil }
}
