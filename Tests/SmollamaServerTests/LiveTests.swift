import Foundation
import Logging
import SmollamaCore
@testable import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing
import HummingbirdTesting
import Hummingbird

@Suite struct LiveTests {
    @Test func publisherFansOutToEverySubscriber() async throws {
        let publisher = LivePublisher()
        let (firstID, first) = try #require(await publisher.subscribe())
        let (_, second) = try #require(await publisher.subscribe())
        #expect(await publisher.subscriberCount == 2)
        await publisher.publish(.thought("hel"))
        await publisher.publish(.thought("lo"))
        await publisher.unsubscribe(firstID)
        await publisher.finishAll()
        var a: [LivePublisher.Message] = []
        for await message in first { a.append(message) }
        var b: [LivePublisher.Message] = []
        for await message in second { b.append(message) }
        #expect(a == [.thought("hel"), .thought("lo")])
        #expect(b == a)
        #expect(await publisher.subscriberCount == 0)
    }

    @Test func tailPublishesOnlyNewEntriesInOrder() async throws {
        let fixture = try await ServerFixture()
        let publisher = LivePublisher()
        let tail = LogTailService(database: fixture.store.database, publisher: publisher, logger: .quiet)
        let start = try await tail.startCursor()
        let (_, stream) = try #require(await publisher.subscribe())
        #expect(await tail.tick(after: start) == start)  // nothing new yet
        let event = try await ServerFixture.appendNotice(
            fixture.store.database, origin: fixture.store.node, sensor: "shed.motion", reason: "new one",
            time: ServerFixture.now)
        let cursor = await tail.tick(after: start)
        #expect(cursor == event.stamp.hlc)
        #expect(await tail.tick(after: cursor) == cursor)
        await publisher.finishAll()
        var received: [LogEntry] = []
        for await case .log(let entry) in stream { received.append(entry) }
        #expect(received.map(\.message) == ["faulty after 3 failed reads: new one"])
    }

    @Test func sseFramesCarryIDsAndSplitLines() throws {
        let entry = LogEntry(event: try Event(
            origin: NodeID.random(), seq: 1, stamp: ServerFixture.stamp(1_000),
            body: .unknown(stream: .notices, type: "x", payload: Data("{}".utf8))))
        let frame = try LiveEvents.frame(entry)
        #expect(frame.hasPrefix("id: \(entry.hlc.rawValue)\nevent: log\ndata: {"))
        #expect(frame.hasSuffix("}\n\n"))
        #expect(LiveEvents.data("a\nb") == "data: a\ndata: b\n")
        // Issue 18: a CR ends an SSE line too; it must not start a field of its own.
        #expect(LiveEvents.data("a\revent: x\r\nb") == "data: a\ndata: event: x\ndata: b\n")
    }

    /// Issue 18: every live page held a subscription and a 500-message buffer, without bound.
    @Test func liveSubscribersAreCapped() async throws {
        let publisher = LivePublisher(limit: 2)
        let first = try #require(await publisher.subscribe())
        #expect(await publisher.subscribe() != nil)
        #expect(await publisher.subscribe() == nil, "the third is refused")
        await publisher.unsubscribe(first.id)
        #expect(await publisher.subscribe() != nil, "a closed page frees its place")
        let fixture = try await ServerFixture()
        var environment = fixture.environment
        environment.publisher = LivePublisher(limit: 0)
        try await buildApplication(environment: environment, logger: .quiet).test(.router) { client in
            for path in ["/api/v1/live/log", "/api/v1/live/thoughts"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .serviceUnavailable, "\(path)")
                    #expect(response.text.contains("too many live pages"))
                }
            }
        }
    }
}

@Suite struct LiveReplayTests {
    /// The SSE route replays what a page has not seen (`after`, or `Last-Event-ID` on reconnect),
    /// then streams live messages until the publisher ends.
    @Test func sseReplaysMissedEntriesThenStreams() async throws {
        let fixture = try await ServerFixture()
        let entries = try await LogEntry.recent(fixture.store.database, limit: 10)
        let oldest = try #require(entries.first)
        let newest = try #require(entries.last)
        let publisher = fixture.environment.publisher
        let body = try await fixture.test { client in
            try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    try await client.execute(uri: "/api/v1/live/log?after=\(oldest.hlc.rawValue)", method: .get) {
                        response in
                        #expect(response.headers[.contentType] == "text/event-stream")
                        return String(buffer: response.body)
                    }
                }
                group.addTask {
                    let subscribed = try await eventually { await publisher.subscriberCount == 1 }
                    #expect(subscribed)
                    await publisher.publish(.log(newest))  // already replayed: not sent twice
                    await publisher.publish(.heartbeat)
                    await publisher.finishAll()
                    return nil
                }
                var text = ""
                for try await result in group { if let result { text = result } }
                return text
            }
        }
        #expect(body.hasPrefix("retry: 2000\n"))
        #expect(body.components(separatedBy: "event: log").count == 2)
        #expect(body.contains("id: \(newest.hlc.rawValue)\n"))
        #expect(!body.contains("id: \(oldest.hlc.rawValue)\n"))
        #expect(body.contains(": keepalive"))
    }
}
