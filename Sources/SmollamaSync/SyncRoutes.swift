public import Hummingbird
import NIOCore

/// Mounts the hub's sync endpoints (`POST /sync/v1/…`) on the dashboard's router. Bodies are
/// capped before they are read; everything else is `SyncHub.handle`.
public struct SyncRoutes: Sendable {
    public let hub: SyncHub

    public init(hub: SyncHub) { self.hub = hub }

    public func register(on router: Router<BasicRequestContext>) {
        for path in SyncProtocol.Path.all {
            router.post(RouterPath(path)) { request, _ -> Response in
                var request = request
                let buffer: ByteBuffer
                do {
                    buffer = try await request.collectBody(upTo: SyncProtocol.maxBodyBytes)
                } catch {
                    return Self.response(SyncHub.failure(SyncRefusal(
                        413, "too_large", "the body is larger than \(SyncProtocol.maxBodyBytes) bytes; send smaller batches")))
                }
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName] = field.value }
                let answer = await hub.handle(SyncHTTPRequest(path: path, headers: headers, body: Array(buffer: buffer)))
                return Self.response(answer)
            }
        }
    }

    static func response(_ answer: SyncHTTPResponse) -> Response {
        Response(status: .init(code: answer.status), headers: [.contentType: "application/json; charset=utf-8"],
                 body: .init(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}
