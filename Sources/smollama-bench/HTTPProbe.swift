import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The benches' HTTP client for page timings: one keep-alive HTTP/1.1 connection over a blocking
/// loopback socket, run on its own thread, so what is timed is the server (and the kernel's
/// loopback), not a client framework. The same loop times ours and the Python reference.
final class HTTPProbe {
    let host: String
    let port: UInt16
    private var fd: Int32 = -1
    private var pending: [UInt8] = []

    struct Response {
        var status: Int
        var bodyBytes: Int
        var head: String
    }

    init(url: String) throws {
        // http://127.0.0.1:PORT (no path)
        guard let components = URLComponents(string: url), let host = components.host, let port = components.port,
              let value = UInt16(exactly: port)
        else { throw BenchError("give a URL like http://127.0.0.1:8000, not \(url)") }
        self.host = host
        self.port = value
    }

    deinit { if fd >= 0 { close(fd) } }

    private func connectIfNeeded() throws {
        guard fd < 0 else { return }
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw BenchError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr(host == "localhost" ? "127.0.0.1" : host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(socketFD)
            throw BenchError("cannot connect to \(host):\(port)")
        }
        var one: Int32 = 1
        setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        fd = socketFD
        pending = []
    }

    private func reconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// One GET on the kept-alive connection; reads the whole body (Content-Length or chunked).
    /// A server that closed the idle connection (uvicorn does after 5 s) gets the request again
    /// on a new one.
    func get(_ path: String) throws -> Response {
        do {
            return try attempt(path)
        } catch let error as BenchError where error.description.hasSuffix("closed the connection") {
            return try attempt(path)
        }
    }

    private func attempt(_ path: String) throws -> Response {
        try connectIfNeeded()
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nAccept-Encoding: identity\r\n\r\n".utf8)
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else {
            reconnect()
            throw BenchError("send to \(host):\(port) failed")
        }
        let headEnd = try readUntilHeadEnd()
        let head = String(decoding: pending[..<headEnd], as: UTF8.self)
        pending.removeFirst(headEnd + 4)
        let lines = head.split(separator: "\r\n")
        guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1])
        else { throw BenchError("no status line from \(path)") }
        var length: Int?
        var chunked = false
        var closes = false
        for line in lines.dropFirst() {
            let lower = line.lowercased()
            if lower.hasPrefix("content-length:") { length = Int(lower.dropFirst(15).trimmingCharacters(in: .whitespaces)) }
            if lower.hasPrefix("transfer-encoding:"), lower.contains("chunked") { chunked = true }
            if lower.hasPrefix("connection:"), lower.contains("close") { closes = true }
        }
        var body = 0
        if chunked {
            body = try readChunked()
        } else if let length {
            try fill(length)
            pending.removeFirst(length)
            body = length
        }
        if closes { reconnect() }
        return Response(status: status, bodyBytes: body, head: head)
    }

    private func receive() throws {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else {
            reconnect()
            throw BenchError("\(host):\(port) closed the connection")
        }
        pending.append(contentsOf: buffer[..<count])
    }

    private func fill(_ count: Int) throws {
        while pending.count < count { try receive() }
    }

    private func readUntilHeadEnd() throws -> Int {
        var searchFrom = 0
        while true {
            if pending.count >= 4 {
                var index = max(0, searchFrom - 3)
                while index + 3 < pending.count {
                    if pending[index] == 13, pending[index + 1] == 10, pending[index + 2] == 13, pending[index + 3] == 10 {
                        return index
                    }
                    index += 1
                }
                searchFrom = pending.count
            }
            try receive()
        }
    }

    private func readLine() throws -> String {
        while true {
            if let index = pending.indices.dropLast().first(where: { pending[$0] == 13 && pending[$0 + 1] == 10 }) {
                let line = String(decoding: pending[..<index], as: UTF8.self)
                pending.removeFirst(index + 2)
                return line
            }
            try receive()
        }
    }

    private func readChunked() throws -> Int {
        var total = 0
        while true {
            let sizeLine = try readLine()
            guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else {
                throw BenchError("bad chunk size '\(sizeLine)'")
            }
            if size == 0 {
                _ = try readLine()
                return total
            }
            try fill(size + 2)
            pending.removeFirst(size + 2)
            total += size
        }
    }
}

/// Runs blocking work on a thread of its own (not the concurrency pool the server's handlers use).
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
}

/// p50 and p95 of millisecond samples.
struct Percentiles: Codable, Sendable {
    var p50: Double
    var p95: Double

    init(_ samples: [Double]) {
        let sorted = samples.sorted()
        p50 = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        p95 = sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * 95 / 100)]
    }
}
