#if os(Linux)
import Foundation
import Glibc

/// HC-SR04 on real lines: TRIG requested as an output (low), ECHO as an input with both edges.
public final class LinuxUltrasonicPinger: UltrasonicPinger {
    let trigger: LinuxGPIORequest
    let echo: LinuxGPIORequest

    public init(trigger: GPIOLineLocation, echo: GPIOLineLocation, consumer: String) throws {
        self.trigger = try LinuxGPIORequest.request(
            chipPath: trigger.chip.path, offset: trigger.offset,
            settings: GPIOLineSettings(direction: .output(initial: false), edgeEvents: false), consumer: consumer)
        self.echo = try LinuxGPIORequest.request(
            chipPath: echo.chip.path, offset: echo.offset,
            settings: GPIOLineSettings(direction: .input, edgeEvents: true, bias: .pullDown), consumer: consumer)
    }

    public func ping() throws -> (triggerNanoseconds: UInt64, echo: [GPIOEdgeEvent]) {
        var decoder = GPIOEventDecoder()
        // Discard edges left from an earlier ping.
        while !(try echo.readEvents(timeoutMilliseconds: 0)).isEmpty {}
        let start = MonotonicClock.nowNanoseconds()
        try trigger.set(true)
        usleep(10)
        try trigger.set(false)
        var events: [GPIOEdgeEvent] = []
        let deadline = start + 50_000_000
        while MonotonicClock.nowNanoseconds() < deadline {
            let remaining = Int32((deadline - min(deadline, MonotonicClock.nowNanoseconds())) / 1_000_000) + 1
            events += try decoder.feed(echo.readEvents(timeoutMilliseconds: remaining))
            if events.contains(where: { $0.edge == .falling && $0.timestampNanoseconds > start }) { break }
        }
        return (start, events)
    }
}

/// Requests the HC-SR04's lines on the first ping, and again after a failure.
final class LazyUltrasonicPinger: UltrasonicPinger {
    let trigger: @Sendable () throws -> GPIOLineLocation
    let echo: @Sendable () throws -> GPIOLineLocation
    let consumer: String
    private let pinger = Locked<LinuxUltrasonicPinger?>(nil)

    init(
        trigger: @escaping @Sendable () throws -> GPIOLineLocation, echo: @escaping @Sendable () throws -> GPIOLineLocation,
        consumer: String
    ) {
        self.trigger = trigger
        self.echo = echo
        self.consumer = consumer
    }

    func ping() throws -> (triggerNanoseconds: UInt64, echo: [GPIOEdgeEvent]) {
        let current = try pinger.withLock { current -> LinuxUltrasonicPinger in
            if let current { return current }
            let made = try LinuxUltrasonicPinger(trigger: trigger(), echo: echo(), consumer: consumer)
            current = made
            return made
        }
        do { return try current.ping() } catch {
            pinger.value = nil
            throw error
        }
    }
}
#endif
