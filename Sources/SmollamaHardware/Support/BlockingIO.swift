import Dispatch

/// Runs blocking device I/O (a 750 ms 1-Wire conversion, an I2C transfer, a 60 ms ultrasonic
/// ping) on a dedicated serial queue per device, bridged back with a continuation, so the
/// cooperative thread pool never sleeps inside a driver.
struct BlockingIO: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: "smollama.hardware.\(label)", qos: .utility)
    }

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}
