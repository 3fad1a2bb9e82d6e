#if os(Linux)
import Foundation
import Glibc

/// An allowlisted output line on real hardware.
public final class LinuxGPIOOutput: GPIOOutputLine {
    let request: LinuxGPIORequest

    private init(request: LinuxGPIORequest) { self.request = request }

    /// Requests `line` as an output starting at `initial`, if and only if the allowlist permits it.
    public static func open(
        _ line: GPIOLineSpec, allowlist: GPIOOutputAllowlist, chips: [GPIOChipInfo], chipLabel: String? = nil,
        initial: Bool = false, consumer: String
    ) throws -> LinuxGPIOOutput {
        guard allowlist.permits(line) else { throw GPIOOutputAllowlist.NotAllowed(line: line) }
        let location = try GPIOChipLocator.locate(line, in: chips, chipLabel: chipLabel)
        let request = try LinuxGPIORequest.request(
            chipPath: location.chip.path, offset: location.offset,
            settings: GPIOLineSettings(direction: .output(initial: initial), edgeEvents: false), consumer: consumer)
        return LinuxGPIOOutput(request: request)
    }

    public func set(_ level: Bool) throws { try request.set(level) }
}

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
#endif
