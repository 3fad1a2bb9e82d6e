import AsyncAlgorithms
import CMosquitto
import Foundation
public import Logging
public import ServiceLifecycle
public import SmollamaCore
public import SmollamaSensors

/// One message to send.
public struct MQTTOutgoing: Hashable, Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: Int32
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }

    public init(topic: String, text: String, qos: Int32 = 1, retain: Bool = false) {
        self.init(topic: topic, payload: Array(text.utf8), qos: qos, retain: retain)
    }
}

/// What `smollama status` shows about the connection.
public struct MQTTClientStatus: Codable, Sendable, Hashable {
    public var broker: String
    public var clientID: String
    public var connected: Bool
    /// Messages waiting in the client's own bounded queue (not yet handed to libmosquitto).
    public var queued: Int
    /// Handed to libmosquitto, not yet acknowledged by the broker.
    public var inflight: Int
    public var enqueued: Int
    public var acknowledged: Int
    /// Dropped because the queue was full (oldest first) or the broker refused them.
    public var dropped: Int
    public var received: Int
    public var connects: Int
    /// Wall-clock UTC milliseconds of the last broker acknowledgement.
    public var lastPublishTime: UTCMillis?
    public var lastError: String?
}

/// An async MQTT client over libmosquitto. libmosquitto runs its own network thread
/// (`mosquitto_loop_start`) and reconnects with exponential back-off; this actor owns the
/// handle, keeps a bounded queue of outgoing messages (newest kept when full) and hands them to
/// libmosquitto only while connected, at most `maxInflight` unacknowledged at a time, so an
/// outage costs bounded memory and everything queued is delivered when the session resumes.
///
/// The session is persistent (clean session off, stable client id), so QoS 1 messages and
/// subscriptions survive reconnects. `run()` (a `Service`) drives it; subscribing and
/// publishing work before the broker is reachable.
public actor MQTTClient: Service, TopicSubscriber, MQTTDriverStatisticsProvider {
    public struct Options: Sendable, Hashable {
        public var host: String
        public var port: Int32
        public var clientID: String
        public var username: String?
        public var password: String?
        public var tls: TLS?
        public var keepalive: Duration = .seconds(30)
        /// Reconnect back-off: starts at `reconnectMin` (plus up to 100 % random jitter, so many
        /// nodes do not reconnect in step after a hub restart), doubles up to `reconnectMax`.
        public var reconnectMin: Duration = .seconds(1)
        public var reconnectMax: Duration = .seconds(30)
        public var queueSize = 1000
        public var maxInflight = 100
        /// Published by the broker when the connection dies without a goodbye (last will).
        public var will: MQTTOutgoing?
        /// Published first on every (re)connect, e.g. a retained `online`.
        public var birth: MQTTOutgoing?
        /// Published (and awaited briefly) on graceful shutdown, e.g. a retained `offline`.
        public var goodbye: MQTTOutgoing?

        public struct TLS: Sendable, Hashable {
            public var caFile: String?
            public var certFile: String?
            public var keyFile: String?
            /// Skip hostname verification (self-signed test brokers only).
            public var insecure = false
            public init(caFile: String? = nil, certFile: String? = nil, keyFile: String? = nil, insecure: Bool = false) {
                self.caFile = caFile
                self.certFile = certFile
                self.keyFile = keyFile
                self.insecure = insecure
            }
        }

        public init(host: String, port: Int32, clientID: String) {
            self.host = host
            self.port = port
            self.clientID = clientID
        }

        public var broker: String { "\(host):\(port)" }
    }

    public nonisolated let options: Options
    public nonisolated let driverStatistics = MQTTDriverStatistics()
    private let logger: Logger
    private let sink = MQTTCallbackSink()
    private let connection: MosquittoHandle
    private var handle: OpaquePointer? { connection.pointer }
    private var queue = MessageQueue()
    private var enqueued = 0
    private var dropped = 0
    private var lastError: String?
    private var started = false
    private var disconnectedSince = ContinuousClock.now
    /// Until the first `mosquitto_connect_async` succeeds, libmosquitto's thread does not retry
    /// by itself: we do, with jittered exponential back-off.
    private var connectPending = false
    /// Filters subscribed on the current connection (a second SUBSCRIBE would make the broker
    /// send retained messages again).
    private var subscribed: Set<String> = []
    private var connectFailures = 0
    private var nextConnectAttempt = ContinuousClock.now

    private static let libraryReady: Bool = {
        mosquitto_lib_init()
        return true
    }()

    public init(options: Options, logger: Logger) throws(MQTTError) {
        precondition(Self.libraryReady)
        self.options = options
        self.logger = logger
        guard let handle = mosquitto_new(options.clientID, false, Unmanaged.passUnretained(sink).toOpaque()) else {
            throw MQTTError.setup("mosquitto_new failed for client id '\(options.clientID)'")
        }
        self.connection = MosquittoHandle(pointer: handle, sink: sink)
        MQTTTrampolines.install(on: handle)
        try Self.configure(handle, options)
    }

    private static func configure(_ handle: OpaquePointer, _ options: Options) throws(MQTTError) {
        func check(_ code: Int32, _ what: String) throws(MQTTError) {
            guard code == MQTTCode.success else { throw MQTTError.setup("\(what): \(MQTTCode.describe(code))") }
        }
        if let username = options.username, !username.isEmpty {
            try check(mosquitto_username_pw_set(handle, username, options.password), "username/password")
        }
        if let tls = options.tls {
            try check(mosquitto_tls_set(handle, tls.caFile, tls.caFile == nil ? "/etc/ssl/certs" : nil,
                                        tls.certFile, tls.keyFile, nil),
                      "TLS files (check mqtt.tls_ca_file, tls_cert_file and tls_key_file exist and are readable)")
            if tls.insecure { try check(mosquitto_tls_insecure_set(handle, true), "TLS insecure mode") }
        }
        if let will = options.will {
            try check(will.payload.withUnsafeBytes {
                mosquitto_will_set(handle, will.topic, Int32($0.count), $0.baseAddress, will.qos, will.retain)
            }, "last will on '\(will.topic)'")
        }
        let jitter = Double.random(in: 1...2)
        let minimum = max(1, UInt32((options.reconnectMin.seconds * jitter).rounded()))
        let maximum = max(minimum, UInt32(options.reconnectMax.seconds.rounded()))
        try check(mosquitto_reconnect_delay_set(handle, minimum, maximum, true), "reconnect delay")
        try check(mosquitto_max_inflight_messages_set(handle, UInt32(options.maxInflight)), "max in-flight")
        // Small messages, sent as they come: no Nagle delay.
        try check(mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1), "TCP_NODELAY")
    }

    // MARK: publishing and subscribing

    /// Queues a message; it is sent when the broker is reachable. When the queue is full the
    /// oldest waiting message is dropped (live values: the newest matter most).
    public func publish(_ message: MQTTOutgoing) {
        enqueued += 1
        if queue.count >= options.queueSize {
            queue.removeFirst()
            dropped += 1
            if dropped == 1 || dropped % 1000 == 0 {
                logger.warning("MQTT queue full: dropping the oldest messages",
                               metadata: ["smollama.mqtt.dropped": "\(dropped)", "smollama.mqtt.queue": "\(queue.count)"])
            }
        }
        queue.append(message)
        pump()
    }

    public nonisolated func subscribe(to filters: [String], onMessage: @escaping @Sendable (TopicMessage) -> Void,
                                      onFinish: @escaping @Sendable () -> Void) -> TopicSubscription {
        sink.addSubscriber(.init(filters: filters, deliver: onMessage, finish: onFinish))
    }

    public var isConnected: Bool { sink.isConnected }

    public func status() -> MQTTClientStatus {
        let state = sink.snapshot
        return MQTTClientStatus(
            broker: options.broker, clientID: options.clientID, connected: state.connected, queued: queue.count,
            inflight: state.inflight, enqueued: enqueued, acknowledged: state.acknowledged, dropped: dropped,
            received: state.received, connects: state.connects, lastPublishTime: state.lastAcknowledgedAt,
            lastError: lastError)
    }

    /// Hands queued messages to libmosquitto while connected and below the in-flight limit.
    private func pump() {
        guard let handle else { return }
        while let next = queue.first, sink.reserveInflight(limit: options.maxInflight) {
            let code = next.payload.withUnsafeBytes { bytes in
                mosquitto_publish(handle, nil, next.topic, Int32(bytes.count), bytes.baseAddress, next.qos, next.retain)
            }
            if code == MQTTCode.success {
                queue.removeFirst()
                continue
            }
            sink.releaseInflight()
            if code == MQTTCode.noConnection { return }  // stays queued for the next connection
            queue.removeFirst()
            dropped += 1
            lastError = "publish to \(next.topic) refused: \(MQTTCode.describe(code))"
            logger.error("MQTT publish refused; message dropped",
                         metadata: ["smollama.mqtt.topic": "\(next.topic)", "smollama.error": "\(MQTTCode.describe(code))"])
        }
    }

    // MARK: the connection's life

    public func run() async throws {
        try start()
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await event in self.sink.events.cancelOnGracefulShutdown() { await self.handle(event) }
            }
            group.addTask {
                for await _ in AsyncTimerSequence(interval: .milliseconds(250), clock: .continuous)
                    .cancelOnGracefulShutdown()
                {
                    await self.connect()
                    await self.watchdog()
                }
            }
        }
        await stop()
    }

    private func start() throws {
        guard let handle, !started else { return }
        started = true
        let loop = mosquitto_loop_start(handle)
        guard loop == MQTTCode.success else {
            throw MQTTError.setup("cannot start the MQTT network thread: \(MQTTCode.describe(loop))")
        }
        connectPending = true
        connect()
    }

    /// One connect attempt; on failure the next is scheduled after a jittered, doubling delay.
    private func connect() {
        guard let handle, connectPending, ContinuousClock.now >= nextConnectAttempt else { return }
        let code = mosquitto_connect_async(handle, options.host, options.port, Int32(options.keepalive.seconds))
        guard code != MQTTCode.success else {
            connectPending = false
            connectFailures = 0
            return
        }
        connectFailures += 1
        let base = min(options.reconnectMin * (1 << min(connectFailures - 1, 10)), options.reconnectMax)
        let delay = base * Double.random(in: 0.5...1.0)
        nextConnectAttempt = .now + delay
        lastError = "connect to \(options.broker): \(MQTTCode.describe(code))"
        if connectFailures == 1 || connectFailures % 20 == 0 {
            logger.warning("MQTT broker not reachable; retrying in the background",
                           metadata: ["smollama.mqtt.broker": "\(options.broker)", "smollama.error": "\(MQTTCode.describe(code))",
                                      "smollama.mqtt.attempts": "\(connectFailures)"])
        }
    }

    private func handle(_ event: MQTTEvent) {
        switch event {
        case .connected(let code):
            disconnectedSince = .now
            guard code == 0 else {
                lastError = "broker refused the connection: \(MQTTCode.describeConnack(code))"
                logger.error("MQTT broker refused the connection; check mqtt.username and mqtt.password",
                             metadata: ["smollama.mqtt.broker": "\(options.broker)",
                                        "smollama.error": "\(MQTTCode.describeConnack(code))"])
                return
            }
            lastError = nil
            logger.info("MQTT connected", metadata: ["smollama.mqtt.broker": "\(options.broker)",
                                                     "smollama.mqtt.client_id": "\(options.clientID)"])
            if let birth = options.birth {
                queue.prepend(birth)
                enqueued += 1
            }
            subscribeAll()
            pump()
        case .disconnected(let code):
            disconnectedSince = .now
            subscribed.removeAll()
            if code != 0 {
                // Keep a refusal (wrong password) as the reason: the broker closes right after it.
                if lastError?.hasPrefix("broker refused") != true {
                    lastError = "no connection (broker down or unreachable)"
                }
                logger.warning("MQTT connection failed or lost; reconnecting with back-off",
                               metadata: ["smollama.mqtt.broker": "\(options.broker)", "smollama.mqtt.code": "\(code)"])
            }
        case .acknowledged:
            pump()
        case .subscriptionsChanged:
            if sink.isConnected { subscribeAll() }
        }
    }

    private func subscribeAll() {
        guard let handle else { return }
        for filter in sink.allFilters where !subscribed.contains(filter) {
            subscribed.insert(filter)
            let code = mosquitto_subscribe(handle, nil, filter, 1)
            if code != MQTTCode.success {
                subscribed.remove(filter)
                logger.warning("MQTT subscribe failed; retried on the next connection",
                               metadata: ["smollama.mqtt.topic": "\(filter)", "smollama.error": "\(MQTTCode.describe(code))"])
            }
        }
    }

    /// libmosquitto's thread gives up on a few "fatal" errors (TLS, protocol). If the link has
    /// been down far longer than the back-off allows, start the thread and the connect afresh.
    private func watchdog() {
        guard let handle, !connectPending, !sink.isConnected else { return }
        guard ContinuousClock.now - disconnectedSince > options.reconnectMax * 3 + .seconds(10) else { return }
        disconnectedSince = .now
        logger.notice("MQTT still disconnected; restarting the connection",
                      metadata: ["smollama.mqtt.broker": "\(options.broker)"])
        mosquitto_loop_stop(handle, true)
        _ = mosquitto_loop_start(handle)
        connectPending = true
        nextConnectAttempt = .now
        connect()
    }

    /// Graceful shutdown: say goodbye (retained `offline`), give queued messages a moment, disconnect.
    private func stop() async {
        guard let handle else { return }
        if let goodbye = options.goodbye, sink.isConnected {
            publish(goodbye)
            let deadline = ContinuousClock.now + .seconds(2)
            while ContinuousClock.now < deadline, sink.isConnected,
                  !queue.isEmpty || sink.inflight > 0 {
                // Cancelled (not a graceful shutdown): no time to wait for acknowledgements.
                do { try await Task.sleep(for: .milliseconds(20)) } catch { break }
                pump()
            }
        }
        mosquitto_disconnect(handle)
        mosquitto_loop_stop(handle, false)
        sink.finish()
        logger.info("MQTT disconnected", metadata: ["smollama.mqtt.queued": "\(queue.count)"])
    }
}

/// Owns the libmosquitto handle: destroying it stops the network thread first, and the sink
/// its callbacks point at lives exactly as long.
final class MosquittoHandle {
    let pointer: OpaquePointer
    let sink: MQTTCallbackSink

    init(pointer: OpaquePointer, sink: MQTTCallbackSink) {
        self.pointer = pointer
        self.sink = sink
    }

    deinit {
        mosquitto_loop_stop(pointer, true)
        mosquitto_destroy(pointer)
    }
}

/// Problems setting up the client; each names what to fix.
public enum MQTTError: Error, CustomStringConvertible, Equatable {
    case setup(String)
    public var description: String {
        switch self {
        case .setup(let problem): "MQTT setup failed: \(problem)"
        }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
