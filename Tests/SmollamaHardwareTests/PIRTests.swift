import Testing
@testable import SmollamaHardware
import SmollamaCore
import SmollamaSensors

@Suite struct PIRTests {
    /// Recorded from an HC-SR501 (jumper on "H", time pot at minimum), driver started at 100 s:
    /// power-up chatter during warm-up, a walk-by, a glitch inside the lockout, a second
    /// walk-by, then a burst the kernel could not buffer (2 events dropped).
    static let trace = """
        110.000000000 rising
        113.250000000 falling
        170.100000000 rising
        175.300000000 falling
        176.500000000 rising
        176.510000000 falling
        180.000000000 rising
        185.000000000 falling
        190.000000000 rising +2
        195.000000000 falling
        """

    static let start: UInt64 = 100_000_000_000

    @Test func logicSkipsWarmUpAndLockoutGlitches() {
        var logic = PIRMotionLogic(startNanoseconds: Self.start)
        let reported = parseTrace(Self.trace).map { logic.process($0) }
        #expect(reported == [nil, nil, true, false, nil, nil, true, false, true, false])
        #expect(logic.glitches == 1)
    }

    @Test func repeatedLevelIsNotReportedTwice() {
        var logic = PIRMotionLogic(startNanoseconds: 0, warmUpNanoseconds: 0)
        let events = parseTrace("""
            10.0 rising
            20.0 rising +1
            30.0 falling
            """)
        #expect(events.map { logic.process($0) } == [true, nil, false])
    }

    @Test func driverReplaysTraceAsBinaryTransitions() async throws {
        let driver = try PIRDriver(
            name: "hall", input: ReplayInput(trace: parseTrace(Self.trace)), warmUp: .seconds(60), lockout: .seconds(3),
            interval: .seconds(60), now: { Self.start })
        #expect(driver.sensors == [
            SensorDescriptor(id: "hall.motion", name: "hall motion", kind: .binary, deviceClass: "motion")
        ])
        var values: [Double] = []
        for try await sample in driver.events() {
            #expect(sample.sensor == "hall.motion")
            values.append(sample.value)
        }
        #expect(values == [1, 0, 1, 0, 1, 0])
    }

    @Test func pollingReportsNothingDuringWarmUpThenTheLevel() async throws {
        let clock = Locked<UInt64>(Self.start)
        let driver = try PIRDriver(
            name: "hall", input: ReplayInput(trace: [], level: true), warmUp: .seconds(60), lockout: .seconds(3),
            interval: .seconds(60), now: { clock.value })
        #expect(try await driver.read(now: 0).isEmpty)
        clock.value = Self.start + 61_000_000_000
        #expect(try await driver.read(now: 0) == [SensorSample(sensor: "hall.motion", value: 1)])
    }

    @Test func lineFailureBecomesSensorFault() async throws {
        let driver = try PIRDriver(
            name: "hall", input: ReplayInput(trace: [], failure: OSError(code: 19)), warmUp: .zero, lockout: .seconds(3),
            interval: .seconds(60), now: { 0 })
        await #expect(throws: SensorFault.self) { try await driver.read(now: 0) }
        await #expect(throws: SensorFault.self) {
            for try await _ in driver.events() {}
        }
    }
}
