public import Hummingbird
import Foundation
import HTTPTypes

/// Every error the hub returns: a status, a stable code and a sentence saying what to do.
public struct SyncErrorBody: Codable, Sendable, Hashable {
    public struct Detail: Codable, Sendable, Hashable {
        public var status: Int
        public var code: String
        public var message: String
    }
    public var error: Detail
}

/// A refusal by the hub: the sync surface's one error envelope. Handlers throw it and
/// Hummingbird answers it as `{"error": {"status", "code", "message"}}` (`SyncErrorBody`); the
/// in-process transport (`SyncHub.handle`) answers the same bytes.
public struct SyncRefusal: HTTPResponseError, Hashable, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// Seconds to wait before retrying, sent as `Retry-After` (the hub is busy).
    public var retryAfter: Int?

    /// The HTTP status as a number (401: an unknown key or a bad signature; 403: revoked).
    public var statusCode: Int { status.code }

    public init(_ status: Int, _ code: String, _ message: String, retryAfter: Int? = nil) {
        self.status = HTTPResponse.Status(code: status)
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(message) (\(code), HTTP \(status.code))" }

    static func bad(_ message: String) -> SyncRefusal { .init(400, "bad_request", message) }
    static func unauthorized(_ code: String, _ message: String) -> SyncRefusal { .init(401, code, message) }
    static func forbidden(_ code: String, _ message: String) -> SyncRefusal { .init(403, code, message) }
    static let tooLarge = SyncRefusal(
        413, "too_large", "the body is larger than \(SyncProtocol.maxBodyBytes) bytes; send smaller batches")
    static let publicTooLarge = SyncRefusal(
        413, "too_large", "time and enroll requests carry at most \(SyncProtocol.maxPublicBodyBytes) bytes")
    static let busy = SyncRefusal(
        503, "busy", "the hub is serving \(SyncProtocol.maxConcurrentRequests) sync requests already; retry in \(SyncProtocol.retryAfterSeconds) s",
        retryAfter: SyncProtocol.retryAfterSeconds)

    /// The JSON body of this refusal.
    var body: [UInt8] {
        let body = SyncErrorBody(error: .init(status: status.code, code: code, message: message))
        return (try? SyncJSON.encode(body)) ?? Array(message.utf8)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
