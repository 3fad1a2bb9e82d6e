import Testing
@testable import SmollamaHardware
import SmollamaCore
import SmollamaSensors

@Suite struct HCSR04Tests {
    static let trigger: UInt64 = 5_000_000_000

    func echo(riseAfterMicros: UInt64, widthMicros: UInt64) -> [GPIOEdgeEvent] {
        let rise = Self.trigger + riseAfterMicros * 1000
        return [
            GPIOEdgeEvent(timestampNanoseconds: rise, edge: .rising, offset: 24, seqno: 1, lineSeqno: 1),
            GPIOEdgeEvent(timestampNanoseconds: rise + widthMicros * 1000, edge: .falling, offset: 24, seqno: 2, lineSeqno: 2),
        ]
    }

    @Test func pulseWidthToCentimetres() {
        #expect(HCSR04Ranging.centimeters(pulseNanoseconds: 1_160_000) == 20)
        #expect(HCSR04Ranging.measure(echo: echo(riseAfterMicros: 450, widthMicros: 5800), triggerNanoseconds: Self.trigger)
            == .distance(centimeters: 100))
    }

    @Test func timeoutPulseIsOutOfRange() {
        #expect(HCSR04Ranging.measure(echo: echo(riseAfterMicros: 450, widthMicros: 38_000), triggerNanoseconds: Self.trigger)
            == .outOfRange)
    }

    @Test func edgesBeforeTheTriggerAndIncompletePulsesAreIgnored() {
        var events = [GPIOEdgeEvent(timestampNanoseconds: Self.trigger - 1000, edge: .rising, offset: 24, seqno: 1, lineSeqno: 1)]
        events.append(GPIOEdgeEvent(timestampNanoseconds: Self.trigger + 2000, edge: .falling, offset: 24, seqno: 2, lineSeqno: 2))
        #expect(HCSR04Ranging.measure(echo: events, triggerNanoseconds: Self.trigger) == .noPulse)
        #expect(HCSR04Ranging.measure(echo: Array(echo(riseAfterMicros: 400, widthMicros: 900).prefix(1)), triggerNanoseconds: Self.trigger)
            == .noPulse)
        // A falling edge after dropped events may not belong to the rise we saw.
        var gap = echo(riseAfterMicros: 400, widthMicros: 900)
        gap[1].missedBefore = 2
        #expect(HCSR04Ranging.measure(echo: gap, triggerNanoseconds: Self.trigger) == .noPulse)
    }

    @Test func medianOfValidPings() {
        #expect(HCSR04Ranging.median([.distance(centimeters: 30), .outOfRange, .distance(centimeters: 10), .distance(centimeters: 20)]) == 20)
        #expect(HCSR04Ranging.median([.distance(centimeters: 10), .distance(centimeters: 20)]) == 15)
        #expect(HCSR04Ranging.median([.noPulse, .outOfRange]) == nil)
    }

    /// Replays recorded pings on a simulated monotonic clock; pauses advance the clock.
    final class ScriptedPinger: UltrasonicPinger {
        let clock: Locked<UInt64>
        let widths: Locked<[UInt64?]>
        let triggers = Locked<[UInt64]>([])

        init(clock: Locked<UInt64>, widthsMicros: [UInt64?]) {
            self.clock = clock
            widths = Locked(widthsMicros)
        }

        func ping() throws -> (triggerNanoseconds: UInt64, echo: [GPIOEdgeEvent]) {
            let start = clock.value
            triggers.withLock { $0.append(start) }
            let width = widths.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            clock.withLock { $0 += 40_000_000 }  // the echo wait
            guard let width else { return (start, []) }
            let rise = start + 400_000
            return (start, [
                GPIOEdgeEvent(timestampNanoseconds: rise, edge: .rising, offset: 24, seqno: 1, lineSeqno: 1),
                GPIOEdgeEvent(timestampNanoseconds: rise + width * 1000, edge: .falling, offset: 24, seqno: 2, lineSeqno: 2),
            ])
        }
    }

    @Test func driverTakesMedianAndSpacesPingsBy60ms() async throws {
        let clock = Locked<UInt64>(1_000_000_000)
        let pinger = ScriptedPinger(clock: clock, widthsMicros: [1160, 5800, 1218])
        let driver = try HCSR04Driver(
            name: "tank", pinger: pinger, samples: 3, interval: .seconds(10), now: { clock.value },
            pause: { micros in clock.withLock { $0 += UInt64(micros) * 1000 } })
        let samples = try await driver.read(now: 0)
        #expect(samples == [SensorSample(sensor: "tank.distance", value: 21)])
        let triggers = pinger.triggers.value
        #expect(triggers.count == 3)
        for (earlier, later) in zip(triggers, triggers.dropFirst()) {
            #expect(later - earlier >= HCSR04Ranging.minimumPingIntervalNanoseconds)
        }
    }

    @Test func nothingInRangeIsNoSampleAndNoEchoIsAFault() async throws {
        let clock = Locked<UInt64>(0)
        let far = try HCSR04Driver(
            name: "tank", pinger: ScriptedPinger(clock: clock, widthsMicros: [38_000]), samples: 1, interval: .seconds(10),
            now: { clock.value }, pause: { _ in })
        #expect(try await far.read(now: 0).isEmpty)
        let silent = try HCSR04Driver(
            name: "tank", pinger: ScriptedPinger(clock: clock, widthsMicros: [nil, nil]), samples: 2, interval: .seconds(10),
            now: { clock.value }, pause: { _ in })
        await #expect {
            try await silent.read(now: 0)
        } throws: { error in "\(error)".contains("no echo pulse after 2 pings") }
    }
}
