public import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOCore
import NIOHTTP1

/// Retries for transient failures: connection refused/reset before a reply started, HTTP 503
/// (model loading, queue full) and 429. Delays grow exponentially with full jitter.
public struct RetryPolicy: Sendable, Hashable {
    /// Total attempts, including the first.
    public var attempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(attempts: Int = 4, baseDelay: Duration = .milliseconds(250), maxDelay: Duration = .seconds(4)) {
        self.attempts = max(1, attempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public static let none = RetryPolicy(attempts: 1)

    /// The delay before retry number `retry` (1-based): uniform in [base·2^(retry-1) / 2, base·2^(retry-1)], capped.
    public func delay(beforeRetry retry: Int) -> Duration {
        let exponent = min(max(retry - 1, 0), 16)
        let ceiling = min(baseDelay * (1 << exponent), maxDelay)
        let ms = Double(ceiling.components.seconds) * 1000 + Double(ceiling.components.attoseconds) / 1e15
        return .milliseconds(Int64(ms * Double.random(in: 0.5...1.0)))
    }
}

/// The HTTP client every LLM client uses unless given another: a short connect timeout so an
/// absent runtime is reported in seconds, not after the 90 s of `HTTPClient.shared`.
/// It lives for the whole process (a global is never deinitialised, so it needs no shutdown).
public let llmHTTPClient: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.timeout = .init(connect: .seconds(3), read: nil)
    configuration.connectionPool = .init(idleTimeout: .seconds(30))
    // A refused connection fails the request at once (our own retry policy decides what next);
    // the pool's default retries it with back-off until the request's deadline (~9 s per URL
    // for `smollama status` with no runtime running, measured).
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.decompression = .disabled
    return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
}()

/// Sends requests to one runtime, with retries, timeouts and errors mapped to `LLMError`.
struct HTTPTransport: Sendable {
    let baseURL: String
    let backend: LLMBackend
    let client: HTTPClient
    let retry: RetryPolicy
    let timeout: Duration
    let logger: Logger
    let headers: [(String, String)]

    init(baseURL: String, backend: LLMBackend, client: HTTPClient, retry: RetryPolicy, timeout: Duration, logger: Logger, apiKey: String? = nil) {
        var url = baseURL
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.backend = backend
        self.client = client
        self.retry = retry
        self.timeout = timeout
        self.logger = logger
        var headers = [("Content-Type", "application/json"), ("Accept", "application/json, application/x-ndjson, text/event-stream")]
        if let apiKey, !apiKey.isEmpty { headers.append(("Authorization", "Bearer \(apiKey)")) }
        self.headers = headers
    }

    func url(_ path: String) -> String { baseURL + path }

    /// Sends a request and collects the whole body. Non-2xx statuses become errors via `mapStatus`.
    func send(_ method: HTTPMethod, _ path: String, json: Data? = nil, timeout: Duration? = nil, maxBytes: Int = 64 << 20) async throws -> Data {
        let response = try await open(method, path, json: json, timeout: timeout)
        do {
            let buffer = try await response.body.collect(upTo: maxBytes)
            return Data(buffer.readableBytesView)
        } catch {
            throw classify(error, path: path, afterResponseStarted: true, timeout: timeout ?? self.timeout)
        }
    }

    /// Sends a request and returns the response once its head arrived with a 2xx status; the
    /// body is read by the caller (streams). Retries transient failures before the head.
    func open(_ method: HTTPMethod, _ path: String, json: Data? = nil, timeout: Duration? = nil) async throws -> HTTPClientResponse {
        let effectiveTimeout = timeout ?? self.timeout
        let deadline = NIODeadline.now() + .nanoseconds(effectiveTimeout.nanoseconds)
        var attempt = 0
        while true {
            attempt += 1
            var request = HTTPClientRequest(url: url(path))
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let json { request.body = .bytes(ByteBuffer(bytes: json)) }
            var failure: LLMError
            do {
                let response = try await client.execute(request, deadline: deadline, logger: logger)
                let status = Int(response.status.code)
                if (200..<300).contains(status) { return response }
                let body = (try? await response.body.collect(upTo: 1 << 20)).map { String(buffer: $0) } ?? ""
                failure = mapStatus(status, body: body, path: path)
                guard status == 503 || status == 429, attempt < retry.attempts else { throw failure }
            } catch let error as LLMError {
                throw error
            } catch {
                if error is CancellationError || Task.isCancelled { throw CancellationError() }
                failure = classify(error, path: path, afterResponseStarted: false, timeout: effectiveTimeout)
                guard case .unreachable = failure, attempt < retry.attempts else {
                    if case .connectionLost = failure, attempt < retry.attempts {
                        // A reset before the head: the runtime restarted under us. Retry.
                        try await pause(attempt, failure, path)
                        continue
                    }
                    throw failure
                }
            }
            try await pause(attempt, failure, path)
        }
    }

    private func pause(_ attempt: Int, _ failure: LLMError, _ path: String) async throws {
        let delay = retry.delay(beforeRetry: attempt)
        logger.debug(
            "llm request failed, retrying",
            metadata: [
                "smollama.llm.url": "\(url(path))", "smollama.llm.attempt": "\(attempt)",
                "smollama.llm.delay": "\(delay)", "smollama.llm.error": "\(failure)",
            ])
        try await Task.sleep(for: delay)
    }

    /// Maps a non-2xx status and its body to an error.
    func mapStatus(_ status: Int, body: String, path: String) -> LLMError {
        let message = Self.errorMessage(in: body) ?? body
        let lower = message.lowercased()
        if status == 404 && (lower.contains("model") || lower.contains("not found")) && path != "/health" {
            if let model = Self.quotedModel(in: message) {
                return .modelNotFound(model: model, backend: backend)
            }
        }
        if status == 503 {
            return lower.contains("loading") ? .loading(url: url(path)) : .busy(url: url(path), status: status)
        }
        if status == 429 { return .busy(url: url(path), status: status) }
        return .http(url: url(path), status: status, message: message)
    }

    /// `{"error":"..."}` (Ollama) or `{"error":{"message":"..."}}` (OpenAI, llama-server).
    static func errorMessage(in body: String) -> String? {
        guard let value = try? JSONValue(parsing: body) else { return nil }
        if let text = value["error"]?.stringValue { return text }
        if let text = value["error"]?["message"]?.stringValue { return text }
        if let text = value["message"]?.stringValue { return text }
        return nil
    }

    /// `model 'x' not found` / `model "x" not found`.
    static func quotedModel(in message: String) -> String? {
        for quote in ["'", "\"", "`"] {
            let parts = message.components(separatedBy: quote)
            if parts.count >= 3, !parts[1].isEmpty { return parts[1] }
        }
        return nil
    }

    /// Maps a transport error to an `LLMError`.
    func classify(_ error: any Error, path: String, afterResponseStarted: Bool, timeout: Duration) -> LLMError {
        if let llm = error as? LLMError { return llm }
        let text = String(describing: error)
        if let http = error as? HTTPClientError {
            switch http {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return .timeout(url: url(path), after: timeout)
            case .connectTimeout, .getConnectionFromPoolTimeout:
                return .unreachable(url: url(path), backend: backend, underlying: "connect timed out")
            case .remoteConnectionClosed, .uncleanShutdown, .bodyLengthMismatch:
                return .connectionLost(url: url(path), underlying: text)
            default:
                break
            }
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL:
                return .unreachable(url: url(path), backend: backend, underlying: "connection refused")
            case ECONNRESET, EPIPE, ECONNABORTED:
                return afterResponseStarted
                    ? .connectionLost(url: url(path), underlying: "connection reset")
                    : .connectionLost(url: url(path), underlying: "connection reset before the reply")
            default:
                break
            }
        }
        let lower = text.lowercased()
        if lower.contains("refused") || lower.contains("connectionerror") || lower.contains("connect") && !afterResponseStarted {
            return .unreachable(url: url(path), backend: backend, underlying: "connection refused")
        }
        if lower.contains("reset") || lower.contains("closed") || lower.contains("eof") {
            return .connectionLost(url: url(path), underlying: text)
        }
        return afterResponseStarted
            ? .connectionLost(url: url(path), underlying: text)
            : .unreachable(url: url(path), backend: backend, underlying: text)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}

/// Reads a response body line by line (NDJSON and SSE are both line-framed).
struct LineReader {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private var buffer: [UInt8] = []
    private var exhausted = false
    /// Everything read so far, kept for diagnostics (bounded).
    private(set) var received = ""

    init(_ body: HTTPClientResponse.Body) {
        iterator = body.makeAsyncIterator()
    }

    /// The next line without its terminator, or nil at the end of the body. A final line with no
    /// newline is returned too (the caller decides whether that is a truncation).
    mutating func nextLine() async throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<newline])
                buffer.removeSubrange(...newline)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                let text = String(decoding: line, as: UTF8.self)
                if received.count < 4096 { received += text + "\n" }
                return text
            }
            if exhausted {
                guard !buffer.isEmpty else { return nil }
                let text = String(decoding: buffer, as: UTF8.self)
                buffer.removeAll()
                if received.count < 4096 { received += text }
                return text
            }
            if let chunk = try await iterator.next() {
                buffer.append(contentsOf: chunk.readableBytesView)
            } else {
                exhausted = true
            }
        }
    }
}
