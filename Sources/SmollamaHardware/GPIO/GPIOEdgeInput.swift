/// An input line drivers read: its current level and a stream of its edges. Real hardware is
/// `LinuxGPIOInput`; tests replay recorded traces.
public protocol GPIOEdgeInput: Sendable {
    /// The line's current logical level (after `active_low`).
    func value() throws -> Bool
    /// Edges as the kernel reports them, until the stream is cancelled or the line fails.
    func edges() -> AsyncThrowingStream<GPIOEdgeEvent, any Error>
}

/// An output line (HC-SR04 trigger, LED, relay).
public protocol GPIOOutputLine: Sendable {
    func set(_ level: Bool) throws
}
