import Foundation
import SmollamaCore
import SmollamaSensors
@testable import SmollamaHardware
import Yams

/// Decodes a `sensors.drivers` list as the node's config loader does: each entry's `driver:` key
/// picks the kind, which decodes the rest of the entry.
struct SensorList: Decodable {
    static let contextKey = CodingUserInfoKey(rawValue: "smollama.context")!
    static let backendsKey = CodingUserInfoKey(rawValue: "smollama.backends")!

    var drivers: [any SensorDriver] = []

    enum Keys: String, CodingKey { case sensors }
    enum SensorsKeys: String, CodingKey { case drivers }

    init(from decoder: any Decoder) throws {
        let context = decoder.userInfo[Self.contextKey] as! DriverContext
        let backends = decoder.userInfo[Self.backendsKey] as! HardwareBackends
        let registry = SensorDriverRegistry(SensorDriverKind.linuxDriverKinds(backends: backends))
        var list = try decoder.container(keyedBy: Keys.self).nestedContainer(keyedBy: SensorsKeys.self, forKey: .sensors)
            .nestedUnkeyedContainer(forKey: .drivers)
        while !list.isAtEnd {
            let entry = try list.superDecoder()
            let name = try entry.container(keyedBy: AnyCodingKey.self).decode(String.self, forKey: AnyCodingKey("driver"))
            guard let kind = registry.kind(named: name) else { throw HardwareConfigError(driver: name, key: "driver", "unknown driver") }
            drivers.append(try kind.make(entry, context))
        }
    }

    static func decode(_ yaml: String, context: DriverContext, backends: HardwareBackends) throws -> [any SensorDriver] {
        try YAMLDecoder().decode(SensorList.self, from: yaml, userInfo: [contextKey: context, backendsKey: backends]).drivers
    }
}

extension HardwareBackends {
    /// Fakes: recorded chip layouts, register-map I2C buses by path, scripted SPI, replayed lines.
    static func fake(
        chips: [GPIOChipInfo] = BoardLayouts.pi5Recent, i2c: [String: FakeI2CBus] = [:], spi: FakeMCP3008 = FakeMCP3008(codes: Array(repeating: 0, count: 8)),
        input: ReplayInput = ReplayInput(trace: []), located: Locked<[GPIOLineLocation]> = Locked([])
    ) -> HardwareBackends {
        HardwareBackends(
            gpioChips: { _ in FixedChips(list: chips) },
            gpioInput: { _, _, locate in
                if let location = try? locate() { located.withLock { $0.append(location) } }
                return input
            },
            ultrasonic: { _, _, _ in HCSR04Tests.ScriptedPinger(clock: Locked(0), widthsMicros: [1160]) },
            i2cBus: { path in i2c[path] ?? FakeI2CBus(path: path, devices: [:]) },
            spiDevice: { _, _ in spi })
    }
}
