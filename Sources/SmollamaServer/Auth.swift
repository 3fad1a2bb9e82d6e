import Crypto
import Foundation
import Hummingbird
import HTTPTypes

/// The dashboard token's check, attached to a route group (pages, or the API and `/metrics`):
/// `Authorization: Bearer TOKEN`, or the HttpOnly session cookie the login form sets. Passes
/// everything when no token is configured (loopback only, `HTTPConfig.validate`). Other
/// surfaces (mem0, sync) attach their own checks to their own groups.
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    /// What a request without the token gets.
    enum Refusal: Sendable {
        /// A page: a GET is sent to the login form; anything else is a 401.
        case loginPage
        /// The JSON API and `/metrics`: always a 401 (`DashboardError.unauthorized`).
        case unauthorized
    }

    let token: String
    let refusal: Refusal

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
        if token.isEmpty || isAuthorized(request) { return try await next(request, context) }
        guard refusal == .loginPage, request.method == .get else { throw DashboardError.unauthorized }
        return Response(status: .seeOther, headers: [.location: "/login"])
    }
}

func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
    let a = Array(lhs.utf8), b = Array(rhs.utf8)
    var difference = UInt8(a.count == b.count ? 0 : 1)
    for index in 0..<min(a.count, b.count) { difference |= a[index] ^ b[index] }
    return difference == 0
}
