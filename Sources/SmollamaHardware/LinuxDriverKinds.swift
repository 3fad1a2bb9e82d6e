public import SmollamaSensors
import SmollamaCore

extension SensorDriverKind {
    #if os(Linux)
    /// Every physical-sensor driver, talking to the kernel. Add these to the node's registry.
    public static let linuxDriverKinds: [SensorDriverKind] = linuxDriverKinds(backends: .linux)
    #endif

    /// The physical-sensor drivers over the given backends (tests pass fakes).
    public static func linuxDriverKinds(backends: HardwareBackends) -> [SensorDriverKind] {
        [
            SensorDriverKind(name: "gpio", summary: "binary input on a GPIO line (door contact, button), edges pushed") {
                decoder, context in
                let options = try GPIOInputOptions(from: decoder)
                let name = try DriverNaming.validatedName(options.name, default: "gpio", driver: "gpio")
                let locate = lineLocator(options.line, chip: options.chip, backends: backends, context: context)
                return try GPIOInputDriver(
                    name: name, deviceClass: options.deviceClass,
                    input: backends.gpioInput(options.settings, consumer(name), locate),
                    interval: try DriverNaming.interval(options.interval, default: .seconds(60), driver: "gpio"),
                    logger: context.logger)
            },
            SensorDriverKind(name: "pir", summary: "HC-SR501 PIR motion sensor on a GPIO line (warm-up, lockout)") {
                decoder, context in
                let options = try PIROptions(from: decoder)
                let name = try DriverNaming.validatedName(options.name, default: "pir", driver: "pir")
                let settings = GPIOLineSettings(direction: .input, edgeEvents: true, bias: options.bias)
                let locate = lineLocator(options.line, chip: options.chip, backends: backends, context: context)
                return try PIRDriver(
                    name: name, input: backends.gpioInput(settings, consumer(name), locate), warmUp: options.warmUp.duration,
                    lockout: options.lockout.duration,
                    interval: try DriverNaming.interval(options.interval, default: .seconds(60), driver: "pir"),
                    logger: context.logger)
            },
            SensorDriverKind(name: "hc_sr04", summary: "HC-SR04 ultrasonic distance (trigger output + echo edges)") {
                decoder, context in
                let options = try HCSR04Options(from: decoder)
                let name = try DriverNaming.validatedName(options.name, default: "distance", driver: "hc_sr04")
                let pinger = backends.ultrasonic(
                    lineLocator(options.trigger, chip: options.chip, backends: backends, context: context),
                    lineLocator(options.echo, chip: options.chip, backends: backends, context: context), consumer(name))
                return try HCSR04Driver(
                    name: name, pinger: pinger, samples: options.samples,
                    interval: try DriverNaming.interval(options.interval, default: .seconds(10), driver: "hc_sr04"))
            },
            SensorDriverKind(name: "bme280", summary: "Bosch BME280/BMP280 on /dev/i2c-N (temperature, humidity, pressure)") {
                decoder, context in
                // 0x76 with SDO to GND, 0x77 with SDO to 3.3 V.
                let options = try I2CDeviceOptions(from: decoder, driver: "bme280", chip: "BME280", addresses: [0x76, 0x77])
                return try BME280Driver(
                    name: try DriverNaming.validatedName(options.name, default: "bme280", driver: "bme280"),
                    bus: backends.i2cBus(context.devicePath("/dev/i2c-\(options.bus)")), address: UInt8(options.address.value),
                    interval: try DriverNaming.interval(options.interval, default: .seconds(30), driver: "bme280"))
            },
            SensorDriverKind(name: "bh1750", summary: "ROHM BH1750 ambient light on /dev/i2c-N (lux)") { decoder, context in
                // 0x23 with ADDR to GND or open, 0x5C with ADDR to 3.3 V.
                let options = try I2CDeviceOptions(from: decoder, driver: "bh1750", chip: "BH1750", addresses: [0x23, 0x5C])
                return try BH1750Driver(
                    name: try DriverNaming.validatedName(options.name, default: "bh1750", driver: "bh1750"),
                    bus: backends.i2cBus(context.devicePath("/dev/i2c-\(options.bus)")), address: UInt8(options.address.value),
                    interval: try DriverNaming.interval(options.interval, default: .seconds(10), driver: "bh1750"))
            },
            SensorDriverKind(name: "mcp3008", summary: "Microchip MCP3008 8-channel ADC on /dev/spidevB.C (volts)") {
                decoder, context in
                let options = try MCP3008Options(from: decoder)
                let name = try DriverNaming.validatedName(options.name, default: "adc", driver: "mcp3008")
                let channels = try options.channels.map { channel in
                    let range = channel.min.flatMap { low in channel.max.map { high in low...high } }
                    return MCP3008Driver.Channel(
                        channel: channel.channel,
                        descriptor: SensorDescriptor(
                            id: try DriverNaming.sensorID(name, channel.name, driver: "mcp3008"), name: "\(name) \(channel.name)",
                            unit: channel.unit ?? "V", deviceClass: channel.deviceClass ?? (channel.unit == nil ? "voltage" : nil),
                            range: range),
                        scale: channel.scale ?? 1, offset: channel.offset ?? 0)
                }
                return MCP3008Driver(
                    name: name,
                    device: backends.spiDevice(context.devicePath("/dev/spidev\(options.bus).\(options.chipSelect)"), UInt32(options.speedHz)),
                    channels: channels, referenceVolts: options.vref,
                    interval: try DriverNaming.interval(options.interval, default: .seconds(5), driver: "mcp3008"))
            },
            SensorDriverKind(name: "ds18b20", summary: "1-Wire DS18B20 thermometer via w1_therm sysfs") { decoder, context in
                let options = try DS18B20Options(from: decoder)
                return try DS18B20Driver(
                    name: try DriverNaming.validatedName(options.name, default: "ds18b20", driver: "ds18b20"), device: options.device,
                    context: context, interval: try DriverNaming.interval(options.interval, default: .seconds(30), driver: "ds18b20"))
            },
            SensorDriverKind(name: "iio", summary: "any kernel IIO device (bme280, dht11, mcp3008, srf04 …) via sysfs") {
                decoder, context in
                let options = try SysfsDeviceOptions(
                    from: decoder, driver: "iio", device: "the IIO device's name (e.g. dht11) or iio:deviceN")
                return try IIODriver(
                    name: try DriverNaming.validatedName(
                        options.name, default: DriverNaming.sanitized(options.device), driver: "iio"),
                    device: options.device, channels: options.channels, context: context,
                    interval: try DriverNaming.interval(options.interval, default: .seconds(30), driver: "iio"))
            },
            SensorDriverKind(name: "hwmon", summary: "hwmon chip temperatures, fans, voltages via sysfs") { decoder, context in
                let options = try SysfsDeviceOptions(
                    from: decoder, driver: "hwmon", device: "the chip's name (e.g. cpu_thermal) or hwmonN")
                return try HwmonDriver(
                    name: try DriverNaming.validatedName(
                        options.name, default: DriverNaming.sanitized(options.device), driver: "hwmon"),
                    device: options.device, channels: options.channels, context: context,
                    interval: try DriverNaming.interval(options.interval, default: .seconds(30), driver: "hwmon"))
            },
        ]
    }

    static func lineLocator(_ line: GPIOLineSpec, chip: String?, backends: HardwareBackends, context: DriverContext)
        -> @Sendable () throws -> GPIOLineLocation
    {
        let probe = backends.gpioChips(context)
        return { try GPIOChipLocator.locate(line, in: probe.chips(), chipLabel: chip) }
    }

    /// The consumer label the kernel shows in `gpioinfo` (at most 31 bytes).
    static func consumer(_ name: String) -> String {
        String(("smollama-" + name).utf8.prefix(31)) ?? "smollama"
    }
}
