public import SmollamaCore
public import SmollamaSensors

/// Microchip MCP3008, 8-channel 10-bit ADC on SPI (mode 0). Each channel is read single-ended
/// with one 3-byte transfer: tx `[0x01, (0x08 | ch) << 4, 0x00]`, value `((rx[1] & 3) << 8) | rx[2]`.
public struct MCP3008Driver: SensorDriver {
    public struct Channel: Hashable, Sendable {
        public var channel: Int
        public var descriptor: SensorDescriptor
        /// Reported value = volts × scale + offset (defaults 1 and 0: volts).
        public var scale: Double
        public var offset: Double
    }

    public let name: String
    public let sensors: [SensorDescriptor]
    public let interval: Duration
    let device: any SPIDevice
    let channels: [Channel]
    let referenceVolts: Double
    let io: BlockingIO

    public init(name: String, device: any SPIDevice, channels: [Channel], referenceVolts: Double, interval: Duration) {
        self.name = "mcp3008:" + name
        self.device = device
        self.channels = channels
        self.referenceVolts = referenceVolts
        self.interval = interval
        sensors = channels.map(\.descriptor)
        io = BlockingIO(label: "mcp3008.\(name)")
    }

    /// The three bytes that start a single-ended conversion of `channel` (0…7).
    public static func command(channel: Int) -> [UInt8] {
        [0x01, UInt8((0x08 | channel) << 4), 0x00]
    }

    /// The 10-bit result in a 3-byte reply.
    public static func value(reply: [UInt8]) -> Int {
        (Int(reply[1]) & 0x03) << 8 | Int(reply[2])
    }

    /// Volts for a code: the datasheet's code = 1024 × Vin / Vref.
    public static func volts(code: Int, referenceVolts: Double) -> Double {
        Double(code) * referenceVolts / 1024
    }

    public func read(now: UTCMillis) async throws -> [SensorSample] {
        do {
            let codes = try await io.run { [device, channels] in
                try channels.map { channel -> Int in
                    let reply = try device.transfer(Self.command(channel: channel.channel))
                    guard reply.count == 3 else {
                        throw SPIError(path: device.path, message: "short reply: \(reply.count) of 3 bytes")
                    }
                    return Self.value(reply: reply)
                }
            }
            return zip(channels, codes).map { channel, code in
                let volts = Self.volts(code: code, referenceVolts: referenceVolts)
                return SensorSample(sensor: channel.descriptor.id, value: volts * channel.scale + channel.offset)
            }
        } catch {
            throw SensorFault(driver: name, "\(error)")
        }
    }
}

/// `- driver: mcp3008` entry keys.
public struct MCP3008Options: Decodable, Sendable {
    public struct ChannelOptions: Decodable, Sendable {
        public var channel: Int
        /// Sensor id suffix: `<name>.<this>` (e.g. `soil`).
        public var name: String
        public var unit: String?
        public var deviceClass: String?
        public var scale: Double?
        public var offset: Double?
        public var min: Double?
        public var max: Double?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case channel, name, unit, scale, offset, min, max
            case deviceClass = "device_class"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            channel = try container.decode(Int.self, forKey: .channel)
            name = try container.decode(String.self, forKey: .name)
            unit = try container.decodeIfPresent(String.self, forKey: .unit)
            deviceClass = try container.decodeIfPresent(String.self, forKey: .deviceClass)
            scale = try container.decodeIfPresent(Double.self, forKey: .scale)
            offset = try container.decodeIfPresent(Double.self, forKey: .offset)
            min = try container.decodeIfPresent(Double.self, forKey: .min)
            max = try container.decodeIfPresent(Double.self, forKey: .max)
            guard (0...7).contains(channel) else {
                throw HardwareConfigError(driver: "mcp3008", key: "channels.channel", "\(channel) is not an MCP3008 channel; use 0 to 7")
            }
        }
    }

    public var name: String?
    /// The B of `/dev/spidevB.C`.
    public var bus: Int
    /// The C of `/dev/spidevB.C` (CE0 = 0, CE1 = 1).
    public var chipSelect: Int
    /// Reference voltage on VREF (3.3 on a Pi).
    public var vref: Double
    public var speedHz: Int
    public var channels: [ChannelOptions]
    public var interval: ConfigDuration?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case driver, name, bus, vref, channels, interval
        case chipSelect = "chip_select"
        case speedHz = "speed_hz"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        bus = try container.decodeIfPresent(Int.self, forKey: .bus) ?? 0
        chipSelect = try container.decodeIfPresent(Int.self, forKey: .chipSelect) ?? 0
        vref = try container.decodeIfPresent(Double.self, forKey: .vref) ?? 3.3
        speedHz = try container.decodeIfPresent(Int.self, forKey: .speedHz) ?? 1_000_000
        interval = try container.decodeIfPresent(ConfigDuration.self, forKey: .interval)
        guard let channels = try container.decodeIfPresent([ChannelOptions].self, forKey: .channels), !channels.isEmpty else {
            throw HardwareConfigError(
                driver: "mcp3008", key: "channels", "list the channels to read, e.g. [{channel: 0, name: soil}]")
        }
        self.channels = channels
        guard vref > 0, vref <= 5.5 else {
            throw HardwareConfigError(driver: "mcp3008", key: "vref", "\(vref) V is outside the MCP3008's 0…5.5 V supply range")
        }
        guard (10_000...3_600_000).contains(speedHz) else {
            throw HardwareConfigError(driver: "mcp3008", key: "speed_hz", "\(speedHz) is outside 10 kHz…3.6 MHz (1.35 MHz max at 3.3 V)")
        }
        guard Set(channels.map(\.channel)).count == channels.count else {
            throw HardwareConfigError(driver: "mcp3008", key: "channels", "a channel is listed twice")
        }
    }
}
