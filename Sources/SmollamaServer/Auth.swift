import Foundation
import Hummingbird
import HTTPTypes
import SmollamaCore

/// The dashboard token's check, attached to a route group (pages, or the API and `/metrics`):
/// `Authorization: Bearer TOKEN`, or the HttpOnly session cookie the login form sets (a random
/// session id, `DashboardSessions`). With no token configured (loopback only,
/// `HTTPConfig.validate`) it passes requests whose `Host` is this machine's loopback name, and
/// refuses others: a web page elsewhere cannot reach a loopback dashboard by pointing a DNS
/// name at 127.0.0.1 (DNS rebinding). Other surfaces (mem0, sync) attach their own checks.
struct TokenMiddleware<Context: RequestContext>: RouterMiddleware {
    /// What a request without the token gets.
    enum Refusal: Sendable {
        /// A page: a GET is sent to the login form; anything else is a 401.
        case loginPage
        /// The JSON API and `/metrics`: always a 401 (`DashboardError.unauthorized`).
        case unauthorized
    }

    let token: String
    let sessions: DashboardSessions
    let now: @Sendable () -> UTCMillis
    let refusal: Refusal

    static var cookieName: String { "smollama_session" }

    func isAuthorized(_ request: Request) async -> Bool {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            return constantTimeEqual(String(header.dropFirst("Bearer ".count)), token)
        }
        if let cookie = request.cookies[Self.cookieName]?.value {
            return await sessions.isValid(cookie, now: now())
        }
        return false
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        if token.isEmpty {
            guard Self.isLoopbackHost(request.head.authority) else {
                throw DashboardError(status: .misdirectedRequest, message:
                                     "this dashboard has no http.token, so it answers only at 127.0.0.1 or localhost; "
                                     + "open it by that address, or set http.token")
            }
            return try await next(request, context)
        }
        if await isAuthorized(request) { return try await next(request, context) }
        guard refusal == .loginPage, request.method == .get else { throw DashboardError.unauthorized }
        return Response(status: .seeOther, headers: [.location: "/login"])
    }

    static func isLoopbackHost(_ authority: String?) -> Bool { isLoopbackAuthority(authority) }
}

/// `localhost`, `127.x.y.z` or `[::1]`, with or without a port (no Host at all: a client on
/// this machine speaking HTTP/1.0). What a surface without a token answers (the dashboard here,
/// the hub's `/mcp`): a web page elsewhere cannot reach it by pointing a DNS name at 127.0.0.1.
public func isLoopbackAuthority(_ authority: String?) -> Bool {
    guard let authority, !authority.isEmpty else { return true }
    var host = authority.lowercased()
    if host.hasPrefix("[") {
        host = String(host.prefix(while: { $0 != "]" })) + "]"
    } else if let colon = host.lastIndex(of: ":") {
        host = String(host[..<colon])
    }
    if host == "localhost" || host == "[::1]" { return true }
    let parts = host.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
}

/// Signed-in browsers: each login gets a random 256-bit session id (not derived from the token),
/// valid for `lifetime`, forgotten at sign-out and when the daemon restarts (sign in again).
/// Failed logins are throttled: after `failureLimit` in `failureWindow`, every login answers 429
/// until the window has passed, so the token cannot be guessed at network speed.
public actor DashboardSessions {
    public static let lifetime: Duration = .seconds(30 * 86_400)
    static let limit = 256
    static let failureLimit = 5
    static let failureWindow: Duration = .seconds(60)

    private var expiry: [String: UTCMillis] = [:]
    private var failures: [UTCMillis] = []

    public init() {}

    func create(now: UTCMillis) -> String {
        expiry = expiry.filter { $0.value > now }
        if expiry.count >= Self.limit, let oldest = expiry.min(by: { $0.value < $1.value })?.key {
            expiry[oldest] = nil
        }
        let id = NodeID.randomHex(bytes: 32)
        expiry[id] = now + Self.lifetime
        return id
    }

    func isValid(_ id: String, now: UTCMillis) -> Bool {
        guard let until = expiry[id] else { return false }
        guard until > now else {
            expiry[id] = nil
            return false
        }
        return true
    }

    func revoke(_ id: String) { expiry[id] = nil }

    /// How long until a login may be tried again; nil when it may now.
    func wait(now: UTCMillis) -> Duration? {
        failures = failures.filter { now - $0 < Self.failureWindow }
        guard failures.count >= Self.failureLimit, let first = failures.first else { return nil }
        return Self.failureWindow - (now - first)
    }

    func failed(now: UTCMillis) { failures.append(now) }
}

func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
    let a = Array(lhs.utf8), b = Array(rhs.utf8)
    var difference = UInt8(a.count == b.count ? 0 : 1)
    for index in 0..<min(a.count, b.count) { difference |= a[index] ^ b[index] }
    return difference == 0
}
