#if os(Linux)
import CLinuxIO
import Glibc
import Synchronization

/// `/dev/i2c-N` through `I2C_RDWR`. Before the first transfer to an address the bus is asked
/// with `I2C_SLAVE` (never `I2C_SLAVE_FORCE`) whether a kernel driver owns it: EBUSY is reported,
/// not overridden.
public final class LinuxI2CBus: I2CBus {
    public let path: String
    private let state = Mutex<(fd: Int32?, checked: Set<UInt8>)>((nil, []))

    public init(path: String) { self.path = path }

    deinit {
        state.withLock { if let fd = $0.fd { close(fd) } }
    }

    public func transfer(address: UInt8, write: [UInt8], readCount: Int) throws -> [UInt8] {
        try state.withLock { state in
            let fd: Int32
            if let open = state.fd {
                fd = open
            } else {
                fd = Glibc.open(path, O_RDWR | O_CLOEXEC)
                guard fd >= 0 else { throw I2CError(path: path, address: address, OSError.current) }
                state.fd = fd
            }
            if !state.checked.contains(address) {
                guard clinuxio_ioctl(fd, CLINUXIO_I2C_SLAVE, UnsafeMutableRawPointer(bitPattern: Int(address))) == 0 else {
                    let error = OSError.current
                    if error.code == ENODEV || error.code == EBADF { Self.drop(&state) }
                    throw I2CError(path: path, address: address, error)
                }
                state.checked.insert(address)
            }
            do {
                return try Self.rdwr(fd: fd, address: address, write: write, readCount: readCount)
            } catch let error as OSError {
                if error.code == ENODEV || error.code == EBADF { Self.drop(&state) }
                throw I2CError(path: path, address: address, error)
            }
        }
    }

    private static func drop(_ state: inout (fd: Int32?, checked: Set<UInt8>)) {
        if let fd = state.fd { close(fd) }
        state = (nil, [])
    }

    private static func rdwr(fd: Int32, address: UInt8, write: [UInt8], readCount: Int) throws(OSError) -> [UInt8] {
        var output = write
        var input = [UInt8](repeating: 0, count: readCount)
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeMutableBufferPointer { into in
                var messages: [i2c_msg] = []
                if !out.isEmpty {
                    messages.append(i2c_msg(addr: UInt16(address), flags: 0, len: UInt16(out.count), buf: out.baseAddress))
                }
                if !into.isEmpty {
                    messages.append(
                        i2c_msg(addr: UInt16(address), flags: CLINUXIO_I2C_M_RD, len: UInt16(into.count), buf: into.baseAddress))
                }
                return messages.withUnsafeMutableBufferPointer { list in
                    var data = i2c_rdwr_ioctl_data(msgs: list.baseAddress, nmsgs: UInt32(list.count))
                    return clinuxio_ioctl(fd, CLINUXIO_I2C_RDWR, &data)
                }
            }
        }
        guard status >= 0 else { throw OSError.current }
        return input
    }
}
#endif
