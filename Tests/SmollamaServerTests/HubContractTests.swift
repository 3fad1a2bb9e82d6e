import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import SmollamaCore
@testable import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing

/// The shapes (keys and value types) of the hub's `/api/v1` endpoints (issue 16), against the
/// snapshots `Tests/Contracts/api-hub-*.json`, as `ContractTests` pins the other HTTP and CLI
/// shapes. The hub is `HubPagesTests`' fixture: one synced node with readings, notices, an
/// observation, memories with a mem0 API edit and a superseding version, and a reported clock.
@Suite struct HubContractTests {
    static let snapshots = ContractSnapshots(
        directory: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Contracts").path)

    @Test func hubAPIShapesMatchTheSnapshots() async throws {
        let (fixture, node) = try await HubPagesTests.hub()
        _ = try await fixture.store.database.hubSync.handshake(
            node: node, bootID: "garage-boot", monotonicNanoseconds: 0, incarnation: 1, clockQuality: .synced,
            clockOffset: .milliseconds(-300), reported: [:], streams: [], now: ServerFixture.now)
        let failures = try await HubPagesTests.live(fixture) { client in
            var failures: [String] = []
            func check(_ name: String, _ uri: String, method: HTTPRequest.Method = .get, body: String? = nil) async throws {
                try await client.execute(
                    uri: uri, method: method, headers: body == nil ? [:] : [.contentType: "application/json"],
                    body: body.map { ByteBuffer(string: $0) }
                ) { response in
                    #expect(response.status == .ok, "\(uri): \(response.text.prefix(300))")
                    let shape = try JSONShape(json: response.text)
                    if let mismatch = try Self.snapshots.mismatch(name, shape) {
                        failures.append("\(mismatch)\n--- \(name) now\n\(shape.rendered)")
                    }
                }
            }
            try await check("api-hub-nodes", "/api/v1/nodes")
            try await check("api-hub-home", "/api/v1/home")
            try await check("api-hub-compare", "/api/v1/compare?quantity=temperature&range=24h")
            try await check("api-hub-memories-explore", "/api/v1/memories/explore?q=edited")
            try await check("api-hub-thoughts", "/api/v1/thoughts")
            try await check("api-hub-ask", "/api/v1/ask", method: .post, body: #"{"question":"how warm is the garage?"}"#)
            try await check("api-hub-node-sync", "/api/v1/nodes/\(node.hex)/sync")
            return failures
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n\n"))")
    }
}
