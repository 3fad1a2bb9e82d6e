public import SmollamaCore

/// A reading the scheduler just accepted, with its sensor's metadata: what live consumers
/// (MQTT publishing, later the dashboard's SSE) need without asking the store.
public struct LiveReading: Hashable, Sendable {
    public var sensor: SensorDescriptor
    public var value: Double
    /// Node-clock UTC milliseconds.
    public var time: UTCMillis

    public init(sensor: SensorDescriptor, value: Double, time: UTCMillis) {
        self.sensor = sensor
        self.value = value
        self.time = time
    }
}

/// Fans accepted readings out to any number of live subscribers. Each subscriber gets its own
/// bounded buffer (newest kept): a slow consumer loses old live values, never slows sensors.
public actor LiveReadingFeed {
    private var subscribers: [Int: AsyncStream<LiveReading>.Continuation] = [:]
    private var nextID = 0
    private let bufferSize: Int

    public init(bufferSize: Int = 1024) { self.bufferSize = bufferSize }

    public func subscribe() -> AsyncStream<LiveReading> {
        let (stream, continuation) = AsyncStream.makeStream(of: LiveReading.self,
                                                            bufferingPolicy: .bufferingNewest(bufferSize))
        let id = nextID
        nextID += 1
        subscribers[id] = continuation
        continuation.onTermination = { _ in Task { await self.remove(id) } }
        return stream
    }

    public func publish(_ reading: LiveReading) {
        for continuation in subscribers.values { continuation.yield(reading) }
    }

    public var subscriberCount: Int { subscribers.count }

    private func remove(_ id: Int) { subscribers[id] = nil }
}

/// One message from a publish/subscribe bus (MQTT): the topic it arrived on and its raw bytes.
public struct TopicMessage: Hashable, Sendable {
    public var topic: String
    public var payload: [UInt8]

    public init(topic: String, payload: [UInt8]) {
        self.topic = topic
        self.payload = payload
    }
}

/// A bus that drivers can subscribe to (the node's MQTT connection). Subscribing never waits for
/// the broker: the subscription is made (and re-made after every reconnect) when it is reachable.
public protocol TopicSubscriber: Sendable {
    /// Calls `onMessage` for every message whose topic matches any of `filters` (MQTT wildcards
    /// `+` and `#` allowed) until the subscription is cancelled. `onMessage` runs on the bus's
    /// own thread: keep it short and non-blocking (parse, then yield to a stream). `onFinish`
    /// runs once when the bus shuts down.
    func subscribe(to filters: [String], onMessage: @escaping @Sendable (TopicMessage) -> Void,
                   onFinish: @escaping @Sendable () -> Void) -> TopicSubscription
}

/// Ends a subscription made with `TopicSubscriber.subscribe`.
public struct TopicSubscription: Sendable {
    private let cancelAction: @Sendable () -> Void
    public init(cancel: @escaping @Sendable () -> Void) { cancelAction = cancel }
    public func cancel() { cancelAction() }
}

extension TopicSubscriber {
    /// The matching messages as a stream (newest kept if the consumer falls `bufferSize` behind).
    public func messages(matching filters: [String], bufferSize: Int = 1024) -> AsyncStream<TopicMessage> {
        let (stream, continuation) = AsyncStream.makeStream(of: TopicMessage.self,
                                                            bufferingPolicy: .bufferingNewest(bufferSize))
        let subscription = subscribe(to: filters, onMessage: { continuation.yield($0) },
                                     onFinish: { continuation.finish() })
        continuation.onTermination = { _ in subscription.cancel() }
        return stream
    }
}
