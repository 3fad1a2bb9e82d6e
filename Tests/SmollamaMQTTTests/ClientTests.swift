import Foundation
import Logging
import ServiceLifecycle
import SmollamaSensors
import SmollamaTesting
import Testing
@testable import SmollamaMQTT

/// The client against a real mosquitto on a free loopback port.
@Suite(.serialized) struct ClientTests {
    /// QoS 1 messages arrive once each, in order, and every one is acknowledged.
    @Test func publishSubscribeRoundTripQoS1() async throws {
        let broker = try await TestBroker()
        let publisher = try makeClient(broker, id: "pub-\(UUID().uuidString.prefix(6))")
        let subscriber = try makeClient(broker, id: "sub-\(UUID().uuidString.prefix(6))")
        let received = Received(subscriber, ["test/round/#"])
        try await withServices([{ try await publisher.run() }, { try await subscriber.run() }]) { () async throws in
            #expect(try await eventually { await isConnected(publisher, subscriber) })
            // The subscription is made on connect: probe until the broker routes to it.
            #expect(try await eventually {
                await publisher.publish(MQTTOutgoing(topic: "test/round/probe", text: "probe"))
                return received.all.contains { $0.topic == "test/round/probe" }
            })
            for i in 0..<200 { await publisher.publish(MQTTOutgoing(topic: "test/round/n", text: "\(i)", qos: 1)) }
            #expect(try await eventually { received.texts(on: "test/round/n").count >= 200 })
            #expect(received.texts(on: "test/round/n") == (0..<200).map(String.init), "each once, in order")
            #expect(try await eventually { await publisher.status().inflight == 0 })
            let status = await publisher.status()
            #expect(status.acknowledged >= 201 && status.dropped == 0 && status.queued == 0)
        }
    }

    /// The broker goes away: the client keeps queueing (bounded), reconnects with back-off when
    /// the broker is back, and the QoS 1 messages queued meanwhile reach a persistent subscriber.
    @Test func brokerOutageQueuesAndCatchesUp() async throws {
        let broker = try await TestBroker()
        let publisher = try makeClient(broker, id: "pub-outage")
        let subscriber = try makeClient(broker, id: "sub-outage")
        let received = Received(subscriber, ["test/outage"])
        try await withServices([{ try await publisher.run() }, { try await subscriber.run() }]) { () async throws in
            #expect(try await eventually { await isConnected(publisher, subscriber) })
            #expect(try await eventually {
                await publisher.publish(MQTTOutgoing(topic: "test/outage", text: "before"))
                return received.texts.contains("before")
            })
            broker.stop()
            #expect(try await eventually { !(await isConnected(publisher)) })
            for i in 0..<20 { await publisher.publish(MQTTOutgoing(topic: "test/outage", text: "queued-\(i)")) }
            let during = await publisher.status()
            #expect(!during.connected && during.queued == 20, "held by the client while the broker is down")
            try await broker.start()
            #expect(try await eventually { received.texts.filter { $0.hasPrefix("queued-") }.count >= 20 })
            #expect(received.texts.filter { $0.hasPrefix("queued-") } == (0..<20).map { "queued-\($0)" })
            #expect(await publisher.status().connects >= 2)
        }
    }

    /// Started while no broker exists; the queue is bounded and keeps the newest messages.
    @Test func startsWithoutBrokerAndQueueIsBounded() async throws {
        let port = try TestBroker.freePort()
        var options = MQTTClient.Options(host: "127.0.0.1", port: port, clientID: "pub-late")
        options.reconnectMax = .seconds(2)
        options.queueSize = 5
        let publisher = try MQTTClient(options: options, logger: .quiet)
        try await withServices([{ try await publisher.run() }]) { () async throws in
            for i in 0..<12 { await publisher.publish(MQTTOutgoing(topic: "test/late", text: "\(i)", retain: true)) }
            let waiting = await publisher.status()
            #expect(!waiting.connected && waiting.queued == 5 && waiting.dropped == 7)
            let broker = try await TestBroker(port: port)
            #expect(try await eventually { await publisher.status().acknowledged == 5 })
            // The retained value is the newest one: the oldest were dropped, order kept.
            let observer = try makeClient(broker, id: "observer-late")
            let received = Received(observer, ["test/late"])
            try await withServices([{ try await observer.run() }]) { () async throws in
                #expect(try await eventually(timeout: .seconds(10)) { received.texts == ["11"] }, "\(received.texts) \(broker.log.suffix(3000))")
            }
        }
    }

    /// Retained birth on connect; on graceful shutdown a retained goodbye replaces it.
    @Test func birthAndGoodbyeAreRetained() async throws {
        let broker = try await TestBroker()
        let node = try makeClient(broker, id: "node-birth") { options in
            options.birth = MQTTOutgoing(topic: "test/node/status", text: "online", retain: true)
            options.goodbye = MQTTOutgoing(topic: "test/node/status", text: "offline", retain: true)
            options.will = MQTTOutgoing(topic: "test/node/status", text: "offline", retain: true)
        }
        let observer = try makeClient(broker, id: "observer-birth")
        let received = Received(observer, ["test/node/status"])
        try await withServices([{ try await observer.run() }]) { () async throws in
            let group = ServiceGroup(configuration: .init(services: [.init(service: node)], logger: .quiet))
            try await withThrowingTaskGroup { (tasks: inout ThrowingTaskGroup<Void, any Error>) async throws in
                tasks.addTask { try await group.run() }
                #expect(try await eventually { received.texts.last == "online" })
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(try await eventually { received.texts.last == "offline" })
        }
        // A fresh subscriber sees the retained state.
        let late = try makeClient(broker, id: "observer-late2")
        let seen = Received(late, ["test/node/status"])
        try await withServices([{ try await late.run() }]) { () async throws in
            #expect(try await eventually { seen.texts == ["offline"] })
        }
    }

    @Test func topicFilterMatching() {
        #expect(MQTTCallbackSink.matches(filter: "zigbee2mqtt/+", topic: "zigbee2mqtt/kitchen"))
        #expect(MQTTCallbackSink.matches(filter: "tele/#", topic: "tele/a/SENSOR"))
        #expect(!MQTTCallbackSink.matches(filter: "zigbee2mqtt/+", topic: "zigbee2mqtt/kitchen/set"))
        #expect(!MQTTCallbackSink.matches(filter: "a/b", topic: "a/c"))
    }
}
