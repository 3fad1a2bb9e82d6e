import Foundation
public import SmollamaCore
public import SmollamaSensors

/// Any Industrial I/O device the kernel drives (`/sys/bus/iio/devices/iio:deviceN`): bmp280/bme280,
/// dht11 (DHT11/DHT22), mcp320x, srf04, tsl2561, ads1015 … Processed `*_input` values are used
/// when present, else `(raw + offset) × scale`. A channel whose read fails with EIO (the DHT's
/// timing-sensitive protocol does this often) is a missing sample, not a fault.
public struct IIODriver: SensorDriver {
    struct Bound: Hashable, Sendable {
        var channel: IIOChannel
        var descriptor: SensorDescriptor
    }

    public let name: String
    public let sensors: [SensorDescriptor]
    public let interval: Duration
    let device: String
    let devicesDirectory: String
    let bound: [Bound]
    let io: BlockingIO

    public init(name: String, device: String, channels: [String]?, context: DriverContext, interval: Duration) throws {
        self.name = "iio:" + name
        self.device = device
        self.interval = interval
        devicesDirectory = context.systemPath("/sys/bus/iio/devices")
        io = BlockingIO(label: "iio.\(name)")
        let found: [IIOChannel]
        if let directory = SysfsDeviceLookup.find(device, in: devicesDirectory, prefix: "iio:device")?.directory {
            found = IIOChannel.channels(in: SysfsFile.list(directory))
        } else if channels == nil {
            throw HardwareConfigError(
                driver: "iio", key: "device",
                "no IIO device named '\(device)' under \(devicesDirectory); load its overlay (e.g. dtoverlay=dht11) or list 'channels:' explicitly")
        } else {
            found = []
        }
        var selected: [IIOChannel] = []
        if let channels {
            for id in channels {
                let channel = found.first { $0.id == id } ?? IIOChannel(id: id, type: IIOChannel.typeName(of: id), processed: false)
                selected.append(channel)
            }
        } else {
            selected = found
        }
        guard !selected.isEmpty else {
            throw HardwareConfigError(driver: "iio", key: "channels", "IIO device '\(device)' has no input channels")
        }
        bound = try selected.map { channel in
            let unit = channel.unit
            let quantity = channel.unit.deviceClass.map { channel.id == channel.type ? $0 : DriverNaming.sanitized(channel.id) }
                ?? DriverNaming.sanitized(channel.id)
            return Bound(
                channel: channel,
                descriptor: SensorDescriptor(
                    id: try DriverNaming.sensorID(name, quantity, driver: "iio"), name: "\(name) \(quantity)",
                    unit: unit.symbol, deviceClass: unit.deviceClass, range: unit.range))
        }
        sensors = bound.map(\.descriptor)
    }

    public func read(now: UTCMillis) async throws -> [SensorSample] {
        try await io.run { [self] in try readAll() }
    }

    func readAll() throws -> [SensorSample] {
        guard let directory = SysfsDeviceLookup.find(device, in: devicesDirectory, prefix: "iio:device")?.directory else {
            throw SensorFault(driver: name, "IIO device '\(device)' is gone from \(devicesDirectory) (unplugged or driver unloaded)")
        }
        var samples: [SensorSample] = []
        for item in bound {
            do {
                let value = try Self.value(of: item.channel, in: directory)
                samples.append(SensorSample(sensor: item.descriptor.id, value: item.channel.unit.convert(value)))
            } catch let error as SysfsFile.ReadError where error.isTransient {
                continue  // EIO/ETIMEDOUT: the sensor missed this reading.
            } catch let error as SysfsFile.ReadError {
                switch error {
                case .missing(let path): throw SensorFault(driver: name, "\(path) is missing (device unplugged or driver unloaded)")
                case .failed(let path, let os): throw SensorFault(driver: name, "\(path): \(os)")
                }
            }
        }
        return samples
    }

    /// The channel's value in IIO ABI units.
    static func value(of channel: IIOChannel, in directory: String) throws -> Double {
        let input = directory + "/" + channel.inputFile
        if SysfsFile.exists(input) {
            guard let value = try SysfsFile.readNumber(input) else { throw SysfsFile.ReadError.failed(path: input, OSError(code: EINVAL)) }
            return value
        }
        let rawPath = directory + "/" + channel.rawFile
        guard let raw = try SysfsFile.readNumber(rawPath) else { throw SysfsFile.ReadError.failed(path: rawPath, OSError(code: EINVAL)) }
        let offset = try firstNumber(channel.offsetFiles, in: directory) ?? 0
        let scale = try firstNumber(channel.scaleFiles, in: directory) ?? 1
        return (raw + offset) * scale
    }

    static func firstNumber(_ files: [String], in directory: String) throws -> Double? {
        for file in files where SysfsFile.exists(directory + "/" + file) {
            return try SysfsFile.readNumber(directory + "/" + file)
        }
        return nil
    }
}
