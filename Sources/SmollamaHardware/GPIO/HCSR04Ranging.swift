/// Distance from an HC-SR04 echo pulse: the module raises ECHO for as long as the sound took to
/// return, so distance (cm) ≈ pulse width (µs) / 58. Pulse width comes from the kernel's edge
/// timestamps, not from when userspace happened to run.
public enum HCSR04Ranging {
    /// The datasheet's minimum time between pings, so an echo of the last ping is not measured.
    public static let minimumPingIntervalNanoseconds: UInt64 = 60_000_000
    /// The module holds ECHO ~38 ms when nothing reflects; anything that long is "no echo".
    public static let noEchoPulseNanoseconds: UInt64 = 36_000_000

    public enum Outcome: Hashable, Sendable {
        case distance(centimeters: Double)
        /// Nothing reflected within range (the ~38 ms timeout pulse).
        case outOfRange
        /// No complete pulse was seen (wiring, power, missed edge).
        case noPulse
    }

    /// Centimetres for a pulse of `nanoseconds`.
    public static func centimeters(pulseNanoseconds nanoseconds: UInt64) -> Double {
        Double(nanoseconds) / 1000 / 58
    }

    /// Measures the first complete rising→falling pulse after `triggerNanoseconds`.
    public static func measure(echo events: [GPIOEdgeEvent], triggerNanoseconds: UInt64) -> Outcome {
        var rise: UInt64?
        for event in events where event.timestampNanoseconds >= triggerNanoseconds {
            switch event.edge {
            case .rising:
                rise = event.timestampNanoseconds
            case .falling:
                guard let start = rise, event.missedBefore == 0 else {
                    rise = nil
                    continue
                }
                let width = event.timestampNanoseconds - start
                if width >= noEchoPulseNanoseconds { return .outOfRange }
                return .distance(centimeters: centimeters(pulseNanoseconds: width))
            }
        }
        return .noPulse
    }

    /// The median of the valid distances, or nil when no ping gave one.
    public static func median(_ outcomes: [Outcome]) -> Double? {
        let values = outcomes.compactMap { outcome -> Double? in
            if case .distance(let cm) = outcome { return cm }
            return nil
        }.sorted()
        guard !values.isEmpty else { return nil }
        let middle = values.count / 2
        return values.count % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2
    }
}
