import Foundation

/// A port the kernel just handed out on loopback (bound, then released), for a server a test
/// starts. Another process could take it in between; the kernel rarely reuses one that soon.
public func freeLoopbackPort() -> Int { freePort(type: SOCK_STREAM) }

/// A UDP port the kernel just handed out on loopback (for an mDNS responder a test starts).
public func freeUDPPort() -> Int { freePort(type: SOCK_DGRAM) }

func freePort(type: __socket_type) -> Int {
    let fd = socket(AF_INET, Int32(type.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    precondition(bound, "no free loopback port: is the loopback interface up?")
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Sends `request` (raw HTTP/1.1 text, e.g. with a `Host` of the test's choosing) to a server on
/// loopback `port` and returns what came back until the server closed or `timeout` passed.
/// For what an HTTP client library will not send (a forged Host, a malformed line).
public func rawHTTP(port: Int, _ request: String, timeout: Duration = .seconds(10)) throws -> String {
    let connection = try RawConnection(port: port)
    connection.send(request)
    return connection.readAll(timeout: timeout)
}
