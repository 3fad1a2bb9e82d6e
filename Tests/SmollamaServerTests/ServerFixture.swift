import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SmollamaCore
@testable import SmollamaServer
import SmollamaStore
import SmollamaTesting

/// A store with two days of a temperature and a motion sensor, a hostile sensor and log line,
/// and a fixed clock, served by the real `buildApplication`.
struct ServerFixture {
    static let now: UTCMillis = 1_800_000_000_000
    static let evil = #"<script>alert("x")</script>'"#

    let store: TestStore
    var environment: DashboardEnvironment

    init(http: HTTPConfig = HTTPConfig(), nodeName: String = "shed", role: String = "alpaca") async throws {
        store = try await TestStore()
        let database = store.database
        let sensors = [
            SensorDescriptor(id: "shed.temperature", name: "Shed temperature", unit: "°C"),
            SensorDescriptor(id: "shed.motion", name: "Shed motion", kind: .binary),
            SensorDescriptor(id: "shed.evil", name: "Evil " + Self.evil, unit: "\"><b>"),
        ]
        let registered = try await database.readings.registerSensors(sensors, driver: "test", now: Self.now - 2 * 86_400_000)
        var pending: [PendingReading] = []
        var time = Self.now - 2 * 86_400_000
        var step: Int64 = 0
        while time <= Self.now - 30_000 {
            let stamp = Self.stamp(time)
            pending.append(.init(sensorRowID: registered[0].rowID, value: 15 + 5 * sin(Double(step) / 40), stamp: stamp))
            pending.append(.init(sensorRowID: registered[1].rowID, value: step % 7 == 0 ? 1 : 0, stamp: stamp))
            pending.append(.init(sensorRowID: registered[2].rowID, value: 1, stamp: stamp))
            time += 60_000
            step += 1
        }
        try await database.readings.commit(readings: pending, notices: [], origin: store.node)
        try await database.readings.rollUpAll()
        try await Self.appendNotice(database, origin: store.node, sensor: "shed.evil", reason: Self.evil,
                                    time: Self.now - 60_000)
        try await Self.appendNotice(database, origin: store.node, sensor: "shed.temperature", reason: "i2c timeout",
                                    time: Self.now - 50_000)
        environment = DashboardEnvironment(
            node: NodeInfo(id: store.node, name: nodeName, role: role), database: database, databasePath: store.path,
            http: http, now: { Self.now })
    }

    static func stamp(_ time: UTCMillis) -> ClockStamp {
        .test(time, bootID: "boot")
    }

    @discardableResult
    static func appendNotice(_ database: SmollamaDatabase, origin: NodeID, sensor: String, reason: String, time: UTCMillis)
        async throws -> Event
    {
        let fault = Notice.SensorFault(sensor: SensorID(sensor), reason: reason, consecutiveFailures: 3)
        return try await database.events.appendEvent(.sensorFault(fault), origin: origin, stamp: stamp(time))
    }

    func app() throws -> some ApplicationProtocol {
        try buildApplication(environment: environment, logger: .quiet)
    }

    func test<Value>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await app().test(.router, body)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    func json<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(type, from: Data(String(buffer: body).utf8)) }
}
