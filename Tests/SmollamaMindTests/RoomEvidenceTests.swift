import Foundation
import SmollamaCore
@testable import SmollamaMind
import SmollamaSensors
import SmollamaStore
import SmollamaTesting
import Testing

/// Evidence by kind of quantity (comfort, air, lamps, presence) and the sentences the rules
/// narrator writes from it, each re-checked by the verifier.
@Suite struct RoomEvidenceTests {
    typealias T = HouseTime

    static let bathroom = [
        SensorDescriptor(id: "bathroom.temperature", name: "Bathroom temperature", unit: "°C", deviceClass: "temperature"),
        SensorDescriptor(id: "bathroom.humidity", name: "Bathroom humidity", unit: "%", deviceClass: "humidity"),
    ]

    @Test func dewPointFollowsTheMagnusFormula() {
        // Reference values (Sonntag 1990 constants): 20 °C at 70 % → 14.4 °C; 25 °C at 50 % → 13.9 °C.
        #expect(abs(ComfortLimits.dewPoint(temperature: 20, humidity: 70) - 14.36) < 0.05)
        #expect(abs(ComfortLimits.dewPoint(temperature: 25, humidity: 50) - 13.86) < 0.05)
        #expect(abs(ComfortLimits.dewPoint(temperature: 10, humidity: 100) - 10) < 0.01)
    }

    /// A morning shower: the bathroom above 70 % from 07:00 to 07:40. One sentence when the
    /// stretch ends, with its length and dew point; none in the windows while it lasts.
    @Test func aHumidStretchIsToldOnceWhenItEnds() async throws {
        let store = try await TestStore()
        let day = T.wednesday
        try await seed(store, Self.bathroom, from: day - 7 * T.day, to: day + 9 * T.hour) { sensor, time in
            let minute = (time.rawValue - day.rawValue) / T.minute
            let shower = time >= day && (7 * 60..<7 * 60 + 40).contains(minute)
            return sensor.rawValue.hasSuffix("humidity") ? (shower ? 85 : 55) : 21
        }
        let builder = EvidenceBuilder(database: store.database)
        var told: [(UTCMillis, EvidencePacket, EvidenceFact)] = []
        for index in 24..<36 {  // 06:00–09:00
            let start = day + .milliseconds(Int64(index) * 15 * T.minute)
            let packet = try await builder.build(windowStart: start, windowEnd: start + .milliseconds(15 * T.minute))
            for fact in packet.facts where fact.kind == .comfort { told.append((start, packet, fact)) }
        }
        #expect(told.count == 1, "\(told.map(\.2.line))")
        let (start, packet, fact) = try #require(told.first)
        #expect(start == day + .milliseconds(7 * T.hour + 30 * T.minute))
        #expect(fact.value("time above limit")?.value == 40)
        #expect(fact.value("dew point")?.shown == String(format: "%.1f", ComfortLimits.dewPoint(temperature: 21, humidity: 85)))
        #expect(fact.room == "bathroom" && fact.level == .activity)
        let sentence = try #require(RulesNarrator().narrated(packet).first { $0.situation == .humid })
        #expect(sentence.draft.text.contains("above 70% humidity for 40 minutes") || sentence.draft.text.contains("above 70% for 40 minutes"),
                "\(sentence.draft.text)")
        #expect(ObservationVerifier().verify(sentence.draft, against: packet) == nil, "\(sentence.draft.text)")
    }

    @Test func co2CrossingTheLimitIsToldOnceWithPeakAndRise() throws {
        let clock = LocalClock(timeZone: LocalClock.utc)
        let start = T.wednesday + .milliseconds(10 * T.hour)
        // 700 ppm rising 40 ppm per 5 minutes from 09:30: 1020 ppm in the 10:10 bucket.
        let levels = (0..<15).map { 700 + 40 * Double($0) }
        let rollups = levels.enumerated().map { index, level in
            Rollup(sensor: "office.co2", resolution: .fiveMinutes,
                   bucketStart: start - .milliseconds(30 * T.minute) + .milliseconds(Int64(index) * 5 * T.minute),
                   count: 5, min: level - 10, max: level + 10, sum: level * 5, last: level, lastTime: 0, onCount: 0, onDuration: 0)
        }
        var counter = 0
        let fact = try #require(EvidenceBuilder.airFact(room: "office", sensor: "office.co2", rollups: rollups, start: start,
                                                        clock: clock, id: { counter += 1; return "f\(counter)" }))
        #expect(fact.value("at")?.shown == "10:10")
        #expect(fact.value("limit")?.value == 1000)
        #expect(fact.value("peak")?.value == 1270)  // the 10:40 bucket's max
        #expect(fact.value("time above limit")?.value == 35)
        #expect(fact.value("rise")?.value == 480)  // 240 ppm over the half hour before
        // Already above at the window's start: not a crossing, nothing to say.
        #expect(EvidenceBuilder.airFact(room: "office", sensor: "office.co2", rollups: rollups,
                                        start: start + .milliseconds(15 * T.minute), clock: clock, id: { "f1" }) == nil)
        let packet = Self.packet(start: start, [fact], sensors: [
            SensorDescriptor(id: "office.co2", name: "Office CO₂", unit: "ppm", deviceClass: "carbon_dioxide"),
        ])
        var phrasings: Set<String> = []
        for shift in 0..<3 {
            var shifted = packet
            shifted.windowStart = packet.windowStart + .milliseconds(Int64(shift) * 15 * T.minute)
            shifted.windowEnd = shifted.windowStart + .milliseconds(15 * T.minute)
            let drafts = RulesNarrator().narrated(shifted)
            let draft = try #require(drafts.first { $0.situation == .ventilate }).draft
            #expect(ObservationVerifier().verify(draft, against: shifted) == nil, "\(draft.text)")
            #expect(draft.text.contains("1000 ppm") && draft.text.contains("office") && !draft.text.contains("office.co2"))
            phrasings.insert(draft.text)
        }
        #expect(phrasings.count == 3, "every phrasing in turn: \(phrasings)")
    }

    /// The simulated living room's lamps go off at 23:00 (its own dark hours say it is a lamp);
    /// a lamp at 03:00, an hour its lamps are never on, is unusual.
    @Test func lampsAreToldAgainstTheRoomsOwnDarkHours() async throws {
        let store = try await TestStore()
        let day = T.wednesday
        try await seedSimulatedHouse(store, from: day - 15 * T.day, to: day + T.day, house: Self.ordinaryHouse())
        let builder = EvidenceBuilder(database: store.database)
        let late = day + .milliseconds(23 * T.hour)
        let packet = try await builder.build(windowStart: late, windowEnd: late + .milliseconds(15 * T.minute))
        let off = try #require(packet.facts.first { $0.kind == .light && $0.room == "living_room" }, "\(packet.lines)")
        #expect(off.note == "lamps off" && off.value("at")?.shown == "23:00" && off.level == .activity)
        let sentence = try #require(RulesNarrator().narrated(packet).first {
            $0.situation == .lampsOff && $0.draft.evidenceIDs == [off.id]
        })
        #expect(ObservationVerifier().verify(sentence.draft, against: packet) == nil, "\(sentence.draft.text)")
        #expect(sentence.draft.text.contains("living room"))

        // 03:00 the next night, by hand: the same history plus a lamp at 150 lx from 03:05.
        let history = try await store.database.readings.rollups(
            sensor: "living_room.light", resolution: .fiveMinutes, from: day - .milliseconds(14 * T.day), to: day + .milliseconds(3 * T.hour))
        let night = day + .milliseconds(3 * T.hour)
        let lamp = (0..<3).map { index in
            let level: Double = index == 0 ? 0 : 150
            return Rollup(sensor: "living_room.light", resolution: .fiveMinutes,
                          bucketStart: night + .milliseconds(Int64(index) * 5 * T.minute), count: 5, min: level, max: level,
                          sum: level * 5, last: level, lastTime: 0, onCount: 0, onDuration: 0)
        }
        let fact = try #require(builder.lightFact(room: "living_room", sensor: "living_room.light", rollups: history + lamp,
                                                  start: night, end: night + .milliseconds(15 * T.minute),
                                                  clock: LocalClock(timeZone: LocalClock.utc), id: { "f1" }))
        #expect(fact.level == .unusual && fact.value("at")?.shown == "03:05")
        #expect(fact.value("share of days lit at this hour")?.value == 0)
    }

    /// Presence is in every packet for every room; an arrival or departure is a sentence, a room
    /// that stays as it was is not.
    @Test func presenceChangesAreToldAndSteadyRoomsAreNot() async throws {
        let store = try await TestStore()
        let day = T.wednesday
        try await seedSimulatedHouse(store, from: day - 3 * T.day, to: day + T.day, house: Self.ordinaryHouse())
        let builder = EvidenceBuilder(database: store.database)
        var changes = 0
        var steady = 0
        for index in 0..<96 {
            let start = day + .milliseconds(Int64(index) * 15 * T.minute)
            let packet = try await builder.build(windowStart: start, windowEnd: start + .milliseconds(15 * T.minute))
            let presence = packet.facts.filter { $0.kind == .presence }
            #expect(Set(presence.compactMap(\.room)) == ["hallway", "living_room", "study"])
            for fact in presence {
                #expect(fact.value("confidence") != nil)
                let told = RulesNarrator(limit: 10).narrated(packet).filter {
                    ($0.situation == .arrival || $0.situation == .departure) && $0.draft.evidenceIDs == [fact.id]
                }
                if fact.level == .activity {
                    changes += 1
                    let at = try #require(fact.value("at"))
                    let sentence = try #require(told.first, "\(fact.line)")
                    #expect(sentence.draft.text.contains(at.shown))
                    #expect(ObservationVerifier().verify(sentence.draft, against: packet) == nil, "\(sentence.draft.text)")
                } else {
                    steady += 1
                    #expect(told.isEmpty)
                }
            }
        }
        #expect(changes >= 4, "the household comes and goes: \(changes) changes")
        #expect(steady > 4 * changes, "most windows change nothing: \(steady) steady, \(changes) changes")
    }

    static func ordinaryHouse() -> SimulatedHouseDriver.Options {
        var options = SimulatedHouseDriver.Options()
        options.airRooms = ["study"]
        options.unusualEvents = []
        return options
    }

    static func packet(start: UTCMillis, _ facts: [EvidenceFact], sensors: [SensorDescriptor]) -> EvidencePacket {
        EvidencePacket(
            windowStart: start, windowEnd: start + .milliseconds(15 * T.minute),
            facts: [EvidenceFact(id: "f0", key: "window@\(start)", kind: .window, sensor: nil, values: [
                EvidenceValue(name: "from", value: 10, unit: "time", decimals: 2),
                EvidenceValue(name: "to", value: 10.15, unit: "time", decimals: 2),
                EvidenceValue(name: "length", value: 15, unit: "min", decimals: 0),
            ], level: .ordinary, note: "Wednesday")] + facts,
            sensors: Dictionary(uniqueKeysWithValues: sensors.map { ($0.id, $0) }))
    }
}

/// Writes one reading a minute of `value(sensor, time)` for `[start, end)` and rolls everything up.
func seed(_ store: TestStore, _ sensors: [SensorDescriptor], from start: UTCMillis, to end: UTCMillis,
          value: (SensorID, UTCMillis) -> Double?) async throws {
    let registered = try await store.database.readings.registerSensors(sensors, driver: "test", now: start)
    var batch: [PendingReading] = []
    var time = start
    while time < end {
        for sensor in registered {
            if let reading = value(sensor.descriptor.id, time) {
                batch.append(PendingReading(sensorRowID: sensor.rowID, value: reading, stamp: houseStamp(time)))
            }
        }
        time += .milliseconds(T.minute)
    }
    try await store.database.readings.commit(readings: batch, notices: [], origin: store.node)
    try await store.database.readings.rollUpAll()
}

private typealias T = HouseTime

/// `areas:` moves sensors into a named room for presence, evidence and sentences alike.
@Suite struct AreaEvidenceTests {
    @Test func anAreaIsTheRoomEverywhere() async throws {
        let store = try await TestStore()
        let day = HouseTime.wednesday
        try await seedSimulatedHouse(store, from: day - 3 * HouseTime.day, to: day + HouseTime.day,
                                     house: RoomEvidenceTests.ordinaryHouse())
        let areas: [SensorID: String] = ["study.co2": "office", "study.light": "office"]
        let rooms = try await PresenceReader(database: store.database, timeZone: LocalClock.utc, areas: areas).rooms()
        #expect(rooms.map(\.room) == ["hallway", "living_room", "office"])
        let builder = EvidenceBuilder(database: store.database, settings: EvidenceSettings(areas: areas))
        var told: [String] = []
        for index in 28..<96 {
            let start = day + .milliseconds(Int64(index) * 15 * HouseTime.minute)
            let packet = try await builder.build(windowStart: start, windowEnd: start + .milliseconds(15 * HouseTime.minute))
            #expect(packet.presence.map(\.room) == ["hallway", "living_room", "office"])
            #expect(!packet.facts.contains { $0.room == "study" })
            for (draft, situation, _) in RulesNarrator(limit: 10).narrated(packet)
            where situation == .arrival || situation == .departure {
                guard draft.subjects.contains("study.co2") else { continue }
                #expect(draft.text.contains("office") && !draft.text.contains("study"), "\(draft.text)")
                #expect(ObservationVerifier().verify(draft, against: packet) == nil, "\(draft.text)")
                told.append(draft.text)
            }
        }
        #expect(!told.isEmpty, "the office's comings and goings are told")
    }
}
