public import SmollamaSensors

/// Where drivers get their buses and lines. `linux` talks to the kernel; tests substitute
/// fakes (register-map I2C, scripted SPI, recorded GPIO traces) without touching driver code.
public struct HardwareBackends: Sendable {
    public var gpioChips: @Sendable (_ context: DriverContext) -> any GPIOChipProbe
    /// An input line, located lazily (on first use) so a missing chip is a read fault, not a config error.
    public var gpioInput:
        @Sendable (_ settings: GPIOLineSettings, _ consumer: String, _ locate: @escaping @Sendable () throws -> GPIOLineLocation)
            -> any GPIOEdgeInput
    public var ultrasonic:
        @Sendable (
            _ trigger: @escaping @Sendable () throws -> GPIOLineLocation, _ echo: @escaping @Sendable () throws -> GPIOLineLocation,
            _ consumer: String
        ) -> any UltrasonicPinger
    public var i2cBus: @Sendable (_ path: String) -> any I2CBus
    public var spiDevice: @Sendable (_ path: String, _ speedHz: UInt32) -> any SPIDevice

    public init(
        gpioChips: @escaping @Sendable (DriverContext) -> any GPIOChipProbe,
        gpioInput: @escaping @Sendable (GPIOLineSettings, String, @escaping @Sendable () throws -> GPIOLineLocation) -> any GPIOEdgeInput,
        ultrasonic: @escaping @Sendable (
            @escaping @Sendable () throws -> GPIOLineLocation, @escaping @Sendable () throws -> GPIOLineLocation, String
        ) -> any UltrasonicPinger,
        i2cBus: @escaping @Sendable (String) -> any I2CBus,
        spiDevice: @escaping @Sendable (String, UInt32) -> any SPIDevice
    ) {
        self.gpioChips = gpioChips
        self.gpioInput = gpioInput
        self.ultrasonic = ultrasonic
        self.i2cBus = i2cBus
        self.spiDevice = spiDevice
    }
}

#if os(Linux)
extension HardwareBackends {
    /// The kernel's character devices under the context's device root.
    public static let linux = HardwareBackends(
        gpioChips: { context in LinuxGPIOChipProbe(deviceDirectory: context.devicePath("/dev")) },
        gpioInput: { settings, consumer, locate in LinuxGPIOInput(settings: settings, consumer: consumer, locate: locate) },
        ultrasonic: { trigger, echo, consumer in LazyUltrasonicPinger(trigger: trigger, echo: echo, consumer: consumer) },
        i2cBus: { path in LinuxI2CBus(path: path) },
        spiDevice: { path, speed in LinuxSPIDevice(path: path, mode: 0, speedHz: speed) })
}

#endif
