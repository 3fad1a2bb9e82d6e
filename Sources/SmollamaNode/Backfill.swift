import Foundation
import SmollamaCore
public import SmollamaSensors
import SmollamaStore

/// `smollama simulate --days N`: fills a fresh store with the simulated house's past, in
/// compressed time (90 days in seconds), so charts, baselines and benchmarks have history.
public enum Backfill {
    public struct Progress: Sendable {
        public var done: Int64
        public var total: Int64
        public var readings: Int
    }

    public enum Failure: Error, CustomStringConvertible {
        case noSimulatedHouse
        case storeHasNewerReadings(start: Int64)

        public var description: String {
            switch self {
            case .noSimulatedHouse:
                "the config has no enabled `simulated_house` driver to backfill from; "
                    + "`smollama init --demo --force` writes one (the node's identity is kept)"
            case .storeHasNewerReadings(let start):
                "the store already has readings after \(Date(timeIntervalSince1970: Double(start) / 1000)); "
                    + "backfill only fills history before any live readings (use a fresh SMOLLAMA_HOME)"
            }
        }
    }

    /// Generates readings from `end - duration` to `end` at each house driver's interval, storing
    /// binary sensors as transitions plus a heartbeat, exactly as the live scheduler would.
    /// Returns the number of readings written.
    @discardableResult
    public static func simulate(runtime: NodeRuntime, duration: Int64, end: Int64, context: DriverContext,
                                progress: (Progress) -> Void = { _ in }) async throws -> Int {
        let houses = try runtime.makeDrivers(context: context).compactMap { $0.driver as? SimulatedHouseDriver }
        guard !houses.isEmpty else { throw Failure.noSimulatedHouse }
        let start = end - duration
        if let newest = try await runtime.database.storeStatus().newestReadingTime, newest.rawValue >= start {
            throw Failure.storeHasNewerReadings(start: start)
        }
        let bootID = "backfill-\(UUID().uuidString.lowercased())"
        var written = 0
        for house in houses {
            let registered = try await runtime.database.readings.registerSensors(house.sensors, driver: house.name, simulated: true,
                                                                                now: UTCMillis(rawValue: start))
            let rows = Dictionary(uniqueKeysWithValues: registered.map { ($0.descriptor.id, $0) })
            let step = Int64(house.interval.components.seconds * 1000
                             + house.interval.components.attoseconds / 1_000_000_000_000_000)
            let heartbeat: Int64 = 5 * 60_000
            var last: [SensorID: (value: Double, time: Int64)] = [:]
            var batch: [PendingReading] = []
            var time = start
            while time < end {
                for sample in house.samples(at: time) {
                    guard let sensor = rows[sample.sensor] else { continue }
                    if sensor.descriptor.kind == .binary, let previous = last[sample.sensor],
                       previous.value == sample.value, time - previous.time < heartbeat { continue }
                    last[sample.sensor] = (sample.value, time)
                    let stamp = ClockStamp(hlc: HLCTimestamp(milliseconds: time, counter: 0), bootID: bootID,
                                           monotonicNanoseconds: UInt64(time - start) * 1_000_000, quality: .synced)
                    batch.append(PendingReading(sensorRowID: sensor.rowID, value: sample.value, stamp: stamp))
                }
                if batch.count >= 10_000 {
                    try await runtime.database.readings.commit(readings: batch, notices: [], origin: runtime.identity.nodeID)
                    written += batch.count
                    batch.removeAll(keepingCapacity: true)
                    progress(Progress(done: time - start, total: duration, readings: written))
                }
                time += step
            }
            try await runtime.database.readings.commit(readings: batch, notices: [], origin: runtime.identity.nodeID)
            written += batch.count
        }
        progress(Progress(done: duration, total: duration, readings: written))
        try await runtime.database.readings.rollUpAll()
        return written
    }
}
