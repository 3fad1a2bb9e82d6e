import Foundation
import SmollamaCore
import SmollamaSensors
import SmollamaStore

extension PagesBench {
    struct Seeded {
        var database: SmollamaDatabase
        var readings: Int
        var events: Int
        /// The wall clock the pages are served at: just after the newest reading.
        var now: UTCMillis
    }

    /// A store holding `days` of the simulated house as a live node writes it (as `smollama
    /// simulate` does, plus what the live node adds): numbers every `step`, binary sensors on
    /// change or every 5 minutes with a `sensor.changed` notice per change, an observation every
    /// 30 minutes, everything rolled up. Reused when the file exists.
    static func seed(path: String, days: Int, step: Int) async throws -> Seeded {
        let exists = FileManager.default.fileExists(atPath: path)
        let database = try SmollamaDatabase.open(path: path)
        if exists, let newest = try await database.storeStatus().newestReadingTime {
            let status = try await database.storeStatus()
            return Seeded(database: database, readings: Int(status.readingCount), events: Int(status.eventCount),
                          now: newest + .seconds(Int64(step)))
        }
        try await database.meta.claim(for: node, incarnation: 1)
        let house = SimulatedHouseDriver(options: .init())
        let registered = try await database.readings.registerSensors(house.sensors, driver: "house", simulated: true, now: 0)
        let rows = Dictionary(uniqueKeysWithValues: registered.map { ($0.descriptor.id, $0) })
        let end = (UTCMillis.now().rawValue / 1000) * 1000
        let start = end - Int64(days) * 86_400_000
        let heartbeat: Int64 = 5 * 60_000
        var last: [SensorID: (value: Double, time: Int64)] = [:]
        var batch: [PendingReading] = []
        var notices: [PendingNotice] = []
        var written = 0, events = 0
        var time = start
        var nextObservation = start + 1_800_000
        while time < end {
            let stamp = ClockStamp(hlc: HLCTimestamp(milliseconds: time, counter: 0), bootID: "bench",
                                   monotonicNanoseconds: UInt64(time - start) * 1_000_000, quality: .synced)
            for sample in house.samples(at: time) {
                guard let sensor = rows[sample.sensor] else { continue }
                if sensor.descriptor.kind == .binary, let previous = last[sample.sensor] {
                    if previous.value == sample.value, time - previous.time < heartbeat { continue }
                    if previous.value != sample.value {
                        notices.append(try PendingNotice(.binaryChanged(Notice.BinaryChanged(
                            sensor: sample.sensor, value: sample.value, time: UTCMillis(rawValue: time))), stamp: stamp))
                    }
                }
                last[sample.sensor] = (sample.value, time)
                batch.append(PendingReading(sensorRowID: sensor.rowID, value: sample.value, stamp: stamp))
            }
            if time >= nextObservation {
                let record = ObservationRecord(
                    id: UUID().uuidString.lowercased(), kind: "activity", subjects: ["living_room"],
                    text: "The living room was quiet and 21.5 °C between \(time) and \(time + 1_800_000).",
                    evidenceIDs: ["f0"], importance: 0.3, generator: .rules,
                    timeStart: UTCMillis(rawValue: time - 1_800_000), timeEnd: UTCMillis(rawValue: time), confidence: 0.9)
                notices.append(try PendingNotice(.observation(record), stamp: stamp))
                nextObservation += 1_800_000
            }
            if batch.count >= 10_000 {
                try await database.readings.commit(readings: batch, notices: notices, origin: node)
                written += batch.count
                events += notices.count
                batch.removeAll(keepingCapacity: true)
                notices.removeAll(keepingCapacity: true)
            }
            time += Int64(step) * 1000
        }
        try await database.readings.commit(readings: batch, notices: notices, origin: node)
        written += batch.count
        events += notices.count
        try await database.readings.rollUpAll()
        return Seeded(database: database, readings: written, events: events, now: UTCMillis(rawValue: time))
    }
}
