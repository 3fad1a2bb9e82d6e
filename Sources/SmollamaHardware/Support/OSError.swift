#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An errno from a system call, with its symbolic name, so fault messages read like the kernel's
/// documentation ("EBUSY") rather than a number.
public struct OSError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: Int32

    public init(code: Int32) { self.code = code }

    /// The calling thread's current errno.
    static var current: OSError { OSError(code: errno) }

    public var name: String {
        switch code {
        case EPERM: "EPERM"
        case ENOENT: "ENOENT"
        case EIO: "EIO"
        case ENXIO: "ENXIO"
        case EBADF: "EBADF"
        case EAGAIN: "EAGAIN"
        case EACCES: "EACCES"
        case EBUSY: "EBUSY"
        case ENODEV: "ENODEV"
        case ENOTDIR: "ENOTDIR"
        case EISDIR: "EISDIR"
        case EINVAL: "EINVAL"
        case ENOTTY: "ENOTTY"
        case ETIMEDOUT: "ETIMEDOUT"
        case EOPNOTSUPP: "EOPNOTSUPP"
        case ENODATA: "ENODATA"
        case EREMOTEIO: "EREMOTEIO"
        default: "errno \(code)"
        }
    }

    /// What the error usually means for sensor hardware, and what to do about it.
    public var hint: String? {
        switch code {
        case ENOENT: "the device is not there; check wiring and that the interface is enabled (raspi-config or dtoverlay)"
        case EACCES, EPERM: "permission denied; run as root or add the user to the gpio/i2c/spi group"
        case EBUSY: "a kernel driver owns this device; use the iio or hwmon driver instead, or unbind the kernel driver"
        case ENXIO, EREMOTEIO: "no device acknowledged; check the address, wiring, pull-ups and 3.3 V supply"
        case EIO: "the bus or device reported an I/O error; often a loose wire or a missed sensor reply"
        case ETIMEDOUT: "the device did not answer in time"
        case ENOTTY: "this file is not the expected kind of device"
        case ENODEV: "the device disappeared (unplugged or driver unloaded)"
        default: nil
        }
    }

    public var description: String {
        let text = String(cString: strerror(code))
        if let hint { return "\(name) (\(text)) — \(hint)" }
        return "\(name) (\(text))"
    }
}
