public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP client sync uses: short connect timeout, so an absent hub is noticed in seconds.
/// A global lives for the whole process and needs no shutdown.
public let syncHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.timeout = .init(connect: .seconds(3), read: .seconds(60))
    configuration.connectionPool = .init(idleTimeout: .seconds(30))
    // A refused connection fails the request at once (our own retry policy decides what next);
    // the pool's default retries it with back-off until the request's deadline (~9 s per URL
    // for `smollama status` with no runtime running, measured).
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.decompression = .disabled
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()

/// Sync over HTTP(S) to the hub's `/sync/v1/…` routes.
public struct HTTPSyncTransport: SyncTransport {
    public let baseURL: String
    let client: HTTPClient
    let timeout: Duration

    public init(baseURL: String, client: HTTPClient = syncHTTPClient, timeout: Duration = .seconds(60)) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.client = client
        self.timeout = timeout
    }

    public func send(_ request: SyncHTTPRequest) async throws -> SyncHTTPResponse {
        var http = HTTPClientRequest(url: baseURL + request.path)
        http.method = .POST
        http.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in request.headers { http.headers.add(name: name, value: value) }
        http.body = .bytes(ByteBuffer(bytes: request.body))
        let seconds = timeout.components.seconds
        let response = try await client.execute(http, timeout: .seconds(seconds))
        let body = try await response.body.collect(upTo: 64 << 20)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return SyncHTTPResponse(status: Int(response.status.code), body: Array(buffer: body), headers: headers)
    }
}
