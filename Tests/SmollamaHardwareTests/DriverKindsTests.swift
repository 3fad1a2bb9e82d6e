import Foundation
import Logging
import Testing
@testable import SmollamaHardware
import SmollamaCore
import SmollamaSensors

@Suite struct DriverKindsTests {
    @Test func everyKindIsRegisteredOnce() {
        let names = SensorDriverKind.linuxDriverKinds(backends: .fake()).map(\.name)
        #expect(names == ["gpio", "pir", "hc_sr04", "bme280", "bh1750", "mcp3008", "ds18b20", "iio", "hwmon"])
        #expect(SensorDriverKind.linuxDriverKinds.count == names.count)
    }

    @Test func fullConfigBuildsEveryDriver() throws {
        let tree = try FixtureTree()
        try tree.write("/sys/bus/w1/devices/28-0316a2795cff/w1_slave", DS18B20Tests.good)
        try IIOTests.dht11(tree)
        try HwmonTests.layout(tree)
        let located = Locked<[GPIOLineLocation]>([])
        let yaml = """
            sensors:
              drivers:
              - driver: gpio
                name: front_door
                line: GPIO22
                bias: pull_up
                active_low: true
                debounce: 10ms
                device_class: door
              - driver: pir
                name: hall
                line: 17
                warm_up: 30s
              - driver: hc_sr04
                name: tank
                trigger: GPIO23
                echo: GPIO24
                samples: 5
              - driver: bme280
                name: living_room
                bus: 1
                address: 0x76
                interval: 30s
              - driver: bh1750
                name: living_room
                address: "0x5c"
              - driver: mcp3008
                name: garden
                vref: 3.3
                channels:
                  - {channel: 0, name: soil}
                  - {channel: 1, name: light, unit: "%", scale: 30.303}
              - driver: ds18b20
                name: aquarium
                device: 28-0316a2795cff
              - driver: iio
                name: porch
                device: dht11
              - driver: hwmon
                name: cpu
                device: cpu_thermal
                interval: 1m
            """
        let drivers = try SensorList.decode(yaml, context: tree.context, backends: .fake(located: located))
        #expect(drivers.map(\.name) == [
            "gpio:front_door", "pir:hall", "hc_sr04:tank", "bme280:living_room", "bh1750:living_room", "mcp3008:garden",
            "ds18b20:aquarium", "iio:porch", "hwmon:cpu",
        ])
        #expect(drivers.flatMap(\.sensors).map(\.id.rawValue) == [
            "front_door.state", "hall.motion", "tank.distance", "living_room.temperature", "living_room.humidity",
            "living_room.pressure", "living_room.illuminance", "garden.soil", "garden.light", "aquarium.temperature",
            "porch.humidity", "porch.temperature", "cpu.temp1",
        ])
        #expect(drivers[0].sensors[0].deviceClass == "door")
        #expect(drivers[8].interval == .seconds(60))
        #expect(drivers[3].interval == .seconds(30))
        // GPIO lines were resolved by name and number on the Pi 5's RP1 chip.
        #expect(located.value.map(\.offset) == [22, 17])
        #expect(located.value.allSatisfy { $0.chip.label == "pinctrl-rp1" })
        #expect(drivers[1] is any EventSensorDriver)
    }

    func error(for yaml: String) -> String {
        do {
            _ = try SensorList.decode("sensors:\n  drivers:\n" + yaml, context: DriverContext(dataDirectory: "/tmp", logger: .init(label: "t")), backends: .fake())
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func unknownKeysAreRejectedNamingTheKey() {
        let typo = error(for: "  - {driver: bme280, adress: 0x76}")
        #expect(typo.contains("unknown key 'sensors.drivers.Index 0.adress'; expected one of: address, bus, driver, interval, name"))
        #expect(error(for: "  - {driver: pir, line: 17, warmup: 10s}").contains("warmup"))
        #expect(error(for: "  - {driver: mcp3008, channels: [{channel: 0, name: a, gain: 2}]}").contains("channels.Index 0.gain'"))
    }

    @Test func invalidValuesNameKeyAndFix() {
        #expect(error(for: "  - {driver: bme280, address: 0x40}").contains("key 'address': 0x40 is not a BME280 address; use 0x76 or 0x77"))
        #expect(error(for: "  - {driver: bh1750, address: 0x76}").contains("use 0x23 or 0x5c"))
        #expect(error(for: "  - {driver: pir}").contains("key 'line': required"))
        #expect(error(for: "  - {driver: hc_sr04, trigger: 23, echo: 23}").contains("trigger and echo must be different"))
        #expect(error(for: "  - {driver: mcp3008, channels: [{channel: 8, name: a}]}").contains("use 0 to 7"))
        #expect(error(for: "  - {driver: mcp3008}").contains("key 'channels'"))
        #expect(error(for: "  - {driver: bme280, name: Living Room}").contains("key 'name'"))
        #expect(error(for: "  - {driver: bme280, interval: 10ms}").contains("key 'interval'"))
        #expect(error(for: "  - {driver: gpio, line: 5, debounce: 2s}").contains("key 'debounce'"))
        #expect(error(for: "  - {driver: gpio, line: 5, bias: up}").contains("bias 'up' is not one of: disabled, pull_up, pull_down, as_is"))
        #expect(error(for: "  - {driver: iio}").contains("key 'device': required: the IIO device's name"))
        #expect(error(for: "  - {driver: hwmon}").contains("key 'device': required: the chip's name"))
        #expect(error(for: "  - {driver: hwmon, device: hwmon0, chanels: [temp1]}").contains("unknown key"))
        #expect(error(for: "  - {driver: ds18b20, device: /sys/x}").contains("not a 1-Wire id"))
    }

    @Test func defaultsApply() throws {
        let drivers = try SensorList.decode(
            "sensors:\n  drivers:\n  - driver: bme280\n  - driver: bh1750\n  - driver: pir\n    line: GPIO4\n",
            context: DriverContext(dataDirectory: "/tmp", logger: .init(label: "t")), backends: .fake())
        #expect(drivers.map(\.name) == ["bme280:bme280", "bh1750:bh1750", "pir:pir"])
        #expect(drivers.map(\.interval) == [.seconds(30), .seconds(10), .seconds(60)])
    }
}
