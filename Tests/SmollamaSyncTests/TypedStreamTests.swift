import Foundation
import SmollamaCore
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaSync

/// Streams and event bodies are types; the wire is unchanged, and what a peer sends that this
/// build does not know is refused (a stream) or kept as received (an event type).
@Suite(.serialized) struct TypedStreamTests {
    static let accepted = "streams are control, notices, memories, observations, rollups, readings"

    /// A request body as JSON text with one stream name swapped for a name no build knows.
    func renamed(_ value: some Encodable, _ from: String) throws -> [UInt8] {
        let text = String(decoding: try SyncJSON.encode(value), as: UTF8.self)
        #expect(text.contains(from), "\(text)")
        return Array(text.replacingOccurrences(of: from, with: #""gossip""#).utf8)
    }

    @Test func anUnknownStreamIsRefusedNamingItAndTheAcceptedOnes() async throws {
        let hub = try await LoopbackHub()
        let node = try await LoopbackNode(hub: hub, readings: 10)
        try await hub.serve { url in
            let transport = HTTPSyncTransport(baseURL: url)
            let handshake = HandshakeRequest(
                version: SyncProtocol.version, node: node.store.node, incarnation: 1, bootID: "b", monotonicNanoseconds: 1,
                clockQuality: .synced, streams: [StreamState(stream: .notices, localMax: 1)])
            let events = try await node.store.database.events.fetch(origin: node.store.node, stream: .notices)
            #expect(events.count == 1)
            let push = PushRequest(node: node.store.node, stream: .notices, fromSeq: 1, toSeq: 1, events: events,
                                   readings: nil)
            let pull = PullRequest(node: node.store.node, streams: [.memories], have: [], limit: 10)
            let requests: [(String, [UInt8])] = [
                (SyncProtocol.Path.handshake, try renamed(handshake, #""notices""#)),
                (SyncProtocol.Path.push, try renamed(push, #""notices""#)),
                (SyncProtocol.Path.pull, try renamed(pull, #""memories""#)),
            ]
            for (path, body) in requests {
                let answer = try await transport.send(try node.signed(path, body))
                #expect(answer.status == 400 && code(answer) == "bad_request", "\(path): \(message(answer))")
                #expect(message(answer).contains("unknown stream 'gossip'"), "\(path): \(message(answer))")
                #expect(message(answer).contains(Self.accepted), "\(path): \(message(answer))")
                #expect(message(answer).hasSuffix("nothing was applied"), "\(path): \(message(answer))")
            }
            // The same requests with the real names are accepted: the refusal was the name.
            #expect(try await transport.send(try node.signed(SyncProtocol.Path.handshake, try SyncJSON.encode(handshake))).status == 200)
            #expect(try await transport.send(try node.signed(SyncProtocol.Path.push, try SyncJSON.encode(push))).status == 200)
            #expect(try await transport.send(try node.signed(SyncProtocol.Path.pull, try SyncJSON.encode(pull))).status == 200)
        }
    }

    @Test func anEventOfATypeFromANewerNodeIsStoredAndForwardedAsItCame() async throws {
        let hub = try await LoopbackHub()
        let newer = try await LoopbackNode(hub: hub, readings: 10)
        let older = try await LoopbackNode(hub: hub, readings: 10)
        // Keys out of canonical order: re-encoding it would change its bytes and its hash.
        let payload = Data(#"{"tag": "kitchen", "id": "m1"}"#.utf8)
        let written = try await newer.store.database.events.appendEvent(
            .unknown(stream: .memories, type: "memory.tagged", payload: payload), origin: newer.store.node,
            stamp: .test(1_796_000_000_000, bootID: "newer"))
        try await hub.serve { url in
            let pushed = try await newer.client(hub: hub, url: url).syncOnce()
            #expect(pushed.pushed["memories"] == 1)
            let onHub = try await hub.hub.database.events.fetch(origin: newer.store.node, stream: .memories)
            #expect(onHub == [written])
            #expect(try await hub.hub.database.hubSync.hubMark(origin: newer.store.node.hex, stream: .memories) == 1)

            let pulled = try await older.client(hub: hub, url: url).syncOnce()
            #expect(pulled.pulled == 1)
            let forwarded = try #require(try await older.store.database.events.fetch(origin: newer.store.node, stream: .memories).first)
            #expect(forwarded == written && forwarded.hashIsValid)
            #expect(forwarded.payload == payload)
            #expect(try forwarded.body == .unknown(stream: .memories, type: "memory.tagged", payload: payload))
            // Nothing was projected as a memory: this build does not know what the event means.
            #expect(try await older.store.database.knowledge.memories(currentOnly: false, limit: 10).isEmpty)
        }
    }
}
