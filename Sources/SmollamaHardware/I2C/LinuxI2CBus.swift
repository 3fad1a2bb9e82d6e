#if os(Linux)
import CLinuxIO
import Glibc
import Synchronization

/// `/dev/i2c-N` through `I2C_RDWR`. Before the first transfer to an address the bus is asked
/// with `I2C_SLAVE` (never `I2C_SLAVE_FORCE`) whether a kernel driver owns it: EBUSY is reported,
/// not overridden. Adapters that only speak SMBus (EOPNOTSUPP for `I2C_RDWR`) are driven with the
/// equivalent SMBus transfers instead.
public final class LinuxI2CBus: I2CBus {
    struct State {
        var fd: Int32?
        var checked: Set<UInt8> = []
        var smbusOnly = false
    }

    public let path: String
    private let state = Mutex(State())

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
            do {
                if !state.checked.contains(address) || state.smbusOnly {
                    // Also selects the address for SMBus transfers, which have none of their own.
                    try Self.select(fd: fd, address: address)
                    state.checked.insert(address)
                }
                if !state.smbusOnly {
                    do {
                        return try Self.rdwr(fd: fd, address: address, write: write, readCount: readCount)
                    } catch let error as OSError where error.code == EOPNOTSUPP {
                        state.smbusOnly = true
                    }
                }
                return try LinuxSMBus.transfer(fd: fd, write: write, readCount: readCount)
            } catch let error as OSError {
                if error.code == ENODEV || error.code == EBADF {
                    close(fd)
                    state = State()
                }
                throw I2CError(path: path, address: address, error)
            }
        }
    }

    private static func select(fd: Int32, address: UInt8) throws(OSError) {
        guard clinuxio_ioctl(fd, CLINUXIO_I2C_SLAVE, UnsafeMutableRawPointer(bitPattern: Int(address))) == 0 else {
            throw OSError.current
        }
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

/// The SMBus equivalents of the transfers drivers make, for SMBus-only adapters: a register read
/// is an I2C-block read (≤ 32 bytes per call), a register write a byte-data write, a bare command
/// a byte write and a bare one-byte read a byte read. A bare read of several bytes (BH1750) has
/// no SMBus equivalent — separate byte reads would each restart the chip's reply — so it fails.
enum LinuxSMBus {
    static func transfer(fd: Int32, write: [UInt8], readCount: Int) throws(OSError) -> [UInt8] {
        switch (write.count, readCount) {
        case (0, 0):
            return []
        case (0, 1):
            return [try call(fd, read: true, command: 0, size: UInt32(I2C_SMBUS_BYTE)) { _ in }.byte]
        case (1, 0):
            _ = try call(fd, read: false, command: write[0], size: UInt32(I2C_SMBUS_BYTE)) { _ in }
            return []
        case (2, 0):
            _ = try call(fd, read: false, command: write[0], size: UInt32(I2C_SMBUS_BYTE_DATA)) { $0.byte = write[1] }
            return []
        case (1, let count):
            var bytes: [UInt8] = []
            var register = write[0]
            while bytes.count < count {
                let chunk = min(count - bytes.count, Int(I2C_SMBUS_BLOCK_MAX))
                let data = try call(fd, read: true, command: register, size: UInt32(I2C_SMBUS_I2C_BLOCK_DATA)) { data in
                    withUnsafeMutableBytes(of: &data.block) { $0[0] = UInt8(chunk) }
                }
                let received = withUnsafeBytes(of: data.block) { Array($0[1...chunk]) }
                bytes += received
                register &+= UInt8(chunk)
            }
            return bytes
        default:
            // Longer writes (with or without a read) have no single SMBus equivalent here.
            throw OSError(code: EOPNOTSUPP)
        }
    }

    private static func call(
        _ fd: Int32, read: Bool, command: UInt8, size: UInt32, prepare: (inout i2c_smbus_data) -> Void
    ) throws(OSError) -> i2c_smbus_data {
        var data = i2c_smbus_data()
        prepare(&data)
        let status = withUnsafeMutablePointer(to: &data) { pointer in
            var arguments = i2c_smbus_ioctl_data(
                read_write: UInt8(read ? I2C_SMBUS_READ : I2C_SMBUS_WRITE), command: command, size: size, data: pointer)
            return clinuxio_ioctl(fd, CLINUXIO_I2C_SMBUS, &arguments)
        }
        guard status >= 0 else { throw OSError.current }
        return data
    }
}
#endif
