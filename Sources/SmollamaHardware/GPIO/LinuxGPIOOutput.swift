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

#endif
