import Foundation
import SmollamaCore
import SmollamaMind
import SmollamaSensors
import SmollamaStore
import SmollamaTesting
import Testing

@Suite struct PresenceTests {
    @Test func roomsAreTheIdsFirstPartUnlessAnAreaIsNamed() {
        let sensors = [
            SensorDescriptor(id: "hallway.motion", name: "m", kind: .binary, deviceClass: "motion"),
            SensorDescriptor(id: "hallway.door", name: "d", kind: .binary, deviceClass: "door"),
            SensorDescriptor(id: "hallway.temperature", name: "t", unit: "°C", deviceClass: "temperature"),
            SensorDescriptor(id: "study.co2", name: "c", unit: "ppm", deviceClass: "carbon_dioxide"),
            SensorDescriptor(id: "desk.lux", name: "l", unit: "lx", deviceClass: "illuminance"),
            SensorDescriptor(id: "cpu_temp", name: "cpu", unit: "°C"),
        ]
        let rooms = PresenceRoom.rooms(sensors, areas: ["desk.lux": "study"])
        #expect(rooms.map(\.room) == ["hallway", "study"])
        #expect(rooms[0].motion == ["hallway.motion"] && rooms[0].doors == ["hallway.door"])
        #expect(rooms[1].co2 == ["study.co2"] && rooms[1].light == ["desk.lux"])
    }

    @Test func localMidnightFollowsDaylightSaving() throws {
        let clock = LocalClock(timeZone: try #require(TimeZone(identifier: "Europe/Berlin")))
        // 2026-03-29: clocks go forward at 02:00; midnight is 23:00 UTC the day before (winter time),
        // the next midnight 22:00 UTC (summer time).
        let noon: UTCMillis = 1_774_785_600_000  // 2026-03-29 12:00 UTC
        let day = clock.dayIndex(noon)
        #expect(clock.midnight(ofDay: day) == 1_774_738_800_000)  // 2026-03-28 23:00 UTC
        #expect(clock.midnight(ofDay: day + 1) == 1_774_821_600_000)  // 2026-03-29 22:00 UTC
        #expect(clock.hour(clock.midnight(ofDay: day)) == 0)
    }

    @Test func windowsAlignLikeTheObservationLoop() {
        let windows = PresenceInference.windows(from: 1_000_000, to: 3_000_000, length: .seconds(900))
        #expect(windows == [900_000..<1_800_000, 1_800_000..<2_700_000, 2_700_000..<3_600_000])
    }

    @Test func aRoomWithoutReadingsIsUnknownAndOneWithoutMotionIsEmpty() {
        var room = PresenceRoom(room: "hallway")
        room.motion = ["hallway.motion"]
        let inference = PresenceInference(timeZone: LocalClock.utc)
        let window: Range<UTCMillis> = 0..<900_000
        let none = inference.infer(room: room, rollups: [:], windows: [window])
        #expect(none.map(\.state) == [.unknown])
        let quiet = (0..<3).map { Rollup(sensor: "hallway.motion", resolution: .fiveMinutes, bucketStart: UTCMillis(rawValue: Int64($0) * 300_000),
                                           count: 1, min: 0, max: 0, sum: 0, last: 0, lastTime: 0, onCount: 0, onDuration: 0) }
        let empty = inference.infer(room: room, rollups: ["hallway.motion": quiet], windows: [window])
        #expect(empty.map(\.state) == [.empty] && empty[0].facts == ["no motion"])
        // One brief movement at the window's edge: someone passed, the room was not occupied.
        var brief = quiet
        brief[2].onCount = 1
        let passed = inference.infer(room: room, rollups: ["hallway.motion": brief], windows: [window])
        #expect(passed.map(\.state) == [.empty] && passed[0].facts == ["motion in 1 of 3 buckets"])
        var busy = quiet
        for index in busy.indices { busy[index].onDuration = 240_000 }
        let occupied = inference.infer(room: room, rollups: ["hallway.motion": busy], windows: [window])
        #expect(occupied.map(\.state) == [.occupied] && occupied[0].facts == ["motion in 3 of 3 buckets"])
        #expect(occupied[0].confidence > 0.8)
    }

    /// The CI-sized score (2 simulated days) against the house's ground truth: a window is truly
    /// occupied when someone was in the room for at least half of it.
    @Test func presenceMatchesTheSimulatedHousesGroundTruth() async throws {
        let store = try await TestStore()
        var options = SimulatedHouseDriver.Options()
        options.airRooms = ["study"]
        let start = HouseTime.tuesday
        let end = start + 2 * HouseTime.day
        try await seedSimulatedHouse(store, from: start, to: end, house: options)
        let house = options.house
        let reader = PresenceReader(database: store.database, timeZone: LocalClock.utc)
        let rows = try await reader.windows(
            from: start, to: end, length: .seconds(15 * 60))
        var accuracy: [String: Double] = [:]
        for room in ["living_room", "hallway", "study"] {
            let mine = rows.filter { $0.room == room }
            #expect(mine.count == 2 * 96, "\(room): one row per window")
            let right = mine.filter { row in
                let truth = house.occupiedShare(room: room, from: row.start.rawValue, to: row.end.rawValue) >= 0.5
                return row.state == (truth ? .occupied : .empty)
            }.count
            accuracy[room] = Double(right) / Double(max(1, mine.count))
        }
        print("presence accuracy over 2 simulated days:", accuracy.sorted { $0.key < $1.key }
            .map { "\($0.key) \(String(format: "%.1f", $0.value * 100)) %" }.joined(separator: ", "))
        // Targets (issue 15): 95 % with motion, 85 % with CO₂ and light only. Measured here:
        // living room 97.4 %, hallway 94.3 %, study 100 %; over 4 weeks (`smollama-bench
        // presence`, BENCHMARKS.md) 97.8 %, 95.2 %, 100 %. Here one window is 0.5 %, and the
        // hallway's 11 misses are windows occupied for 7 or 8 of 15 minutes or visits where the
        // sensor reported far fewer or more minutes than its usual ~60 %. The floors below are
        // this run's figures rounded down, so a regression fails.
        #expect(accuracy["living_room"]! >= 0.95)
        #expect(accuracy["hallway"]! >= 0.94)
        #expect(accuracy["study"]! >= 0.85, "CO₂ and light only")
        // Occupied and empty both happen, so the score is not one state everywhere.
        #expect(Set(rows.filter { $0.room == "study" }.map(\.state)) == [.occupied, .empty])
    }
}
