#if os(Linux)
import CLinuxIO
import Foundation
import Glibc
import Synchronization

/// Asks every `/dev/gpiochipN` under the device root for its label and line names.
public struct LinuxGPIOChipProbe: GPIOChipProbe {
    public var deviceDirectory: String

    public init(deviceDirectory: String) { self.deviceDirectory = deviceDirectory }

    public func chips() throws -> [GPIOChipInfo] {
        var chips: [GPIOChipInfo] = []
        for name in SysfsFile.list(deviceDirectory) where name.hasPrefix("gpiochip") {
            let path = deviceDirectory + "/" + name
            // A chip we cannot open (permissions, not a char device in a fixture) is skipped.
            if let chip = try? Self.info(path: path, name: name) { chips.append(chip) }
        }
        return chips
    }

    static func info(path: String, name: String) throws -> GPIOChipInfo {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OSError.current }
        defer { close(fd) }
        var info = [UInt8](repeating: 0, count: GPIOUAPI.chipInfoSize)
        guard info.withUnsafeMutableBytes({ clinuxio_ioctl(fd, CLINUXIO_GPIO_GET_CHIPINFO_IOCTL, $0.baseAddress) }) == 0
        else { throw OSError.current }
        let chip = StructBytes(info)
        let lineCount = Int(chip.get32(at: GPIOUAPI.chipInfoLinesOffset))
        var names: [String] = []
        for offset in 0..<lineCount {
            var line = StructBytes(size: GPIOUAPI.lineInfoSize)
            line.set32(UInt32(offset), at: GPIOUAPI.lineInfoOffsetOffset)
            let ok = line.bytes.withUnsafeMutableBytes { clinuxio_ioctl(fd, CLINUXIO_GPIO_V2_GET_LINEINFO_IOCTL, $0.baseAddress) }
            names.append(ok == 0 ? line.getString(at: 0, size: GPIOUAPI.maxNameSize) : "")
        }
        return GPIOChipInfo(
            path: path, name: name, label: chip.getString(at: GPIOUAPI.chipInfoLabelOffset, size: GPIOUAPI.maxNameSize),
            lineCount: lineCount, lineNames: names)
    }
}

/// A granted line request: the fd the kernel returned from `GPIO_V2_GET_LINE_IOCTL`. Closing it
/// releases the lines.
final class LinuxGPIORequest: Sendable {
    let fd: Int32
    let description: String

    private init(fd: Int32, description: String) {
        self.fd = fd
        self.description = description
    }

    deinit { close(fd) }

    static func request(chipPath: String, offset: UInt32, settings: GPIOLineSettings, consumer: String) throws -> LinuxGPIORequest {
        let what = "\(chipPath) line \(offset)"
        let chip = open(chipPath, O_RDWR | O_CLOEXEC)
        guard chip >= 0 else { throw LinuxGPIOError(what: what, OSError.current) }
        defer { close(chip) }
        var request = GPIOLineRequestEncoder.encode(offsets: [offset], settings: settings, consumer: consumer)
        let status = request.withUnsafeMutableBytes { clinuxio_ioctl(chip, CLINUXIO_GPIO_V2_GET_LINE_IOCTL, $0.baseAddress) }
        guard status == 0 else { throw LinuxGPIOError(what: what, OSError.current) }
        let fd = Int32(bitPattern: StructBytes(request).get32(at: GPIOLineRequestEncoder.fdOffset))
        return LinuxGPIORequest(fd: fd, description: what)
    }

    func value() throws -> Bool {
        var values = GPIOLineRequestEncoder.encodeValues(bits: 0, mask: 1)
        let status = values.withUnsafeMutableBytes { clinuxio_ioctl(fd, CLINUXIO_GPIO_V2_LINE_GET_VALUES_IOCTL, $0.baseAddress) }
        guard status == 0 else { throw LinuxGPIOError(what: description, OSError.current) }
        return StructBytes(values).get64(at: 0) & 1 == 1
    }

    func set(_ level: Bool) throws {
        var values = GPIOLineRequestEncoder.encodeValues(bits: level ? 1 : 0, mask: 1)
        let status = values.withUnsafeMutableBytes { clinuxio_ioctl(fd, CLINUXIO_GPIO_V2_LINE_SET_VALUES_IOCTL, $0.baseAddress) }
        guard status == 0 else { throw LinuxGPIOError(what: description, OSError.current) }
    }

    /// Waits up to `timeoutMilliseconds` for event records; returns the bytes read (maybe none).
    func readEvents(timeoutMilliseconds: Int32) throws -> [UInt8] {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, timeoutMilliseconds)
        if ready < 0 {
            if errno == EINTR { return [] }
            throw LinuxGPIOError(what: description, OSError.current)
        }
        if ready == 0 { return [] }
        if descriptor.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 && descriptor.revents & Int16(POLLIN) == 0 {
            throw LinuxGPIOError(what: description, OSError(code: ENODEV))
        }
        var buffer = [UInt8](repeating: 0, count: 16 * GPIOUAPI.lineEventSize)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EAGAIN || errno == EINTR { return [] }
            throw LinuxGPIOError(what: description, OSError.current)
        }
        return Array(buffer[0..<count])
    }
}

struct LinuxGPIOError: Error, CustomStringConvertible {
    var what: String
    var error: OSError
    init(what: String, _ error: OSError) {
        self.what = what
        self.error = error
    }
    var description: String { "\(what): \(error)" }
}

/// An input line on real hardware: requested on first use, edges read on a dedicated thread.
public final class LinuxGPIOInput: GPIOEdgeInput {
    let locate: @Sendable () throws -> GPIOLineLocation
    let settings: GPIOLineSettings
    let consumer: String
    private let request = Mutex<LinuxGPIORequest?>(nil)

    public init(
        settings: GPIOLineSettings, consumer: String, locate: @escaping @Sendable () throws -> GPIOLineLocation
    ) {
        self.settings = settings
        self.consumer = consumer
        self.locate = locate
    }

    func granted() throws -> LinuxGPIORequest {
        try request.withLock { current in
            if let current { return current }
            let location = try locate()
            let granted = try LinuxGPIORequest.request(
                chipPath: location.chip.path, offset: location.offset, settings: settings, consumer: consumer)
            current = granted
            return granted
        }
    }

    /// Drops the request so the next use asks the kernel again (after the chip vanished).
    func reset() { request.withLock { $0 = nil } }

    public func value() throws -> Bool {
        do { return try granted().value() } catch {
            reset()
            throw error
        }
    }

    public func edges() -> AsyncThrowingStream<GPIOEdgeEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<GPIOEdgeEvent, any Error>.makeStream()
        let stop = StopFlag()
        continuation.onTermination = { _ in stop.set() }
        let thread = Thread { [self] in
            var decoder = GPIOEventDecoder()
            do {
                let line = try granted()
                while !stop.isSet {
                    let bytes = try line.readEvents(timeoutMilliseconds: 200)
                    for event in try decoder.feed(bytes) { continuation.yield(event) }
                }
                continuation.finish()
            } catch {
                reset()
                continuation.finish(throwing: error)
            }
        }
        thread.name = "smollama.gpio.\(consumer)"
        thread.start()
        return stream
    }
}

/// A one-way flag a stream's termination handler sets to stop its reader thread.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
#endif
