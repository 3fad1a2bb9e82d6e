import CMosquitto
import Foundation
import SmollamaCore
import SmollamaSensors
import SmollamaStore
import Synchronization

/// What libmosquitto's network thread reports, handed to the client's async loop.
enum MQTTEvent: Sendable {
    case connected(code: Int32)
    case disconnected(code: Int32)
    case acknowledged
    case subscriptionsChanged
}

/// Where libmosquitto's callbacks land. They run on libmosquitto's own network thread, so this
/// holds only thread-safe state (one `Mutex`) and never calls back into libmosquitto: it
/// records facts, routes incoming messages to subscribers and wakes the client's async loop.
final class MQTTCallbackSink: Sendable {
    struct Subscriber {
        var filters: [String]
        var deliver: @Sendable (TopicMessage) -> Void
        var finish: @Sendable () -> Void
    }

    struct State {
        var connected = false
        /// Messages handed to libmosquitto and not yet acknowledged (PUBACK for QoS 1).
        var inflight = 0
        var acknowledged = 0
        var received = 0
        var connects = 0
        var lastAcknowledgedAt: UTCMillis?
        var lastConnectCode: Int32?
        var lastDisconnectCode: Int32?
        /// Set when the client stopped handing out messages because the window was full:
        /// only then does an acknowledgement need to wake it.
        var waitingForWindow = false

        var subscribers: [Int: Subscriber] = [:]
        var nextSubscriber = 0
    }

    let state = Mutex(State())
    let events: AsyncStream<MQTTEvent>
    private let eventContinuation: AsyncStream<MQTTEvent>.Continuation

    init() {
        (events, eventContinuation) = AsyncStream.makeStream(of: MQTTEvent.self, bufferingPolicy: .unbounded)
    }

    var isConnected: Bool { state.withLock { $0.connected } }
    var inflight: Int { state.withLock { $0.inflight } }
    var snapshot: State { state.withLock { $0 } }

    func finish() {
        eventContinuation.finish()
        let subscribers = state.withLock { state in
            defer { state.subscribers.removeAll() }
            return state.subscribers.values.map(\.finish)
        }
        for finish in subscribers { finish() }
    }

    // MARK: called from libmosquitto's network thread

    func didConnect(code: Int32) {
        state.withLock { state in
            state.connected = code == 0
            state.lastConnectCode = code
            if code == 0 { state.connects += 1 }
        }
        eventContinuation.yield(.connected(code: code))
    }

    func didDisconnect(code: Int32) {
        state.withLock { state in
            state.connected = false
            state.lastDisconnectCode = code
        }
        eventContinuation.yield(.disconnected(code: code))
    }

    func didPublish() {
        let now = UTCMillis.now()
        let wake = state.withLock { state in
            state.inflight = max(0, state.inflight - 1)
            state.acknowledged += 1
            state.lastAcknowledgedAt = now
            // Refill at once: waiting for half the window to drain stalls on TCP delayed ACKs
            // (measured: 4.5 k/s instead of 32 k/s).
            defer { state.waitingForWindow = false }
            return state.waitingForWindow
        }
        if wake { eventContinuation.yield(.acknowledged) }
    }

    func didReceive(topic: String, payload: [UInt8]) {
        let targets = state.withLock { state -> [@Sendable (TopicMessage) -> Void] in
            state.received += 1
            return state.subscribers.values.filter { $0.filters.contains { Self.matches(filter: $0, topic: topic) } }
                .map(\.deliver)
        }
        let message = TopicMessage(topic: topic, payload: payload)
        for deliver in targets { deliver(message) }
    }

    // MARK: called from the client

    func addSubscriber(_ subscriber: Subscriber) -> TopicSubscription {
        let id = state.withLock { state in
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = subscriber
            return id
        }
        eventContinuation.yield(.subscriptionsChanged)
        return TopicSubscription { [weak self] in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
    }

    var allFilters: [String] {
        state.withLock { Array(Set($0.subscribers.values.flatMap(\.filters))).sorted() }
    }

    /// Reserves an in-flight slot if fewer than `limit` are taken.
    func reserveInflight(limit: Int) -> Bool {
        state.withLock { state in
            guard state.connected else { return false }
            guard state.inflight < limit else {
                state.waitingForWindow = true
                return false
            }
            state.inflight += 1
            return true
        }
    }

    func releaseInflight() { state.withLock { $0.inflight = max(0, $0.inflight - 1) } }

    /// MQTT topic-filter matching (`+` one level, `#` the rest), as libmosquitto defines it.
    static func matches(filter: String, topic: String) -> Bool {
        var result = false
        guard mosquitto_topic_matches_sub(filter, topic, &result) == MQTTCode.success else { return false }
        return result
    }
}

/// libmosquitto's C callbacks: no captures allowed, so the sink travels as the userdata pointer.
/// The client keeps the sink alive until `mosquitto_destroy` has returned.
enum MQTTTrampolines {
    static func sink(_ userdata: UnsafeMutableRawPointer?) -> MQTTCallbackSink? {
        userdata.map { Unmanaged<MQTTCallbackSink>.fromOpaque($0).takeUnretainedValue() }
    }

    static func install(on handle: OpaquePointer) {
        mosquitto_connect_callback_set(handle) { _, userdata, code in MQTTTrampolines.sink(userdata)?.didConnect(code: code) }
        mosquitto_disconnect_callback_set(handle) { _, userdata, code in MQTTTrampolines.sink(userdata)?.didDisconnect(code: code) }
        mosquitto_publish_callback_set(handle) { _, userdata, _ in MQTTTrampolines.sink(userdata)?.didPublish() }
        mosquitto_message_callback_set(handle) { _, userdata, message in
            guard let sink = MQTTTrampolines.sink(userdata), let message else { return }
            let topic = String(cString: message.pointee.topic)
            let length = Int(message.pointee.payloadlen)
            var payload: [UInt8] = []
            if length > 0, let bytes = message.pointee.payload {
                // Copied once; size limits are the subscriber's business (the driver counts huge payloads).
                payload = Array(UnsafeRawBufferPointer(start: bytes, count: length))
            }
            sink.didReceive(topic: topic, payload: payload)
        }
    }
}

/// libmosquitto's return codes as Swift values.
enum MQTTCode {
    static let success = Int32(MOSQ_ERR_SUCCESS.rawValue)
    static let noConnection = Int32(MOSQ_ERR_NO_CONN.rawValue)

    static func describe(_ code: Int32) -> String {
        guard let text = mosquitto_strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }

    static func describeConnack(_ code: Int32) -> String {
        guard let text = mosquitto_connack_string(code) else { return "refused (\(code))" }
        return String(cString: text)
    }
}
