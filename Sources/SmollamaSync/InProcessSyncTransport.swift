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
            switch request.path {
            case SyncProtocol.Path.time: return SyncHTTPResponse(status: 200, body: try SyncJSON.encode(try hub.time()))
            case SyncProtocol.Path.enroll: return SyncHTTPResponse(status: 200, body: try SyncJSON.encode(try await hub.enroll(body: request.body)))
            case SyncProtocol.Path.handshake:
                let verified = try await hub.verify(request)
                return try hub.signedReply(try await hub.handshake(verified), to: verified)
            case SyncProtocol.Path.push:
                let verified = try await hub.verify(request)
                return try hub.signedReply(try await hub.push(verified), to: verified)
            case SyncProtocol.Path.pull:
                let verified = try await hub.verify(request)
                return try hub.signedReply(try await hub.pull(verified), to: verified)
            default:
                throw SyncRefusal(404, "not_found", "no sync endpoint \(request.path); the hub serves \(SyncProtocol.Path.all.joined(separator: ", "))")
            }
        } catch {
            let refusal = hub.refusal(for: error, path: request.path)
            return SyncHTTPResponse(status: refusal.status.code, body: refusal.body)
        }
    }
}
