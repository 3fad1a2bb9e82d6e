#if os(Linux)
import Foundation
import Logging
import Testing
@testable import SmollamaHardware
import SmollamaCore
import SmollamaSensors

/// Runs only inside the VM that `scripts/kernel-check.sh` boots when it could load gpio-sim:
/// a simulated chip labelled `pinctrl-rp1` with lines named GPIO0…GPIO27, driven through the
/// simulator's sysfs `pull` attributes. Checks the real GPIO v2 ioctls end to end.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SMOLLAMA_GPIO_SIM_DIR"] != nil), .serialized)
struct KernelGPIOSimTests {
    var simDirectory: String { ProcessInfo.processInfo.environment["SMOLLAMA_GPIO_SIM_DIR"] ?? "" }
    var context: DriverContext { DriverContext(dataDirectory: "/tmp", logger: Logger(label: "kernel-check")) }

    func pull(_ line: Int, _ up: Bool) throws {
        guard let handle = FileHandle(forWritingAtPath: "\(simDirectory)/sim_gpio\(line)/pull") else {
            throw OSError(code: 2)
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data((up ? "pull-up" : "pull-down").utf8))
    }

    func simValue(_ line: Int) throws -> String {
        try SysfsFile.read("\(simDirectory)/sim_gpio\(line)/value")
    }

    /// Collects `count` items from `stream` while `drive` toggles lines; fails after 10 s.
    func collect<T: Sendable>(
        _ count: Int, from stream: AsyncThrowingStream<T, any Error>, drive: @escaping @Sendable () async throws -> Void
    ) async throws -> [T] {
        try await withThrowingTaskGroup(of: [T]?.self) { group in
            group.addTask {
                var items: [T] = []
                for try await item in stream {
                    items.append(item)
                    if items.count == count { break }
                }
                return items
            }
            group.addTask {
                try await Task.sleep(for: .milliseconds(300))  // the reader thread is polling by now
                try await drive()
                try await Task.sleep(for: .seconds(10))
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let items = result { return items }
            }
            return []
        }
    }

    @Test func chipIsFoundByLabelAndLineName() throws {
        let chips = try LinuxGPIOChipProbe(deviceDirectory: "/dev").chips()
        print("chips:", chips.map { "\($0.name) \($0.label) \($0.lineCount)" })
        let location = try GPIOChipLocator.locate(.named("GPIO17"), in: chips)
        #expect(location.chip.label == "pinctrl-rp1")
        #expect(location.offset == 17)
        #expect(try GPIOChipLocator.locate(.headerNumber(22), in: chips).offset == 22)
    }

    @Test func edgesArriveWithKernelTimestampsAndSequenceNumbers() async throws {
        let chips = try LinuxGPIOChipProbe(deviceDirectory: "/dev").chips()
        let input = LinuxGPIOInput(settings: GPIOLineSettings(direction: .input, edgeEvents: true), consumer: "smollama-test") {
            try GPIOChipLocator.locate(.named("GPIO17"), in: chips)
        }
        #expect(try input.value() == false)
        let edges = try await collect(3, from: input.edges()) {
            try pull(17, true)
            try await Task.sleep(for: .milliseconds(50))
            try pull(17, false)
            try await Task.sleep(for: .milliseconds(50))
            try pull(17, true)
        }
        print("edges:", edges)
        #expect(edges.map(\.edge) == [.rising, .falling, .rising])
        #expect(edges.map(\.offset) == [17, 17, 17])
        #expect(edges.map(\.seqno) == [1, 2, 3])
        #expect(edges.map(\.lineSeqno) == [1, 2, 3])
        #expect(edges.allSatisfy { $0.missedBefore == 0 })
        let gaps = zip(edges, edges.dropFirst()).map { $1.timestampNanoseconds - $0.timestampNanoseconds }
        #expect(gaps.allSatisfy { $0 >= 40_000_000 && $0 < 2_000_000_000 })
        #expect(try input.value() == true)
        try pull(17, false)
    }

    @Test func gpioDriverFromConfigWithBiasAndDebounce() async throws {
        let kinds = SensorDriverRegistry(SensorDriverKind.linuxDriverKinds)
        let decoder = JSONDecoder()
        decoder.userInfo = [Built.kindKey: kinds.kind(named: "gpio")!, Built.contextKey: context]
        let built = try decoder.decode(Built.self, from: Data(#"{"name": "door", "line": "GPIO22", "debounce": "1ms"}"#.utf8))
        let driver = built.driver as! any EventSensorDriver
        let samples = try await collect(2, from: driver.events()) {
            try pull(22, true)
            try await Task.sleep(for: .milliseconds(100))
            try pull(22, false)
        }
        #expect(samples == [SensorSample(sensor: "door.state", value: 1), SensorSample(sensor: "door.state", value: 0)])
        #expect(try await driver.read(now: 0) == [SensorSample(sensor: "door.state", value: 0)])
    }

    @Test func pirDriverFromConfig() async throws {
        let kinds = SensorDriverRegistry(SensorDriverKind.linuxDriverKinds)
        let decoder = JSONDecoder()
        decoder.userInfo = [Built.kindKey: kinds.kind(named: "pir")!, Built.contextKey: context]
        let built = try decoder.decode(Built.self, from: Data(#"{"name": "hall", "line": 5, "warm_up": "0s"}"#.utf8))
        let driver = built.driver as! any EventSensorDriver
        let samples = try await collect(2, from: driver.events()) {
            try pull(5, true)
            try await Task.sleep(for: .milliseconds(100))
            try pull(5, false)
        }
        #expect(samples.map(\.value) == [1, 0])
        #expect(samples.allSatisfy { $0.sensor == "hall.motion" })
    }

    @Test func allowlistedOutputDrivesTheLine() throws {
        let chips = try LinuxGPIOChipProbe(deviceDirectory: "/dev").chips()
        #expect(throws: GPIOOutputAllowlist.NotAllowed.self) {
            try LinuxGPIOOutput.open(.named("GPIO27"), allowlist: GPIOOutputAllowlist(), chips: chips, consumer: "t")
        }
        let output = try LinuxGPIOOutput.open(
            .named("GPIO27"), allowlist: GPIOOutputAllowlist(lines: [.headerNumber(27)]), chips: chips, consumer: "smollama-relay")
        #expect(try simValue(27) == "0")
        try output.set(true)
        #expect(try simValue(27) == "1")
        try output.set(false)
        #expect(try simValue(27) == "0")
    }

    /// Decodes one entry through a kind, as the node's config loader does.
    struct Built: Decodable {
        static let kindKey = CodingUserInfoKey(rawValue: "kind")!
        static let contextKey = CodingUserInfoKey(rawValue: "context")!
        let driver: any SensorDriver
        init(from decoder: any Decoder) throws {
            let kind = decoder.userInfo[Self.kindKey] as! SensorDriverKind
            driver = try kind.make(decoder, decoder.userInfo[Self.contextKey] as! DriverContext)
        }
    }
}
#endif
