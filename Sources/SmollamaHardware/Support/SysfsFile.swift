import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads sysfs attributes the way the kernel serves them: one `open` + `read` per value, with
/// the errno kept (sysfs reports a failed sensor read as EIO from `read`, not as file content).
enum SysfsFile {
    enum ReadError: Error, Hashable, Sendable {
        /// The file or its directory does not exist (device unplugged, driver unloaded).
        case missing(path: String)
        /// `open` or `read` failed with this errno (EIO: the sensor did not answer this time).
        case failed(path: String, OSError)

        var path: String {
            switch self {
            case .missing(let path), .failed(let path, _): path
            }
        }

        var isTransient: Bool {
            if case .failed(_, let error) = self { return error.code == EIO || error.code == ETIMEDOUT || error.code == EAGAIN }
            return false
        }
    }

    /// The attribute's text, without the trailing newline.
    static func read(_ path: String) throws(ReadError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let error = OSError.current
            if error.code == ENOENT || error.code == ENOTDIR || error.code == ENODEV { throw .missing(path: path) }
            throw .failed(path: path, error)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc_read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                let error = OSError.current
                if error.code == EINTR { continue }
                if error.code == ENODEV { throw .missing(path: path) }
                throw .failed(path: path, error)
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
            if bytes.count > 1 << 20 { break }
        }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.last == "\n" || text.last == " " { text.removeLast() }
        return text
    }

    /// Reads an attribute holding one integer ("23125", "-1500").
    static func readInteger(_ path: String) throws(ReadError) -> Int64? {
        Int64(try read(path).trimmingCharacters(in: .whitespaces))
    }

    /// Reads an attribute holding one decimal number ("0.000976562").
    static func readNumber(_ path: String) throws(ReadError) -> Double? {
        Double(try read(path).trimmingCharacters(in: .whitespaces))
    }

    static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }

    /// Entries of a directory, sorted naturally (`hwmon2` before `hwmon10`); empty if it is missing.
    static func list(_ path: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.sorted(by: naturalOrder)
    }

    /// `a2` < `a10`: compares runs of digits as numbers.
    static func naturalOrder(_ lhs: String, _ rhs: String) -> Bool {
        lhs.compare(rhs, options: [.numeric]) == .orderedAscending
    }
}

#if canImport(Glibc)
private func Glibc_read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    Glibc.read(fd, buffer, count)
}
#else
private func Glibc_read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    Darwin.read(fd, buffer, count)
}
#endif
