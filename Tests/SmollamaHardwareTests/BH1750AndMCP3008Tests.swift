import Testing
@testable import SmollamaHardware
import SmollamaCore
import SmollamaSensors

@Suite struct BH1750Tests {
    @Test func luxConversion() {
        #expect(BH1750Driver.lux(high: 0x00, low: 0x00) == 0)
        // The datasheet's example: 1000_0011 1001_0000 → 33680 / 1.2 ≈ 28067 lx.
        #expect(BH1750Driver.lux(high: 0x83, low: 0x90) == 33680 / 1.2)
        #expect(BH1750Driver.lux(high: 0x83, low: 0x90).rounded() == 28067)
        #expect(BH1750Driver.lux(high: 0xFF, low: 0xFF) == 65535 / 1.2)
    }

    @Test func driverPowersOnSetsContinuousHighResolutionOnceThenReads() async throws {
        var chip = FakeI2CBus.Device()
        chip.plainReads = [[0x01, 0x2C], [0x02, 0x58]]
        let bus = FakeI2CBus(devices: [0x23: chip])
        let pauses = Locked<[UInt32]>([])
        let driver = try BH1750Driver(name: "desk", bus: bus, address: 0x23, interval: .seconds(10), pause: { us in pauses.withLock { $0.append(us) } })
        #expect(try await driver.read(now: 0) == [SensorSample(sensor: "desk.illuminance", value: 300 / 1.2)])
        #expect(try await driver.read(now: 0) == [SensorSample(sensor: "desk.illuminance", value: 600 / 1.2)])
        #expect(bus.log.map(\.write) == [[0x01], [0x10], [], []])
        #expect(pauses.value == [180_000])
    }

    @Test func missingChipIsAFaultAndIsReconfiguredAfterwards() async throws {
        var chip = FakeI2CBus.Device()
        chip.plainReads = [[0, 12]]
        let bus = FakeI2CBus(devices: [0x5C: chip])
        let driver = try BH1750Driver(name: "desk", bus: bus, address: 0x5C, interval: .seconds(10), pause: { _ in })
        _ = try await driver.read(now: 0)
        bus.update(0x5C) { $0.failure = 121 }
        await #expect(throws: SensorFault.self) { try await driver.read(now: 0) }
        bus.update(0x5C) { $0.failure = nil }
        #expect(try await driver.read(now: 0) == [SensorSample(sensor: "desk.illuminance", value: 10)])
        #expect(bus.log.filter { $0.write == [0x10] }.count == 2)
    }
}

@Suite struct MCP3008Tests {
    @Test func commandAndReplyBytes() {
        #expect(MCP3008Driver.command(channel: 0) == [0x01, 0x80, 0x00])
        #expect(MCP3008Driver.command(channel: 7) == [0x01, 0xF0, 0x00])
        #expect(MCP3008Driver.value(reply: [0xFF, 0xFB, 0xFF]) == 1023)
        #expect(MCP3008Driver.value(reply: [0x00, 0x02, 0x00]) == 512)
        #expect(MCP3008Driver.volts(code: 512, referenceVolts: 3.3) == 1.65)
        #expect(MCP3008Driver.volts(code: 1023, referenceVolts: 3.3) == 3.3 * 1023 / 1024)
    }

    @Test func driverReadsEachChannelWithScaleAndOffset() async throws {
        let device = FakeMCP3008(codes: [512, 0, 0, 1023, 0, 0, 0, 100])
        let driver = MCP3008Driver(
            name: "adc",
            device: device,
            channels: [
                .init(channel: 0, descriptor: SensorDescriptor(id: "adc.soil", name: "soil", unit: "V"), scale: 1, offset: 0),
                .init(channel: 3, descriptor: SensorDescriptor(id: "adc.light", name: "light", unit: "%"), scale: 100 / 3.3, offset: 0),
                .init(channel: 7, descriptor: SensorDescriptor(id: "adc.tmp36", name: "tmp36", unit: "°C"), scale: 100, offset: -50),
            ],
            referenceVolts: 3.3, interval: .seconds(5))
        let samples = try await driver.read(now: 0)
        #expect(samples.map(\.sensor) == ["adc.soil", "adc.light", "adc.tmp36"])
        #expect(samples[0].value == 1.65)
        #expect(abs(samples[1].value - 1023.0 / 1024 * 100) < 1e-9)
        #expect(abs(samples[2].value - (100 * 3.3 / 1024 * 100 - 50)) < 1e-9)
        #expect(device.sent == [[0x01, 0x80, 0x00], [0x01, 0xB0, 0x00], [0x01, 0xF0, 0x00]])
    }
}
