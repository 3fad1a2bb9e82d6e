import Foundation
import Hummingbird
import SmollamaCore
import SmollamaStore
import SmollamaTesting
import Synchronization
import Testing
@testable import SmollamaSync

/// A server on 127.0.0.1 answering `/sync/v1/*` with `answer`: a spoofed hub (a fake mDNS answer,
/// a takeover of the hub's address) that may relay what the real hub signs.
struct SpoofedHub {
    let answer: @Sendable (SyncHTTPRequest) async throws -> SyncHTTPResponse

    func serve(_ body: @Sendable (_ url: String) async throws -> Void) async throws {
        let router = Router(context: BasicRequestContext.self)
        let answer = answer
        router.post("/sync/v1/:operation") { request, _ -> SyncHTTPResponse in
            var request = request
            let buffer = try await request.collectBody(upTo: SyncProtocol.maxBodyBytes)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            return try await answer(SyncHTTPRequest(path: request.uri.path, headers: headers, body: Array(buffer: buffer)))
        }
        let port = Mutex<Int?>(nil)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in port.withLock { $0 = channel.localAddress?.port } },
                              logger: .quiet)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            #expect(try await eventually { port.withLock { $0 } != nil }, "the spoofed hub started")
            do {
                try await body("http://127.0.0.1:\(port.withLock { $0 } ?? 0)")
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    /// Relays the real hub's signed time; claims to hold `held` of every stream; pulls nothing.
    /// `key` signs the replies as a hub would (nil: unsigned, as before hubs signed them).
    static func claiming(_ held: [SyncStream: Int64], hub: LoopbackHub, key: SyncKey?, pulled: [Event] = []) -> SpoofedHub {
        SpoofedHub { request in
            let value: any Encodable
            switch request.path {
            case SyncProtocol.Path.time: return SyncHTTPResponse(status: 200, body: try SyncJSON.encode(try hub.hub.time()))
            case SyncProtocol.Path.handshake:
                value = HandshakeResponse(version: SyncProtocol.version, hubNode: hub.node, hubIncarnation: "spoofed",
                                          hubTime: try hub.hub.time().hubTime,
                                          marks: SyncProtocol.pushOrder.map { StreamMark(stream: $0, mark: held[$0] ?? 0, gaps: []) })
            case SyncProtocol.Path.pull: value = PullResponse(events: pulled, more: false)
            default: return SyncHTTPResponse(status: 404, body: [])
            }
            let body = try SyncJSON.encode(value)
            guard let key, let nonce = request.headers[SyncProtocol.Header.nonce] else { return SyncHTTPResponse(status: 200, body: body) }
            let signature = try key.sign(SyncSigning.replyMessage(path: request.path, nonce: nonce, body: body))
            return SyncHTTPResponse(status: 200, body: body, headers: [SyncProtocol.Header.replySignature: signature.hexString])
        }
    }
}

extension SyncHardeningTests {
    /// Finding 5: a spoofed hub on loopback that relays the real hub's signed time and claims to
    /// hold everything the node has is refused (unsigned, or signed by another key), so the
    /// node's retention deletes nothing it never sent; the real hub's signed answers are taken.
    @Test func unsignedHubReplies() async throws {
        let hub = try await LoopbackHub()
        let node = try await LoopbackNode(hub: hub, readings: 100)
        let everything: [SyncStream: Int64] = [.readings: 100, .notices: 1]
        let impostor = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        for (key, expected) in [(nil, SyncClientError.unsignedReply(path: SyncProtocol.Path.handshake)),
                                (impostor, SyncClientError.badReplySignature(path: SyncProtocol.Path.handshake))] {
            try await SpoofedHub.claiming(everything, hub: hub, key: key).serve { url in
                await #expect(throws: expected) { try await node.client(hub: hub, url: url).syncOnce() }
            }
            #expect(try await node.store.database.nodeSync.hubAcknowledgement(stream: .readings) == 0)
            try await node.store.database.readings.rollUpAll()
            let deleted = try await node.store.database.deleteExpiredReadings(olderThan: .distantFuture,
                                                                              acknowledgedBy: NodeSyncStore.hubPeer)
            #expect(deleted == 0, "retention deleted \(deleted) readings the hub never received")
        }
        #expect(SyncClientError.unsignedReply(path: "/p").description.contains("not signed"))

        try await hub.serve { url in
            try await node.client(hub: hub, url: url).syncOnce()
        }
        #expect(try await hub.hub.database.hubSync.hubMark(origin: node.store.node.hex, stream: .readings) == 100)
        #expect(try await node.store.database.nodeSync.hubAcknowledgement(stream: .readings) == 100)
        let deleted = try await node.store.database.deleteExpiredReadings(olderThan: .distantFuture, acknowledgedBy: NodeSyncStore.hubPeer)
        #expect(deleted == 100, "once the hub holds them, retention may delete them (\(deleted))")
    }

    /// Finding 5, a hub holding the right key but misbehaving (a bug, a restored copy): its
    /// acknowledgement is clamped to the numbers this node has issued, and a pulled page with its own
    /// events or a stream it did not ask for is refused whole.
    @Test func signedRepliesAreStillChecked() async throws {
        let hub = try await LoopbackHub()
        let stranger = try Event(origin: NodeID.random(), seq: 1,
                                 stamp: ClockStamp(hlc: HLCTimestamp(milliseconds: 1_796_000_000_000, counter: 0), bootID: "b",
                                                   monotonicNanoseconds: 1, quality: .synced),
                                 body: .sensorFault(Notice.SensorFault(sensor: "room.temp", reason: "x", consecutiveFailures: 1)))
        for why in ["this node's own event", "a stream not asked for"] {
            let node = try await LoopbackNode(hub: hub, readings: 10)
            let own = try await node.store.database.events.fetch(origin: node.store.node, stream: .notices)
            let page = why.hasPrefix("this") ? own : [stranger]
            try await SpoofedHub.claiming([.readings: 1000, .notices: 1], hub: hub, key: hub.key, pulled: page).serve { url in
                do {
                    try await node.client(hub: hub, url: url).syncOnce()
                    Issue.record("a page holding \(why) was applied")
                } catch let error as SyncClientError {
                    #expect("\(error)".contains(why) && "\(error)".contains("nothing was applied"), "\(error)")
                }
            }
            #expect(try await node.store.database.nodeSync.hubAcknowledgement(stream: .readings) == 10,
                    "the acknowledgement went past the 10 readings this node holds")
            #expect(try await node.store.database.events.fetch(origin: stranger.origin, stream: .notices).isEmpty)
        }
    }

    /// The token carries the hub key's fingerprint; the node checks the enrolling hub against it,
    /// and a hub refuses a token printed by another hub.
    @Test func enrollmentTokensPinTheHubKey() async throws {
        let hub = try await LoopbackHub()
        let printed = try await hub.hub.createToken()
        let token = EnrollmentToken(printed)
        #expect(token.hubFingerprint == SyncSigning.fingerprint(publicKey: hub.key.publicKey) && token.hubFingerprint?.count == 32)
        #expect(throws: Never.self) { try token.check(hubPublicKey: hub.key.publicKeyHex) }
        let other = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
        #expect(throws: EnrollmentTokenError.wrongHub(expected: token.hubFingerprint ?? "")) {
            try token.check(hubPublicKey: other.publicKeyHex)
        }
        #expect(throws: EnrollmentTokenError.noFingerprint) { try EnrollmentToken(token.secret).check(hubPublicKey: hub.key.publicKeyHex) }

        let foreign = EnrollmentToken(secret: token.secret, hubFingerprint: SyncSigning.fingerprint(publicKey: other.publicKey))
        let refused = await hub.hub.enroll(EnrollRequestBody.make(token: foreign.description, node: NodeID.random(), key: other))
        #expect(refused.status == 403 && code(refused) == "token_other_hub", "\(refused.status) \(message(refused))")
        // The secret alone (what a node sends) and the printed token both enroll.
        let enrolled = await hub.hub.enroll(EnrollRequestBody.make(token: token.secret, node: NodeID.random(), key: other))
        #expect(enrolled.status == 200, "\(message(enrolled))")
        let whole = await hub.hub.enroll(EnrollRequestBody.make(token: try await hub.hub.createToken(), node: NodeID.random(), key: other))
        #expect(whole.status == 200, "\(message(whole))")
    }
}
