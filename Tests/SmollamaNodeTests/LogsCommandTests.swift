import Foundation
import SmollamaCore
import SmollamaNode
import SmollamaStore
import SmollamaTesting
import Testing

/// `smollama logs` as the seed's docs write it: `--tail` alone works, observations come first.
@Suite struct LogsCommandTests {
    @Test func tailWithoutANumberShowsObservationsFirst() async throws {
        try SmollamaBinary.checkBuilt()
        let home = try TemporaryDirectory("logs-cli")
        #expect(try await SmollamaBinary.run(["init", "--demo", "--name", "logsnode"], home: home.path).status == 0)
        let runtime = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: [])
        let base: UTCMillis = 1_795_478_400_000
        func stamp(_ time: UTCMillis) -> ClockStamp {
            ClockStamp(hlc: HLCTimestamp(milliseconds: time.rawValue, counter: 0), bootID: "test", monotonicNanoseconds: 1,
                       quality: .synced)
        }
        // A notice written after the observation: the newest entry, yet shown second.
        let observation = ObservationRecord(
            id: "obs1", kind: "anomaly", subjects: ["hallway.motion"], text: "Motion in the hallway at 03:10.",
            evidenceIDs: ["hallway.motion/quiet-ended@1"], importance: 0.9, generator: .rules, timeStart: base,
            timeEnd: base + 900_000)
        try await runtime.database.knowledge.record(observation, origin: runtime.identity.nodeID, stamp: stamp(base + 1_000_000))
        let change = Notice.BinaryChanged(sensor: "hallway.door", value: 1, time: base + 2_000_000)
        try await runtime.database.readings.commit(
            readings: [],
            notices: [try PendingNotice(.binaryChanged(change), stamp: stamp(base + 2_000_000))],
            origin: runtime.identity.nodeID)

        for arguments in [["logs", "--tail"], ["logs", "--tail", "--observations"], ["logs", "--tail", "5"]] {
            let output = try await SmollamaBinary.run(arguments, home: home.path)
            #expect(output.status == 0, "\(arguments): \(output.stderr)")
            #expect(output.stdout.contains("[rules, support 1] Motion in"), "\(arguments)")
        }
        let both = try await SmollamaBinary.run(["logs", "--tail"], home: home.path).stdout
        let observationAt = try #require(both.range(of: "Motion in")).lowerBound
        let noticeAt = try #require(both.range(of: "hallway.door")).lowerBound
        #expect(observationAt < noticeAt)
        #expect(both.hasPrefix("Observations\n"))
        #expect(!(try await SmollamaBinary.run(["logs", "--tail", "--observations"], home: home.path).stdout.contains("hallway.door")))
        // Issue 18: another node's text reached the terminal raw; escape sequences and bidi
        // overrides are shown inert.
        let hostile = ObservationRecord(
            id: "obs2", kind: "activity", subjects: ["hallway.motion"],
            text: "Calm.\u{1B}]2;owned\u{07}\u{1B}[2J Hidden \u{202E}txt.exe", evidenceIDs: ["hallway.motion/quiet-ended@1"],
            importance: 0.5, generator: .rules, timeStart: base + 900_000, timeEnd: base + 1_800_000)
        try await runtime.database.knowledge.record(hostile, origin: NodeID.random(), stamp: stamp(base + 3_000_000))
        let shown = try await SmollamaBinary.run(["logs", "--tail", "--observations"], home: home.path).stdout
        #expect(shown.contains("Calm.") && shown.contains("Hidden"), "\(shown)")
        #expect(!shown.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{202E}" })
        // A bad count is still refused by the parser.
        #expect(try await SmollamaBinary.run(["logs", "--tail", "many"], home: home.path).status != 0)
    }
}
