import Crypto
import Foundation
public import Hummingbird
import HTTPTypes

/// Errors shown over HTTP: a status and a sentence, never an internal detail.
public struct DashboardError: HTTPResponseError, Equatable {
    public var status: HTTPResponse.Status
    public var message: String

    public static func notFound(_ what: String) -> DashboardError { .init(status: .notFound, message: what) }
    public static func badRequest(_ what: String) -> DashboardError { .init(status: .badRequest, message: what) }
    public static let unauthorized = DashboardError(
        status: .unauthorized, message: "this dashboard needs the token set in http.token (Authorization: Bearer …)")

    struct Body: Encodable {
        struct Detail: Encodable {
            var status: Int
            var message: String
        }
        var error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try JSONEncoder().encode(Body(error: .init(status: status.code, message: message)))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"smollama\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Guards everything but the login form and the static assets when a token is configured:
/// `Authorization: Bearer TOKEN`, or the HttpOnly session cookie the login form sets. Pages
/// without either redirect to the login form; the API answers 401.
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String
    /// Path prefixes (ending in `/`) whose routes check their own credentials.
    var exemptPrefixes: [String] = []

    static var cookieName: String { "smollama_session" }

    /// The cookie holds a digest of the token, not the token itself.
    static func sessionValue(token: String) -> String {
        SHA256.hash(data: Data(("smollama-session:" + token).utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func isAuthorized(_ request: Request) -> Bool {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            return constantTimeEqual(String(header.dropFirst("Bearer ".count)), token)
        }
        if let cookie = request.cookies[Self.cookieName]?.value {
            return constantTimeEqual(cookie, Self.sessionValue(token: token))
        }
        return false
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let path = request.uri.path
        // `/sync/` requests are signed by each node's key and checked by the sync routes; the
        // extensions' prefixes (e.g. `/mem0/`) check their own keys.
        if token.isEmpty || path == "/login" || path.hasPrefix("/assets/") || path.hasPrefix("/sync/")
            || isAuthorized(request) || exemptPrefixes.contains(where: { path.hasPrefix($0) })
        {
            return try await next(request, context)
        }
        if path.hasPrefix("/api/") || path == "/metrics" || request.method != .get {
            throw DashboardError.unauthorized
        }
        return Response(status: .seeOther, headers: [.location: "/login"])
    }
}

func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
    let a = Array(lhs.utf8), b = Array(rhs.utf8)
    var difference = UInt8(a.count == b.count ? 0 : 1)
    for index in 0..<min(a.count, b.count) { difference |= a[index] ^ b[index] }
    return difference == 0
}
