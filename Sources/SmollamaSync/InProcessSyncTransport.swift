import HTTPTypes

/// The hub without HTTP: a transport that hands each request to the hub's operations in the
/// same process (the sync simulation, the service tests, the benchmarks). It does what the
/// routes in `SyncRoutes` do, path by path, and answers the same bytes and statuses; over the
/// network the routes are the only way in.
public struct InProcessSyncTransport: SyncTransport {
    public let hub: SyncHub

    public init(hub: SyncHub) { self.hub = hub }

    /// Never throws: every failure becomes a 4xx/5xx with a sentence, as over HTTP.
    public func send(_ request: SyncHTTPRequest) async -> SyncHTTPResponse {
        do {
            guard request.body.count <= SyncProtocol.maxBodyBytes else {
                throw SyncRefusal(413, "too_large",
                                  "the body is \(request.body.count) bytes; the hub accepts at most \(SyncProtocol.maxBodyBytes): send smaller batches")
            }
            if [SyncProtocol.Path.time, SyncProtocol.Path.enroll].contains(request.path),
               request.body.count > SyncProtocol.maxPublicBodyBytes {
                throw SyncRefusal.publicTooLarge
            }
            let body: [UInt8]
            switch request.path {
            case SyncProtocol.Path.time: body = try SyncJSON.encode(try hub.time())
            case SyncProtocol.Path.enroll: body = try SyncJSON.encode(try await hub.enroll(body: request.body))
            case SyncProtocol.Path.handshake: body = try SyncJSON.encode(try await hub.handshake(try await hub.verify(request)))
            case SyncProtocol.Path.push: body = try SyncJSON.encode(try await hub.push(try await hub.verify(request)))
            case SyncProtocol.Path.pull: body = try SyncJSON.encode(try await hub.pull(try await hub.verify(request)))
            default:
                throw SyncRefusal(404, "not_found", "no sync endpoint \(request.path); the hub serves \(SyncProtocol.Path.all.joined(separator: ", "))")
            }
            return SyncHTTPResponse(status: 200, body: body)
        } catch {
            let refusal = hub.refusal(for: error, path: request.path)
            return SyncHTTPResponse(status: refusal.status.code, body: refusal.body)
        }
    }
}
