import Foundation
public import SmollamaCore
public import SmollamaSensors
public import SmollamaStore
public import Logging
import Synchronization

/// A temp directory removed when the value is released... tests keep it for their duration.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "smollama") throws {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `contents` to `relative` (creating folders), returning the full path.
    @discardableResult
    public func write(_ relative: String, _ contents: String) throws -> String {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try contents.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }
}

/// A clock whose wall and monotonic readings the test sets: boot at 1970, jump to 2099, freeze.
public final class TestClockSource: ClockSource, Sendable {
    private let state: Mutex<(wall: Int64, monotonic: UInt64)>
    public let bootID: String

    public init(wall: Int64, monotonic: UInt64 = 1_000_000_000, bootID: String = "test-boot") {
        state = Mutex((wall, monotonic))
        self.bootID = bootID
    }

    public func wallMilliseconds() -> Int64 { state.withLock { $0.wall } }
    public func monotonicNanoseconds() -> UInt64 { state.withLock { $0.monotonic } }

    /// Moves both clocks forward by the same amount (time really passing).
    public func advance(milliseconds: Int64) {
        state.withLock {
            $0.wall += milliseconds
            $0.monotonic += UInt64(milliseconds) * 1_000_000
        }
    }

    /// Sets the wall clock only (someone or something changed it).
    public func setWall(_ wall: Int64) { state.withLock { $0.wall = wall } }
}

extension ClockStamp {
    /// The stamp tests give events and readings: a synced clock reading `milliseconds` (the one
    /// helper, instead of one per suite).
    public static func test(_ milliseconds: Int64, bootID: String = "test", monotonicNanoseconds: UInt64 = 0) -> ClockStamp {
        ClockStamp(hlc: HLCTimestamp(milliseconds: milliseconds, counter: 0), bootID: bootID,
                   monotonicNanoseconds: monotonicNanoseconds, quality: .synced)
    }
}

/// A driver whose behaviour the test scripts: values, errors, NaN, or never answering.
public struct ScriptedDriver: SensorDriver {
    public enum Behaviour: Sendable {
        case values([Double])
        case fail(String)
        /// Never returns and ignores cancellation, like a read stuck in a syscall.
        case hang
    }

    public let name: String
    public let sensors: [SensorDescriptor]
    public let interval: Duration
    private let behaviour: Behaviour
    private let calls = CallCounter()

    public init(name: String, behaviour: Behaviour, interval: Duration = .milliseconds(20), kind: SensorDescriptor.Kind = .numeric,
                range: ClosedRange<Double>? = nil) {
        self.name = name
        self.behaviour = behaviour
        self.interval = interval
        self.sensors = [SensorDescriptor(id: SensorID("\(name).value"), name: name, kind: kind, range: range)]
    }

    public func read(now: UTCMillis) async throws -> [SensorSample] {
        let call = calls.next()
        switch behaviour {
        case .values(let values):
            return [SensorSample(sensor: sensors[0].id, value: values[(call - 1) % values.count])]
        case .fail(let message):
            throw SensorFault(driver: name, message)
        case .hang:
            // Sleeps on a blocking semaphore-like wait that cancellation cannot interrupt.
            await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in }
            return []
        }
    }
}

final class CallCounter: Sendable {
    private let count = Mutex(0)
    func next() -> Int {
        count.withLock { value in
            value += 1
            return value
        }
    }
}

/// A fresh store in a temp directory, with a node id.
public struct TestStore: Sendable {
    public let directory: TemporaryDirectory
    public let database: SmollamaDatabase
    public let node: NodeID

    public init() async throws {
        directory = try TemporaryDirectory("store")
        database = try SmollamaDatabase.open(path: directory.path + "/test.sqlite")
        node = NodeID.random()
        try await database.meta.claim(for: node, incarnation: 1)
    }

    public var path: String { directory.path + "/test.sqlite" }
}

/// Readings of the simulated house at its interval over a span, as the scheduler would store them.
public func simulatedReadings(seed: UInt64 = 42, from start: UTCMillis, count: Int, step: Int64 = 10_000) -> [Reading] {
    var options = SimulatedHouseDriver.Options()
    options.seed = seed
    let driver = SimulatedHouseDriver(options: options)
    var readings: [Reading] = []
    readings.reserveCapacity(count)
    var time = start.rawValue
    while readings.count < count {
        for sample in driver.samples(at: time) where readings.count < count {
            readings.append(Reading(sensor: sample.sensor, time: UTCMillis(rawValue: time), value: sample.value))
        }
        time += step
    }
    return readings
}

extension Logger {
    /// A logger that prints nothing: tests assert on state, not on log lines.
    public static var quiet: Logger { Logger(label: "test") { _ in SwiftLogNoOpLogHandler() } }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held. Tests wait on
/// conditions, never on fixed sleeps, so a loaded CI machine slows them down without failing them.
public func eventually(timeout: Duration = .seconds(30), poll: Duration = .milliseconds(50),
                       _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: poll)
    }
    return try await condition()
}
