import Foundation
import Hummingbird
import HummingbirdTesting
import SmollamaCore
@testable import SmollamaServer
import SmollamaStore
import SmollamaTesting
import Testing

@Suite struct SecurityTests {
    static let token = "0123456789abcdef-test-token"

    @Test func hostileNamesAndLogTextRenderInert() async throws {
        let fixture = try await ServerFixture(nodeName: "node " + ServerFixture.evil, role: "llama")
        try await fixture.test { client in
            for path in ["/", "/sensors", "/log", "/nodes/\(fixture.store.node.hex)", "/thoughts", "/memories",
                         "/log?q=" + "%3Cscript%3E%22", "/log?subject=%22%3E%3Cscript%3E"] {
                try await client.execute(uri: path, method: .get) { response in
                    let page = response.text
                    #expect(!page.contains("<script>alert"), "\(path)")
                    #expect(!page.contains("\"><b>"), "\(path)")
                    #expect(!page.contains("\"><script>"), "\(path)")
                    // The only script element is the embedded file.
                    #expect(page.components(separatedBy: "<script").count == 2, "\(path)")
                }
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.text.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;"))
            }
        }
    }

    @Test func escapeCoversTextAndAttributes() {
        #expect(HTML.escape(#"<a href="x" onclick='y'>&</a>"#)
                == "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
        let name = "\"><img src=x onerror=alert(1)>"
        let html: HTML = "<a title=\"\(name)\">\(name)</a>"
        #expect(!html.raw.contains("<img"))
        #expect(html.raw.hasPrefix("<a title=\"&quot;&gt;"))
    }

    @Test func publicBindWithoutTokenRefusesToStart() throws {
        #expect(throws: HTTPConfigError.tokenRequired(host: "0.0.0.0")) {
            try HTTPConfig(host: "0.0.0.0", port: 8080).validate()
        }
        #expect(throws: HTTPConfigError.tokenTooShort) {
            try HTTPConfig(host: "0.0.0.0", port: 8080, token: "short").validate()
        }
        try HTTPConfig(host: "127.0.0.1").validate()
        try HTTPConfig(host: "::1").validate()
        try HTTPConfig(host: "0.0.0.0", token: Self.token).validate()
        #expect(HTTPConfigError.tokenRequired(host: "0.0.0.0").description.contains("http.token"))
    }

    @Test func buildApplicationRefusesPublicBindWithoutToken() async throws {
        let fixture = try await ServerFixture(http: HTTPConfig(host: "0.0.0.0", port: 0))
        #expect(throws: HTTPConfigError.self) { _ = try fixture.app() }
    }

    @Test func tokenGuardsEverythingButLoginAndAssets() async throws {
        let fixture = try await ServerFixture(http: HTTPConfig(host: "0.0.0.0", port: 0, token: Self.token))
        try await fixture.test { client in
            for path in ["/api/v1/status", "/api/v1/nodes", "/api/v1/sensors", "/api/v1/log", "/api/v1/live/log",
                         "/metrics", "/api/v1/series?sensor=shed.motion"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .unauthorized, "\(path)")
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                    #expect(!response.text.contains(Self.token))
                }
            }
            try await client.execute(uri: "/api/v1/status", method: .get,
                                     headers: [.authorization: "Bearer wrong-token-wrong-token"]) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/api/v1/status", method: .get,
                                     headers: [.authorization: "Bearer \(Self.token)"]) { response in
                #expect(response.status == .ok)
            }
            for path in ["/", "/sensors", "/log"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .seeOther)
                    #expect(response.headers[.location] == "/login")
                }
            }
            try await client.execute(uri: "/assets/app.css", method: .get) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/login", method: .get) { response in
                #expect(response.status == .ok)
                #expect(!response.text.contains(Self.token))
            }
            try await client.execute(uri: "/logout", method: .post) { response in
                #expect(response.status == .unauthorized)  // no state change without the token
            }
        }
    }

    /// Whatever a handler throws, the dashboard answers its one envelope, without internals.
    @Test func failuresAnswerTheDashboardEnvelope() async throws {
        struct Internal: Error { var secret = "/var/lib/smollama/db.sqlite is locked" }
        let router = Router(context: BasicRequestContext.self)
        let api = router.group("/api/v1").add(middleware: DashboardError.failures)
        api.get("/broken") { _, _ -> String in throw Internal() }
        api.get("/teapot") { _, _ -> String in throw HTTPError(.badRequest, message: "send a sensor") }
        try await Application(router: router, logger: .quiet).test(.router) { client in
            try await client.execute(uri: "/api/v1/broken", method: .get) { response in
                #expect(response.status == .internalServerError)
                #expect(response.text.contains(#""status":500"#) && response.text.contains("log"))
                #expect(!response.text.contains("sqlite"))
            }
            try await client.execute(uri: "/api/v1/teapot", method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(response.text == #"{"error":{"message":"send a sensor","status":400}}"#
                        || response.text == #"{"error":{"status":400,"message":"send a sensor"}}"#, "\(response.text)")
            }
        }
    }

    @Test func loginFormSetsHttpOnlyCookie() async throws {
        let fixture = try await ServerFixture(http: HTTPConfig(host: "0.0.0.0", port: 0, token: Self.token))
        try await fixture.test { client in
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            try await client.execute(uri: "/login", method: .post, headers: form,
                                     body: ByteBuffer(string: "token=nope")) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.setCookie] == nil)
                #expect(response.text.contains("not right"))
            }
            let cookie = try await client.execute(uri: "/login", method: .post, headers: form,
                                                  body: ByteBuffer(string: "token=\(Self.token)")) { response in
                #expect(response.status == .seeOther)
                let setCookie = try #require(response.headers[.setCookie])
                #expect(setCookie.contains("HttpOnly"))
                #expect(setCookie.contains("SameSite=Strict"))
                #expect(!setCookie.contains(Self.token))
                return String(setCookie.split(separator: ";")[0])
            }
            try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("Sign out"))
                #expect(!response.text.contains(Self.token))
            }
            try await client.execute(uri: "/api/v1/status", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok)
            }
        }
    }

    /// A node behind `token` whose clock the test moves.
    static func tokenFixtureWithClock() async throws -> (ServerFixture, TestClockSource) {
        var fixture = try await ServerFixture(http: HTTPConfig(host: "0.0.0.0", port: 0, token: Self.token))
        let clock = TestClockSource(wall: ServerFixture.now.rawValue)
        fixture.environment.now = { UTCMillis(rawValue: clock.wallMilliseconds()) }
        return (fixture, clock)
    }

    /// Issue 18: the session cookie was a fixed hash of the token (never expiring, not revocable,
    /// the same for every browser). Now each login gets a random session that sign-out revokes and
    /// that expires; the token itself still works as a bearer.
    @Test func sessionsAreRandomRevocableAndExpire() async throws {
        let (fixture, now) = try await Self.tokenFixtureWithClock()
        try await fixture.test { client in
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            func login() async throws -> String {
                try await client.execute(uri: "/login", method: .post, headers: form,
                                         body: ByteBuffer(string: "token=\(Self.token)")) { response in
                    #expect(response.status == .seeOther)
                    return String(try #require(response.headers[.setCookie]).split(separator: ";")[0])
                }
            }
            func status(_ cookie: String) async throws -> HTTPResponse.Status {
                try await client.execute(uri: "/api/v1/status", method: .get, headers: [.cookie: cookie]) { $0.status }
            }
            let first = try await login(), second = try await login()
            #expect(first != second, "a session per login")
            #expect(try await status(first) == .ok)
            #expect(try await status(second) == .ok)
            try await client.execute(uri: "/logout", method: .post, headers: [.cookie: first]) { response in
                #expect(response.status == .seeOther)
            }
            #expect(try await status(first) == .unauthorized, "signed out: revoked")
            #expect(try await status(second) == .ok, "the other browser stays signed in")
            now.advance(milliseconds: (DashboardSessions.lifetime + .seconds(1)).wholeMilliseconds)
            #expect(try await status(second) == .unauthorized, "expired")
            #expect(try await status("smollama_session=guess") == .unauthorized)
        }
    }

    /// Issue 18: the login form could be tried at network speed.
    @Test func failedLoginsAreThrottled() async throws {
        let (fixture, now) = try await Self.tokenFixtureWithClock()
        try await fixture.test { client in
            let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            func login(_ token: String) async throws -> (HTTPResponse.Status, String?) {
                try await client.execute(uri: "/login", method: .post, headers: form,
                                         body: ByteBuffer(string: "token=\(token)")) { ($0.status, $0.headers[.retryAfter]) }
            }
            for _ in 0..<5 { #expect(try await login("wrong").0 == .unauthorized) }
            let refused = try await login(Self.token)
            #expect(refused.0 == .tooManyRequests && refused.1 == "60", "even the right token waits: \(refused)")
            now.advance(milliseconds: 61_000)
            #expect(try await login(Self.token).0 == .seeOther)
        }
    }

    /// Issue 18: with no token (loopback only), a page elsewhere could still read the dashboard
    /// through a DNS name it points at 127.0.0.1 (DNS rebinding): only loopback Host names pass.
    @Test func withoutATokenOnlyLoopbackHostNamesAreAnswered() async throws {
        let fixture = try await ServerFixture()
        try await fixture.app().test(.live) { client in
            let port = try #require(client.port)
            for host in ["127.0.0.1:\(port)", "localhost:\(port)", "[::1]:\(port)", "localhost"] {
                let reply = try rawHTTP(port: port, "GET /api/v1/status HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n")
                #expect(reply.hasPrefix("HTTP/1.1 200"), "\(host): \(reply.prefix(80))")
            }
            for host in ["attacker.example", "attacker.example:\(port)", "127.0.0.1.attacker.example", "192.168.1.9"] {
                let reply = try rawHTTP(port: port, "GET /api/v1/status HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n")
                #expect(reply.hasPrefix("HTTP/1.1 421"), "\(host): \(reply.prefix(80))")
                #expect(reply.contains("http.token"))
            }
        }
    }
}
