import Foundation
import Hummingbird
import HummingbirdTesting
import SmollamaCore
@testable import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing

/// The log reads only what it shows (issue 21): `limit` events without a filter, a widening read
/// with one, so a match behind hundreds of newer entries is still found.
@Suite struct LogWindowTests {
    @Test func aFilteredLogLooksPastTheFirstReadAndAnUnfilteredOneReadsItsLimit() async throws {
        let fixture = try await ServerFixture()
        // 300 newer entries of another sensor bury the one `shed.evil` fault.
        for index in Int64(0)..<300 {
            try await ServerFixture.appendNotice(fixture.store.database, origin: fixture.store.node, sensor: "shed.temperature",
                                                 reason: "i2c timeout \(index)", time: ServerFixture.now - 40_000 + index)
        }
        try await fixture.test { client in
            try await client.execute(uri: "/api/v1/log?subject=shed.evil", method: .get) { response in
                let entries = try #require(try response.json([String: [LogEntry]].self)["entries"])
                #expect(entries.map(\.subject) == ["shed.evil"])
            }
            try await client.execute(uri: "/api/v1/log?q=timeout%2012&limit=20", method: .get) { response in
                let entries = try #require(try response.json([String: [LogEntry]].self)["entries"])
                // "timeout 12", "timeout 120" … "timeout 129": eleven, newest first.
                #expect(entries.count == 11)
                #expect(entries.first?.message.contains("timeout 129") == true)
            }
            try await client.execute(uri: "/api/v1/log?limit=5", method: .get) { response in
                let entries = try #require(try response.json([String: [LogEntry]].self)["entries"])
                #expect(entries.count == 5)
                #expect(entries.first?.message.contains("timeout 299") == true)
                #expect(entries.map(\.hlc) == entries.map(\.hlc).sorted(by: >))
            }
        }
    }
}
