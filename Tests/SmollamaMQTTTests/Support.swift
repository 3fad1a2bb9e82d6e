import Foundation
import Logging
import SmollamaMQTT
import SmollamaSensors
import SmollamaTesting
import Synchronization

/// Collects what a subscription delivers, for assertions.
final class Received: Sendable {
    final class Box: Sendable {
        let messages = Mutex<[TopicMessage]>([])
    }
    private let box = Box()
    let subscription: TopicSubscription

    init(_ bus: any TopicSubscriber, _ filters: [String]) {
        let box = box
        subscription = bus.subscribe(to: filters, onMessage: { message in box.messages.withLock { $0.append(message) } },
                                     onFinish: {})
    }

    var all: [TopicMessage] { box.messages.withLock { $0 } }
    var texts: [String] { all.map { String(decoding: $0.payload, as: UTF8.self) } }
    func texts(on topic: String) -> [String] {
        all.filter { $0.topic == topic }.map { String(decoding: $0.payload, as: UTF8.self) }
    }
}

func makeClient(_ broker: TestBroker, id: String, configure: (inout MQTTClient.Options) -> Void = { _ in })
    throws -> MQTTClient
{
    var options = MQTTClient.Options(host: "127.0.0.1", port: broker.port, clientID: id)
    options.reconnectMin = .seconds(1)
    options.reconnectMax = .seconds(2)
    configure(&options)
    return try MQTTClient(options: options, logger: .quiet)
}

func isConnected(_ clients: MQTTClient...) async -> Bool {
    for client in clients where !(await client.isConnected) { return false }
    return true
}

/// Runs `services` for the duration of `body`, then cancels them.
func withServices(_ services: [@Sendable () async throws -> Void],
                  _ body: () async throws -> Void) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        for service in services { group.addTask { try await service() } }
        do {
            try await body()
        } catch {
            group.cancelAll()
            throw error
        }
        group.cancelAll()
    }
}
