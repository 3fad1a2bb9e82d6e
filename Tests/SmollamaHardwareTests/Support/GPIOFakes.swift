import Foundation
import Synchronization
@testable import SmollamaHardware

/// An input line that replays a recorded edge trace and reports a fixed current level.
final class ReplayInput: GPIOEdgeInput {
    let trace: [GPIOEdgeEvent]
    let level: Mutex<Bool>
    let failure: (any Error & Sendable)?

    init(trace: [GPIOEdgeEvent], level: Bool = false, failure: (any Error & Sendable)? = nil) {
        self.trace = trace
        self.level = Mutex(level)
        self.failure = failure
    }

    func value() throws -> Bool {
        if let failure { throw failure }
        return level.withLock { $0 }
    }

    func edges() -> AsyncThrowingStream<GPIOEdgeEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<GPIOEdgeEvent, any Error>.makeStream()
        for event in trace { continuation.yield(event) }
        if let failure { continuation.finish(throwing: failure) } else { continuation.finish() }
        return stream
    }
}

/// A trace as recorded with `gpiomon --format="%S %E"` style lines: seconds.nanoseconds and edge.
func parseTrace(_ text: String, offset: UInt32 = 17) -> [GPIOEdgeEvent] {
    var seqno: UInt32 = 0
    return text.split(separator: "\n").compactMap { line in
        let parts = line.split(separator: " ")
        guard parts.count >= 2 else { return nil }
        let time = parts[0].split(separator: ".")
        let ns = UInt64(time[0])! * 1_000_000_000 + (time.count > 1 ? UInt64(time[1].padding(toLength: 9, withPad: "0", startingAt: 0))! : 0)
        // An optional third field "+N" marks N events the kernel dropped before this one.
        let missed = parts.count > 2 ? UInt32(parts[2].dropFirst())! : 0
        seqno += 1 + missed
        return GPIOEdgeEvent(
            timestampNanoseconds: ns, edge: parts[1] == "rising" ? .rising : .falling, offset: offset, seqno: seqno,
            lineSeqno: seqno, missedBefore: missed)
    }
}

/// Chip layouts as the kernels report them.
enum BoardLayouts {
    static func headerNames(count: Int) -> [String] {
        ["ID_SDA", "ID_SCL"] + (2..<28).map { "GPIO\($0)" } + Array(repeating: "", count: count - 28)
    }

    static let pi4: [GPIOChipInfo] = [
        GPIOChipInfo(path: "/dev/gpiochip0", name: "gpiochip0", label: "pinctrl-bcm2711", lineCount: 58, lineNames: headerNames(count: 58)),
        GPIOChipInfo(
            path: "/dev/gpiochip1", name: "gpiochip1", label: "raspberrypi-exp-gpio", lineCount: 8,
            lineNames: ["BT_ON", "WL_ON", "PWR_LED_OFF", "GLOBAL_RESET", "VDD_SD_IO_SEL", "CAM_GPIO", "SD_PWR_ON", "SD_OC_N"]),
    ]

    static let pi3: [GPIOChipInfo] = [
        GPIOChipInfo(path: "/dev/gpiochip0", name: "gpiochip0", label: "pinctrl-bcm2835", lineCount: 54, lineNames: headerNames(count: 54)),
        GPIOChipInfo(path: "/dev/gpiochip1", name: "gpiochip1", label: "raspberrypi-exp-gpio", lineCount: 8, lineNames: []),
    ]

    static let brcmstb: [(String, Int)] = [
        ("gpio-brcmstb@107d508500", 32), ("gpio-brcmstb@107d508520", 4), ("gpio-brcmstb@107d517c00", 17),
        ("gpio-brcmstb@107d517c20", 6),
    ]

    /// Pi 5 on recent kernels: the RP1 header chip is gpiochip0, the SoC's chips gpiochip10 and up.
    static let pi5Recent: [GPIOChipInfo] =
        [
            GPIOChipInfo(path: "/dev/gpiochip0", name: "gpiochip0", label: "pinctrl-rp1", lineCount: 54, lineNames: headerNames(count: 54))
        ]
        + brcmstb.enumerated().map { index, chip in
            GPIOChipInfo(
                path: "/dev/gpiochip\(10 + index)", name: "gpiochip\(10 + index)", label: chip.0, lineCount: chip.1,
                lineNames: Array(repeating: "", count: chip.1))
        }

    /// Pi 5 on early kernels: the SoC's chips first, the header chip gpiochip4.
    static let pi5Early: [GPIOChipInfo] =
        brcmstb.enumerated().map { index, chip in
            GPIOChipInfo(
                path: "/dev/gpiochip\(index)", name: "gpiochip\(index)", label: chip.0, lineCount: chip.1,
                lineNames: Array(repeating: "", count: chip.1))
        } + [
            GPIOChipInfo(path: "/dev/gpiochip4", name: "gpiochip4", label: "pinctrl-rp1", lineCount: 54, lineNames: headerNames(count: 54))
        ]
}

struct FixedChips: GPIOChipProbe {
    var list: [GPIOChipInfo]
    func chips() throws -> [GPIOChipInfo] { list }
}
