import Foundation
import Logging
import SmollamaCore
@testable import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing

@Suite struct LiveTests {
    @Test func publisherFansOutToEverySubscriber() async throws {
        let publisher = LivePublisher()
        let (firstID, first) = await publisher.subscribe()
        let (_, second) = await publisher.subscribe()
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
        let (_, stream) = await publisher.subscribe()
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
        let entry = LogEntry(event: Event(
            origin: NodeID.random(), stream: .notices, seq: 1, stamp: ServerFixture.stamp(1_000), type: "x",
            payload: Data("{}".utf8)))
        let frame = try LiveEvents.frame(entry)
        #expect(frame.hasPrefix("id: \(entry.hlc.rawValue)\nevent: log\ndata: {"))
        #expect(frame.hasSuffix("}\n\n"))
        #expect(LiveEvents.data("a\nb") == "data: a\ndata: b\n")
    }
}
