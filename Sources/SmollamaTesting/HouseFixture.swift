public import SmollamaCore
import SmollamaSensors
import SmollamaStore

extension TestStore {
    /// Fills the store with the simulated house of `seed` over `[start, end)`, one sample of every
    /// sensor per `step` (stamped synced at its time, as a node with a good clock stores them),
    /// then rolls everything up in batches of `rollupBatch` readings. Returns how many readings.
    /// Different seeds give different houses: the multi-node hub tests use one per node.
    @discardableResult
    public func fillWithSimulatedHouse(seed: UInt64, from start: UTCMillis, to end: UTCMillis, step: Duration = .seconds(60),
                                       rollupBatch: Int = 50_000) async throws -> Int {
        var options = SimulatedHouseDriver.Options()
        options.seed = seed
        let driver = SimulatedHouseDriver(options: options)
        let registered = try await database.readings.registerSensors(driver.sensors, driver: driver.name, now: start)
        let rows = Dictionary(uniqueKeysWithValues: registered.map { ($0.descriptor.id, $0.rowID) })
        var batch: [PendingReading] = []
        var total = 0
        var time = start
        while time < end {
            for sample in driver.samples(at: time.rawValue) {
                guard let row = rows[sample.sensor] else { continue }
                batch.append(PendingReading(sensorRowID: row, value: sample.value,
                                            stamp: .test(time.rawValue, bootID: "house-\(seed)", monotonicNanoseconds: 1)))
            }
            if batch.count >= 20_000 {
                try await database.readings.commit(readings: batch, notices: [], origin: node)
                total += batch.count
                batch.removeAll(keepingCapacity: true)
            }
            time = time + step
        }
        try await database.readings.commit(readings: batch, notices: [], origin: node)
        total += batch.count
        try await database.readings.rollUpAll(batchSize: rollupBatch)
        return total
    }
}
