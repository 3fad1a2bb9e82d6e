import Foundation
import Logging
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaSync

/// The DNS codec hub discovery speaks (RFC 1035/6762/6763), and a responder and a browser
/// talking over loopback UDP.
struct DNSCodecTests {
    let hub = HubAnnouncement(name: "attic hub", hubNode: NodeID(hex: "0123456789abcdef0123456789abcdef")!, version: "0.17.0",
                              fingerprint: "00112233445566778899aabbccddeeff", port: 8080)

    @Test func aResponseRoundTripsWithNamesCompressed() throws {
        let message = HubDiscovery.answer(to: HubDiscovery.query(id: 7), announcement: hub, addresses: [[192, 168, 1, 20]],
                                          legacy: true)
        let answer = try #require(message)
        let bytes = try answer.encode()
        let decoded = try DNSMessage.decode(bytes)
        #expect(decoded == answer)
        #expect(decoded.id == 7 && decoded.isResponse && decoded.questions.count == 1)
        // `_smollama._tcp.local` is written once; later names point at it (0xC0 pointers).
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.components(separatedBy: "_smollama").count == 2, "written once, in the question")
        #expect(text.components(separatedBy: "attic hub").count == 2, "the instance written once, in the PTR")
        #expect(bytes.contains(0xC0))
    }

    @Test func theHubIsReadFromAnAnswer() throws {
        let answer = try #require(HubDiscovery.answer(to: HubDiscovery.query(id: 1), announcement: hub,
                                                      addresses: [[10, 0, 0, 5]], legacy: true))
        let decoded = try DNSMessage.decode(try answer.encode())
        let found = HubDiscovery.hubs(in: decoded, source: nil)
        #expect(found == [DiscoveredHub(name: "attic hub", hubNode: hub.hubNode, version: "0.17.0",
                                        fingerprint: hub.fingerprint, host: "10.0.0.5", port: 8080)])
        // The packet's source address wins over the A record: it is what reaches the hub.
        #expect(HubDiscovery.hubs(in: decoded, source: "192.168.7.7").first?.url == "http://192.168.7.7:8080")
        // A goodbye (TTL 0) names no hub.
        let goodbye = HubDiscovery.announcement(hub, addresses: [[10, 0, 0, 5]], ttl: 0)
        #expect(HubDiscovery.hubs(in: try DNSMessage.decode(try goodbye.encode()), source: nil).isEmpty)
    }

    @Test func onlyQuestionsAboutTheHubAreAnswered() throws {
        let other = DNSMessage(id: 3, questions: [DNSQuestion(name: DNSName("_http._tcp.local"), type: DNSType.ptr)])
        #expect(HubDiscovery.answer(to: other, announcement: hub, addresses: [], legacy: false) == nil)
        let host = DNSMessage(questions: [DNSQuestion(name: DNSName("SMOLLAMA-01234567.local"), type: DNSType.a)])
        let answer = try #require(HubDiscovery.answer(to: host, announcement: hub, addresses: [[10, 0, 0, 5]], legacy: false))
        #expect(answer.answers.map(\.data) == [.a([10, 0, 0, 5])], "names compare ignoring case")
        #expect(answer.id == 0 && answer.questions.isEmpty && answer.answers.allSatisfy(\.cacheFlush))
        // Known-answer suppression: the asker already holds the PTR.
        var known = HubDiscovery.query(id: 0)
        known.answers = [DNSRecord(name: HubDiscovery.serviceType, data: .ptr(HubDiscovery.instance(hub)), ttl: 120)]
        #expect(HubDiscovery.answer(to: known, announcement: hub, addresses: [], legacy: false) == nil)
        // A response is never answered.
        var response = HubDiscovery.query(id: 0)
        response.isResponse = true
        #expect(HubDiscovery.answer(to: response, announcement: hub, addresses: [], legacy: false) == nil)
    }

    @Test func aTXTWithoutIdOrFingerprintIsNotAHub() throws {
        var answer = HubDiscovery.announcement(hub, addresses: [[10, 0, 0, 5]])
        answer.answers = answer.answers.map { record in
            guard case .txt = record.data else { return record }
            return DNSRecord(name: record.name, data: .txt(["id=\(hub.hubNode.hex)", "fp=nothex"]), ttl: record.ttl)
        }
        #expect(HubDiscovery.hubs(in: try DNSMessage.decode(try answer.encode()), source: nil).isEmpty)
    }

    /// A message put together by hand (RFC 1035 §4.1.4's example of compression), read back.
    @Test func aHandMadePacketDecodes() throws {
        let bytes: [UInt8] = [
            0x12, 0x34, 0x84, 0x00, 0, 0, 0, 2, 0, 0, 0, 0,
            // F.ISI.ARPA A 10.1.2.3
            1, 0x46, 3, 0x49, 0x53, 0x49, 4, 0x41, 0x52, 0x50, 0x41, 0, 0, 1, 0x80, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3,
            // FOO.(pointer to F.ISI.ARPA at 12) PTR (pointer to ISI.ARPA at 14)
            3, 0x46, 0x4F, 0x4F, 0xC0, 12, 0, 12, 0, 1, 0, 0, 0, 60, 0, 2, 0xC0, 14,
        ]
        let message = try DNSMessage.decode(bytes)
        #expect(message.id == 0x1234 && message.isResponse && message.authoritative)
        #expect(message.answers[0].name == DNSName("f.isi.arpa") && message.answers[0].cacheFlush)
        #expect(message.answers[0].data == .a([10, 1, 2, 3]))
        #expect(message.answers[1].name.description == "FOO.F.ISI.ARPA")
        #expect(message.answers[1].data == .ptr(DNSName("isi.arpa")))
    }

    @Test(arguments: [
        ([UInt8](), "cut short"),
        ([0, 1, 0, 0, 0, 1], "cut short"),
        ([0, 0, 0x78, 0, 0, 0, 0, 0, 0, 0, 0, 0], "opcode"),
        ([0, 0, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0], "counts"),
        // A pointer to itself: a loop.
        ([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1], "does not point backwards"),
        // A forward pointer.
        ([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 16, 0, 1, 0, 1, 0], "does not point backwards"),
        // A label longer than the packet.
        ([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 40, 0x61, 0x62, 0, 0, 1, 0, 1], "past the end"),
        // Reserved label type 0x40.
        ([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0x61, 0, 0, 1, 0, 1], "reserved"),
        // An A record of 3 bytes.
        ([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3, 1, 2, 3], "not 4"),
        // A record whose length runs past the packet.
        ([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 9, 1, 2], "past the end"),
        // A TXT string longer than its record.
        ([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2, 5, 0x61, 0], "runs past its record"),
        // A PTR whose name ends after its record's length.
        ([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 12, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0x61, 0], "length says"),
        // An SRV of 4 bytes.
        ([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 33, 0, 1, 0, 0, 0, 1, 0, 4, 0, 0, 0, 0], "fewer than 7"),
    ] as [([UInt8], String)])
    func malformedPacketsAreRefusedWithAReason(bytes: [UInt8], reason: String) {
        #expect {
            _ = try DNSMessage.decode(bytes)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func aNameOver255BytesIsRefused() {
        var bytes: [UInt8] = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        for _ in 0..<5 { bytes += [63] + [UInt8](repeating: 0x61, count: 63) }
        bytes += [0, 0, 1, 0, 1]
        #expect { _ = try DNSMessage.decode(bytes) } throws: { "\($0)".contains("longer than 255") }
    }

    /// Random bytes and random mutations of a real answer: decoded or refused, never a trap.
    @Test func randomPacketsNeverTrap() throws {
        var random = SplitMix64(state: 17)
        let valid = try #require(HubDiscovery.answer(to: HubDiscovery.query(id: 1), announcement: hub,
                                                     addresses: [[10, 0, 0, 5]], legacy: true)).encode()
        var refused = 0
        for round in 0..<20_000 {
            var bytes = valid
            if round % 4 == 0 {
                bytes = (0..<Int(random.next() % 200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                for _ in 0...(random.next() % 4) {
                    let index = Int(random.next() % UInt64(bytes.count))
                    bytes[index] = UInt8(truncatingIfNeeded: random.next())
                }
                if round % 3 == 0 { bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count)))) }
            }
            do {
                let message = try DNSMessage.decode(bytes)
                _ = HubDiscovery.hubs(in: message, source: nil)
                _ = HubDiscovery.answer(to: message, announcement: hub, addresses: [], legacy: false)
            } catch {
                refused += 1
                #expect("\(error)".contains("malformed DNS message at byte"))
            }
        }
        #expect(refused > 1000)
    }

    @Test func aLabelOver63BytesIsNotEncoded() {
        let message = DNSMessage(questions: [DNSQuestion(name: DNSName(labels: [String(repeating: "a", count: 64)]), type: 1)])
        #expect(throws: DNSEncodeError.badLabel(String(repeating: "a", count: 64))) { try message.encode() }
        // The hub's name is cut to one label's 63 bytes.
        var long = hub
        long.name = String(repeating: "h", count: 100)
        #expect(HubDiscovery.instance(long).labels[0].utf8.count == 63)
    }
}

/// A responder and a browser over real UDP sockets on loopback (the query sent unicast to the
/// responder's port, which RFC 6762 §6.7 answers straight back).
struct MDNSLoopbackTests {
    @Test func theBrowserFindsTheResponderAndStopsAtItsTimeout() async throws {
        let port = freeUDPPort()
        let hub = HubAnnouncement(name: "hub", hubNode: NodeID(hex: "00000000000000000000000000000abc")!, version: "0.17.0",
                                  fingerprint: "ffeeddccbbaa99887766554433221100", port: 4242)
        let endpoint = MDNSEndpoint(port: port, queryAddress: "127.0.0.1")
        let responder = MDNSResponder(endpoint: endpoint, logger: Logger(label: "test")) { hub }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await responder.run() }
            let started = ContinuousClock.now
            let found = try await MDNSBrowser.browse(timeout: .milliseconds(1500), endpoint: endpoint, logger: Logger(label: "test"))
            let took = ContinuousClock.now - started
            #expect(found.map(\.hubNode) == [hub.hubNode])
            #expect(found.first?.url == "http://127.0.0.1:4242")
            #expect(took >= .milliseconds(1400) && took < .seconds(30), "\(took)")
            group.cancelAll()
        }
        // Nobody there: nothing found, no error.
        let none = try await MDNSBrowser.browse(timeout: .milliseconds(300), endpoint: endpoint, logger: Logger(label: "test"))
        #expect(none.isEmpty)
    }
}
