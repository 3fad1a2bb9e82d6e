#if os(Linux)
import CLinuxIO
import Glibc
import Synchronization

/// `/dev/spidevB.C` through `SPI_IOC_MESSAGE(1)`. The mode and word size are set when the device
/// is first opened; the clock rate travels with each transfer.
public final class LinuxSPIDevice: SPIDevice {
    public let path: String
    let mode: UInt8
    let speedHz: UInt32
    private let fd = Mutex<Int32?>(nil)

    public init(path: String, mode: UInt8 = 0, speedHz: UInt32 = 1_000_000) {
        self.path = path
        self.mode = mode
        self.speedHz = speedHz
    }

    deinit {
        fd.withLock { if let fd = $0 { close(fd) } }
    }

    public func transfer(_ tx: [UInt8]) throws -> [UInt8] {
        try fd.withLock { current in
            let device: Int32
            if let open = current {
                device = open
            } else {
                device = try openConfigured()
                current = device
            }
            var output = tx
            var input = [UInt8](repeating: 0, count: tx.count)
            let status = output.withUnsafeMutableBytes { out in
                input.withUnsafeMutableBytes { into in
                    var transfer = spi_ioc_transfer()
                    transfer.tx_buf = UInt64(UInt(bitPattern: out.baseAddress))
                    transfer.rx_buf = UInt64(UInt(bitPattern: into.baseAddress))
                    transfer.len = UInt32(out.count)
                    transfer.speed_hz = speedHz
                    transfer.bits_per_word = 8
                    return clinuxio_ioctl(device, CLINUXIO_SPI_IOC_MESSAGE_1, &transfer)
                }
            }
            guard status >= 0 else {
                let error = OSError.current
                close(device)
                current = nil
                throw SPIError(path: path, message: error.description)
            }
            return input
        }
    }

    private func openConfigured() throws -> Int32 {
        let device = open(path, O_RDWR | O_CLOEXEC)
        guard device >= 0 else { throw SPIError(path: path, message: OSError.current.description) }
        var mode = self.mode
        var bits: UInt8 = 8
        guard clinuxio_ioctl(device, CLINUXIO_SPI_IOC_WR_MODE, &mode) == 0,
            clinuxio_ioctl(device, CLINUXIO_SPI_IOC_WR_BITS_PER_WORD, &bits) == 0
        else {
            let error = OSError.current
            close(device)
            throw SPIError(path: path, message: "cannot set SPI mode \(self.mode): \(error)")
        }
        return device
    }
}
#endif
