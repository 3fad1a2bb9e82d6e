import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bare TCP connection to a loopback server: it sends a request head (and as much body as a
/// test wants, possibly none of what it declared) and reads the response head with a timeout.
/// HTTP clients always send the whole body; a stranger on the LAN does not have to.
public final class RawConnection {
    let fd: Int32

    public struct Failed: Error, CustomStringConvertible { public var description: String }

    /// To the port of `url` (`http://127.0.0.1:PORT`) on loopback.
    public convenience init(url: String) throws {
        guard let port = url.split(separator: ":").last.flatMap({ Int($0) }) else { throw Failed(description: "no port in \(url)") }
        try self.init(port: port)
    }

    public init(port: Int) throws {
        guard let port = UInt16(exactly: port) else { throw Failed(description: "\(port) is not a port") }
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failed(description: "socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // (No close here: a class whose init throws once `fd` is set still runs `deinit`.)
        guard connected == 0 else { throw Failed(description: "connect() to port \(port) failed") }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Sends a POST head with these headers and `Content-Length: declared`, then `body`.
    public func post(_ path: String, headers: [String: String] = [:], declared: Int, body: [UInt8] = []) {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(declared)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let bytes = Array(head.utf8) + body
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends `text` as it is (a whole request of the test's making).
    public func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Everything the server sends until it closes the connection or `timeout` passes.
    public func readAll(timeout: Duration = .seconds(10)) -> String {
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) >= 0 else { break }
            guard poller.revents != 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += buffer.prefix(count)
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// The response's status line and headers, or nil when none came within `timeout`.
    public func responseHead(timeout: Duration = .seconds(3)) -> String? {
        var received: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = deadline - ContinuousClock.now
            let ready = poll(&poller, 1, Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
            guard ready > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += buffer.prefix(count)
            let text = String(decoding: received, as: UTF8.self)
            if let end = text.range(of: "\r\n\r\n") { return String(text[..<end.lowerBound]) }
        }
        return nil
    }
}

/// The status code of a response head (`HTTP/1.1 503 Service Unavailable` → 503).
public func status(of head: String?) -> Int? {
    head.flatMap { $0.split(separator: " ").dropFirst().first.flatMap { Int($0) } }
}
