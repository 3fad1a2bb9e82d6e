import Foundation
import SmollamaCore
import SmollamaTesting
import Testing
@testable import SmollamaNode

/// `areas:`: an area and the sensors in it, decoded like every other section, each problem naming its key.
@Suite struct AreasConfigTests {
    func problem(_ yaml: String) -> String? {
        do {
            _ = try ConfigLoader.parse(yaml, file: "c.yaml")
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func areasPlaceSensorsInNamedRooms() throws {
        let config = try ConfigLoader.parse("areas:\n  study: [office.co2, office.light]\n  hall: [hallway.motion]\n")
        #expect(config.areas == ["study": ["office.co2", "office.light"], "hall": ["hallway.motion"]])
        #expect(config.sensorAreas == ["office.co2": "study", "office.light": "study", "hallway.motion": "hall"])
        #expect(try ConfigLoader.parse("").areas.isEmpty)
    }

    @Test func badAreasAreRefusedNamingTheKey() {
        let twice = problem("areas:\n  study: [office.co2]\n  office: [office.co2]\n")
        #expect(twice?.contains("areas.study") == true && twice?.contains("already in area 'office'") == true, "\(twice ?? "")")
        let name = problem("areas:\n  Study Room: [office.co2]\n")
        #expect(name?.contains("areas.Study Room") == true && name?.contains("not an area name") == true, "\(name ?? "")")
        let id = problem("areas:\n  study: [Office CO2]\n")
        #expect(id?.contains("areas.study") == true && id?.contains("not a sensor id") == true, "\(id ?? "")")
        let empty = problem("areas:\n  study: []\n")
        #expect(empty?.contains("lists no sensors") == true, "\(empty ?? "")")
        let shape = problem("areas:\n  - office.co2\n")
        #expect(shape?.contains("areas") == true, "\(shape ?? "")")
    }

    @Test func anUnknownSensorIsAnErrorNamingTheKeyAndTheSensors() throws {
        let config = try ConfigLoader.parse("areas:\n  study: [office.co2, office.co3]\n")
        #expect(throws: Never.self) { try config.checkAreas(known: ["office.co2", "office.co3"], file: "c.yaml") }
        do {
            try config.checkAreas(known: ["office.co2", "office.light"], file: "c.yaml")
            Issue.record("an unknown sensor was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("key 'areas.study'") && text.contains("'office.co3' is not a sensor of this node"), "\(text)")
            #expect(text.contains("office.co2, office.light"), "the sensors it could be: \(text)")
        }
    }
}
