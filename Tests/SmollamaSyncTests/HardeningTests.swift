import Foundation
import GRDB
import SmollamaCore
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaSync

/// Issue 18: one bad node, one stranger on the LAN must not break the hub. Each test is named
/// after the finding it proves, over real HTTP on loopback and real SQLite files.
@Suite(.serialized) struct SyncHardeningTests {
    static let year: Int64 = 366 * 86_400_000
    static let tolerance: Int64 = 10 * 60_000

    /// Finding 1: a node whose clock runs a year fast still syncs and is acknowledged, but its
    /// stamps move no receiver's clock: the hub restarts from its own stamps, shows the node's
    /// events and readings at repaired times, and a node holding a pulled stamp at the end of
    /// the HLC's range restarts without trapping.
    @Test func farFutureStamps() async throws {
        let hub = try await LoopbackHub()
        let fast = try await LoopbackNode(hub: hub, readings: 100, wall: UTCMillis.now().rawValue + Self.year)
        try await hub.serve { url in
            let report = try await fast.client(hub: hub, url: url).syncOnce()
            #expect(report.pushed["readings"] == 100 && report.pushed["notices"] == 1, "\(report)")
            #expect(try await fast.store.database.nodeSync.hubAcknowledgement(stream: .notices) == 1)
            #expect(try await fast.store.database.nodeSync.hubAcknowledgement(stream: .readings) == 100)
        }
        let now = UTCMillis.now().rawValue
        let restarted = NodeClock(source: TestClockSource(wall: now), persisted: try await hub.hub.database.meta.maxIssuedTimestamp())
        let stamp = await restarted.eventStamp()
        #expect(stamp.hlc.milliseconds < now + Self.tolerance, "the hub's clock restarted a year ahead: \(stamp.hlc)")

        // The node's stamps are kept as sent (their hash covers them) and repaired in the views.
        let queue = try DatabaseQueue(path: hub.directory.path + "/hub.sqlite")
        let (events, readings) = try await queue.read { db in
            (try Int64.fetchAll(db, sql: "SELECT corrected_time FROM events_timed WHERE hex(origin) = ?",
                                arguments: [fast.store.node.hex.uppercased()]),
             try Int64.fetchAll(db, sql: "SELECT corrected_time FROM foreign_readings_timed WHERE hex(origin) = ?",
                                arguments: [fast.store.node.hex.uppercased()]))
        }
        #expect(!events.isEmpty && readings.count == 100)
        for time in events + readings {
            #expect(abs(time - now) < Self.tolerance, "a repaired time is \((time - now) / 86_400_000) days from the hub's clock")
        }

        // A node that pulled a stamp at the very end of the HLC's range restarts and stamps.
        let node = try await TestStore()
        let far = try Event(origin: NodeID.random(), seq: 1,
                            stamp: ClockStamp(hlc: HLCTimestamp(milliseconds: HLCTimestamp.maxMilliseconds, counter: .max),
                                              bootID: "far", monotonicNanoseconds: 1, quality: .synced),
                            body: .sensorFault(Notice.SensorFault(sensor: "room.temp", reason: "far", consecutiveFailures: 1)))
        #expect(try await node.database.nodeSync.applyPulled([far]).inserted == 1)
        let nodeClock = NodeClock(source: TestClockSource(wall: now), persisted: try await node.database.meta.maxIssuedTimestamp())
        let nodeStamp = await nodeClock.eventStamp()
        #expect(nodeStamp.hlc.milliseconds < now + Self.tolerance, "a pulled stamp moved the node's clock: \(nodeStamp.hlc)")
    }

    /// Finding 2: a fresh token does not let anyone install a key for an enrolled node id (nor
    /// lift its revocation), nor enroll the hub's own id; a refusal leaves the token unused.
    @Test func enrollmentTakeover() async throws {
        let hub = try await LoopbackHub()
        let alice = try await LoopbackNode(hub: hub, readings: 10)
        try await hub.serve { url in
            let transport = HTTPSyncTransport(baseURL: url)
            let mallory = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
            let token = try await hub.hub.createToken()
            let takeover = try await transport.send(EnrollRequestBody.make(token: token, node: alice.store.node, key: mallory))
            #expect(takeover.status == 403 && code(takeover) == "node_exists", "\(takeover.status) \(message(takeover))")
            #expect(message(takeover).contains("smollama hub token --node"), "\(message(takeover))")
            try await alice.client(hub: hub, url: url).syncOnce()
            #expect(try await hub.hub.database.hubSync.hubMark(origin: alice.store.node.hex, stream: .readings) == 10)

            let hubID = try await transport.send(EnrollRequestBody.make(token: token, node: hub.node, key: mallory))
            #expect(hubID.status == 403 && code(hubID) == "hub_node", "\(hubID.status) \(message(hubID))")

            #expect(try await hub.hub.revoke(node: alice.store.node.hex))
            let revive = try await transport.send(EnrollRequestBody.make(token: token, node: alice.store.node, key: alice.key))
            #expect(revive.status == 403, "a revoked node came back with an ordinary token: \(message(revive))")
            #expect(try await hub.hub.database.hubSync.enrollment(of: alice.store.node)?.revoked == true)

            let fresh = try await transport.send(EnrollRequestBody.make(token: token, node: NodeID.random(), key: mallory))
            #expect(fresh.status == 200, "the refusals used the token up: \(message(fresh))")
        }
    }

    /// Finding 2, the ways back in: a token minted for the id (a new key, or after revocation),
    /// or a request signed by the key the hub already holds; a minted token enrolls no other id.
    @Test func reenrollmentNeedsATokenForTheIDOrTheOldKey() async throws {
        let hub = try await LoopbackHub()
        let alice = try await LoopbackNode(hub: hub, readings: 10)
        try await hub.serve { url in
            let transport = HTTPSyncTransport(baseURL: url)
            func enroll(_ token: String, _ node: NodeID, _ key: SyncKey, signed: Bool) async throws -> SyncHTTPResponse {
                let request = signed
                    ? try EnrollRequest.signed(token: token, node: node, name: "node", key: key, incarnation: 1)
                    : EnrollRequest(token: token, node: node, name: "node", publicKey: key.publicKeyHex, incarnation: 1)
                return try await transport.send(SyncHTTPRequest(path: SyncProtocol.Path.enroll, headers: [:], body: try SyncJSON.encode(request)))
            }
            // The same key, proven: re-enrolled with an ordinary token.
            let same = try await enroll(try await hub.hub.createToken(), alice.store.node, alice.key, signed: true)
            #expect(same.status == 200, "\(message(same))")
            // A proof made by another key for Alice's id does not count.
            let other = try SyncKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255) })
            let forged = try await enroll(try await hub.hub.createToken(), alice.store.node, other, signed: true)
            #expect(forged.status == 403 && code(forged) == "node_exists")

            // A token minted for Alice: only Alice's id, and it installs her new key.
            let minted = try await hub.hub.createToken(for: alice.store.node)
            let wrongNode = try await enroll(minted, NodeID.random(), other, signed: false)
            #expect(wrongNode.status == 403 && code(wrongNode) == "token_for_other_node", "\(message(wrongNode))")
            let newKey = try await enroll(minted, alice.store.node, other, signed: false)
            #expect(newKey.status == 200, "\(message(newKey))")
            #expect(try await hub.hub.database.hubSync.enrollment(of: alice.store.node)?.publicKey == other.publicKey)

            // Revoked: a proof of the old key is not enough; a token minted for the id is.
            #expect(try await hub.hub.revoke(node: alice.store.node.hex))
            let proven = try await enroll(try await hub.hub.createToken(), alice.store.node, other, signed: true)
            #expect(proven.status == 403 && message(proven).contains("revoked"), "\(message(proven))")
            let back = try await enroll(try await hub.hub.createToken(for: alice.store.node), alice.store.node, alice.key, signed: false)
            #expect(back.status == 200, "\(message(back))")
            #expect(try await hub.hub.database.hubSync.enrollment(of: alice.store.node)?.revoked == false)
            try await alice.client(hub: hub, url: url).syncOnce()
            #expect(try await hub.hub.database.hubSync.hubMark(origin: alice.store.node.hex, stream: .readings) == 10)
        }
    }

    /// Finding 4: integers from the wire at the ends of their range are refused with a 400-class
    /// answer naming them; the hub keeps serving.
    @Test func trappingArithmeticOnWireIntegers() async throws {
        let hub = try await LoopbackHub()
        let node = try await LoopbackNode(hub: hub, readings: 10)
        try await hub.serve { url in
            let transport = HTTPSyncTransport(baseURL: url)
            var columns = ReadingColumns()
            columns.sensors = ["room.temp"]
            columns.epochs = [WireEpoch(id: 1, bootID: "b", quality: "synced", startedHLC: 0, startedMonotonicNanoseconds: 0)]
            columns.id = [1, Int64.max]
            columns.sensor = [0, 0]
            columns.time = [1_796_000_000_000, 1]
            columns.value = [1, 2]
            columns.epoch = [0, 0]
            let push = PushRequest(node: node.store.node, stream: .readings, fromSeq: 1, toSeq: 2, events: nil, readings: columns)
            let delta = try await transport.send(try node.signed(SyncProtocol.Path.push, try SyncJSON.encode(push)))
            #expect(delta.status == 400 && message(delta).contains("id"), "\(delta.status) \(message(delta))")

            let ancient = try await transport.send(try node.signed(SyncProtocol.Path.handshake, Array("{}".utf8),
                                                                   time: UTCMillis(rawValue: .min)))
            #expect(ancient.status == 401 && code(ancient) == "stale_request", "\(ancient.status) \(message(ancient))")
            let future = try await transport.send(try node.signed(SyncProtocol.Path.handshake, Array("{}".utf8),
                                                                  time: UTCMillis(rawValue: .max)))
            #expect(future.status == 401 && code(future) == "stale_request", "\(future.status) \(message(future))")

            for localMax in [Int64.max, Int64.min, -1] {
                let handshake = HandshakeRequest(
                    version: SyncProtocol.version, node: node.store.node, incarnation: 1, bootID: "b", monotonicNanoseconds: .max,
                    clockQuality: .synced, streams: SyncProtocol.pushOrder.map { StreamState(stream: $0, localMax: localMax) })
                let answer = try await transport.send(try node.signed(SyncProtocol.Path.handshake, try SyncJSON.encode(handshake)))
                #expect(answer.status == 400 && message(answer).contains("localMax"), "\(localMax): \(answer.status) \(message(answer))")
            }

            let pull = PullRequest(node: node.store.node, streams: [.memories],
                                   have: [VersionEntry(origin: NodeID.random(), stream: .memories, seq: -1)], limit: 10)
            let negative = try await transport.send(try node.signed(SyncProtocol.Path.pull, try SyncJSON.encode(pull)))
            #expect(negative.status == 400 && message(negative).contains("seq"), "\(negative.status) \(message(negative))")

            let events = try await node.store.database.events.fetch(origin: node.store.node, stream: .notices)
            let range = PushRequest(node: node.store.node, stream: .notices, fromSeq: Int64.max - 1, toSeq: Int64.max,
                                    events: events + events, readings: nil)
            let huge = try await transport.send(try node.signed(SyncProtocol.Path.push, try SyncJSON.encode(range)))
            #expect(huge.status == 400 && message(huge).contains("Seq"), "\(huge.status) \(message(huge))")

            try await node.client(hub: hub, url: url).syncOnce()
            #expect(try await hub.hub.database.hubSync.hubMark(origin: node.store.node.hex, stream: .readings) == 10)
        }
    }

    /// Finding 7: the node loses commits the hub already acknowledged (a power cut before the
    /// WAL was synced; here an older copy of its store comes back). New readings and events must
    /// not reuse the numbers the hub holds: once sync resumes, nothing written since is lost.
    @Test func powerCutAfterPush() async throws {
        let hub = try await LoopbackHub()
        let node = try await LoopbackNode(hub: hub, readings: 10)
        let copy = node.store.directory.path + "/as-on-disk.sqlite"
        try await DatabaseQueue(path: node.store.path).writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM INTO ?", arguments: [copy])
        }
        try await Self.write(node.store.database, node: node.store.node, clock: node.clock, readings: 10, value: 50)
        try await hub.serve { url in
            try await node.client(hub: hub, url: url).syncOnce()
            #expect(try await hub.hub.database.hubSync.hubMark(origin: node.store.node.hex, stream: .readings) == 20)
            #expect(try await hub.hub.database.hubSync.hubMark(origin: node.store.node.hex, stream: .notices) == 2)

            // Power cut: the store comes back as the copy (10 readings, 1 notice) and keeps writing.
            let restored = try SmollamaDatabase.open(path: copy)
            node.clock.advance(milliseconds: 60_000)
            let client = SyncClient(database: restored, node: node.store.node, incarnation: 1, key: node.key, hub: hub.info,
                                    clockSource: node.clock, transport: HTTPSyncTransport(baseURL: url), logger: .quiet)
            try await client.syncOnce()
            try await Self.write(restored, node: node.store.node, clock: node.clock, readings: 5, value: 100)
            try await client.syncOnce()
        }
        let queue = try DatabaseQueue(path: hub.directory.path + "/hub.sqlite")
        let (all, new) = try await queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM foreign_readings") ?? 0,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM foreign_readings WHERE value >= 100") ?? 0)
        }
        #expect(all == 25 && new == 5, "the hub holds \(all) readings, \(new) of the 5 written after the power cut")
        #expect(try await hub.hub.database.hubSync.hubMark(origin: node.store.node.hex, stream: .notices) == 3)
        let notices = try await hub.hub.database.events.fetch(origin: node.store.node, stream: .notices)
        #expect(notices.count == 3, "\(notices.count) notices on the hub")
    }

    /// Readings of `room.temp` and one notice, as the scheduler writes them.
    static func write(_ database: SmollamaDatabase, node: NodeID, clock: TestClockSource, readings: Int, value: Double) async throws {
        let sensors = try await database.readings.registerSensors(
            [SensorDescriptor(id: "room.temp", name: "temp")], driver: "test", now: UTCMillis(rawValue: clock.wallMilliseconds()))
        let nodeClock = NodeClock(source: clock, persisted: try await database.meta.maxIssuedTimestamp())
        var pending: [PendingReading] = []
        for index in 0..<readings {
            pending.append(PendingReading(sensorRowID: sensors[0].rowID, value: value + Double(index), stamp: await nodeClock.stamp().stamp))
        }
        let notice = try PendingNotice(.sensorFault(Notice.SensorFault(sensor: "room.temp", reason: "\(value)", consecutiveFailures: 3)),
                                       stamp: await nodeClock.stamp().stamp)
        try await database.readings.commit(readings: pending, notices: [notice], origin: node)
    }

    /// Finding 6: a stranger's request is refused from its headers, before its body is read; a
    /// body over the limit is refused from its Content-Length; `time` and `enroll` take 4 KB;
    /// and requests beyond the concurrency limit get 503 with Retry-After, not memory.
    @Test func unauthenticatedMemoryExhaustion() async throws {
        let hub = try await LoopbackHub()
        let node = try await LoopbackNode(hub: hub, readings: 10)
        try await hub.serve { url in
            let sevenMB = 7 << 20
            let stranger = try RawConnection(url: url)
            stranger.post(SyncProtocol.Path.push, declared: sevenMB, body: Array("{".utf8))
            let strangerHead = stranger.responseHead()
            #expect(status(of: strangerHead) == 400, "no answer before the body was read: \(strangerHead ?? "none")")

            let unknown = try RawConnection(url: url)
            unknown.post(SyncProtocol.Path.push, headers: [SyncProtocol.Header.version: "\(SyncProtocol.version)",
                                                           SyncProtocol.Header.node: NodeID.random().hex], declared: sevenMB)
            #expect(status(of: unknown.responseHead()) == 401)

            let enrolled = [SyncProtocol.Header.version: "\(SyncProtocol.version)", SyncProtocol.Header.node: node.store.node.hex]
            let oversize = try RawConnection(url: url)
            oversize.post(SyncProtocol.Path.push, headers: enrolled, declared: SyncProtocol.maxBodyBytes + 1)
            #expect(status(of: oversize.responseHead()) == 413)

            let bigEnroll = [UInt8](#"{"token":"x","name":""#.utf8) + [UInt8](repeating: 0x61, count: 5000) + [UInt8](#""}"#.utf8)
            let enroll = try await HTTPSyncTransport(baseURL: url).send(
                SyncHTTPRequest(path: SyncProtocol.Path.enroll, headers: [:], body: bigEnroll))
            #expect(enroll.status == 413, "\(enroll.status) \(message(enroll))")

            // Connections that declare a body and never send it hold their slots; beyond the
            // limit the hub answers 503 with Retry-After at once.
            var holders = try (0..<16).map { _ in try RawConnection(url: url) }
            for holder in holders { holder.post(SyncProtocol.Path.push, headers: enrolled, declared: 1000) }
            var busy: String?
            let deadline = ContinuousClock.now + .seconds(5)
            while busy == nil && ContinuousClock.now < deadline {
                let probe = try RawConnection(url: url)
                probe.post(SyncProtocol.Path.time, declared: 0)
                let head = probe.responseHead(timeout: .seconds(1))
                if status(of: head) == 503 { busy = head } else { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(busy?.lowercased().contains("retry-after:") == true, "no 503 while \(holders.count) requests held: \(busy ?? "none")")
            holders.removeAll()
            #expect(try await eventually { (try? await node.client(hub: hub, url: url).syncOnce()) != nil })
            #expect(try await hub.hub.database.hubSync.hubMark(origin: node.store.node.hex, stream: .readings) == 10)
        }
    }
}
