import Foundation
import SmollamaCore
import SmollamaSensors
import Testing
@testable import SmollamaNode

/// Issue 15 item 7: local time is `node.timezone`; `utc_offset_minutes` is gone, and an old config
/// that still sets it is told what to do.
@Suite struct TimezoneConfigTests {
    func problem(_ yaml: String, overrides: [String] = []) -> String? {
        do {
            _ = try ConfigLoader.parse(yaml, file: "c.yaml", overrides: overrides)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func anOldMemoryOffsetNamesTheKeyAndTheTimezoneSetting() throws {
        for message in [problem("memory:\n  utc_offset_minutes: 60\n"),
                        problem("", overrides: ["memory.utc_offset_minutes=60"])] {
            let text = try #require(message)
            #expect(text.contains("memory.utc_offset_minutes") && text.contains("node.timezone"), "\(text)")
        }
        do {
            _ = try ConfigLoader.parse("", file: "c.yaml", environment: ["SMOLLAMA_MEMORY_UTC_OFFSET_MINUTES": "60"])
            Issue.record("the old variable was accepted")
        } catch {
            #expect("\(error)".contains("SMOLLAMA_MEMORY_UTC_OFFSET_MINUTES") && "\(error)".contains("node.timezone"), "\(error)")
        }
        #expect(problem("node:\n  timezone: Europe/Berlin\n") == nil)
    }

    @Test func theSimulatedHouseRefusesItsOldOffsetAndFollowsTheNodesZone() throws {
        let old = #"{"utc_offset_minutes": 60}"#
        do {
            _ = try JSONDecoder().decode(SimulatedHouseDriver.Options.self, from: Data(old.utf8))
            Issue.record("utc_offset_minutes was accepted")
        } catch {
            #expect("\(error)".contains("node.timezone"), "\(error)")
        }
        // The planted Tuesday 03:10 motion happens at 03:10 Berlin time: 02:10 UTC in November.
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let house = SimulatedHouse(timeZone: berlin)
        let tuesday: Int64 = 1_795_478_400_000  // 2026-11-24 00:00 UTC
        #expect(house.value(room: "hallway", what: "motion", at: tuesday + 130 * 60_000) == 1)
        #expect(SimulatedHouse().value(room: "hallway", what: "motion", at: tuesday + 130 * 60_000) == 0)
    }
}
