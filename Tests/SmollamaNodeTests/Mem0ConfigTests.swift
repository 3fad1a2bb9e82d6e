import Foundation
import SmollamaCore
import SmollamaMem0
import SmollamaTesting
import Testing
@testable import SmollamaNode

@Suite struct Mem0ConfigTests {
    @Test func initForTheHubGeneratesMem0KeysInAPrivateConfig() async throws {
        let home = try TemporaryDirectory("hub")
        let paths = SmollamaPaths(home: home.path)
        _ = try await NodeSetup.initialise(paths: paths, name: "hub", role: .llama, sensors: .demo, force: false, now: 1)
        let config = try ConfigLoader.load(file: paths.configFile)
        #expect(config.mem0.apiKey.count == 64 && config.mem0.adminKey.count == 64)
        #expect(config.mem0.apiKey != config.mem0.adminKey)
        #expect(!config.mem0.bridge.isEnabled)
        let permissions = try FileManager.default.attributesOfItem(atPath: paths.configFile)[.posixPermissions] as? Int
        #expect(permissions == 0o600)

        let edge = try TemporaryDirectory("edge")
        let edgePaths = SmollamaPaths(home: edge.path)
        _ = try await NodeSetup.initialise(paths: edgePaths, name: "garage", role: .alpaca, sensors: .demo, force: false, now: 1)
        #expect(try ConfigLoader.load(file: edgePaths.configFile).mem0 == Mem0Config())
    }

    @Test func theHubTemplateDiffersFromTheDefaultsOnlyInItsKeys() throws {
        let keys = (api: String(repeating: "a", count: 32), admin: String(repeating: "b", count: 32))
        var config = try ConfigLoader.parse(ConfigTemplate.render(name: "smollama", role: .llama, sensors: .demo, mem0Keys: keys))
        #expect(config.mem0.apiKey == keys.api && config.mem0.adminKey == keys.admin)
        config.mem0.apiKey = ""
        config.mem0.adminKey = ""
        config.node.role = .alpaca
        var expected = NodeConfig()
        expected.sensors.drivers = config.sensors.drivers
        #expect(config == expected)
    }

    @Test func badMem0SettingsAreRefusedWithTheKeyNamed() {
        for (yaml, words) in [
            ("mem0:\n  api_key: short\n", "16 characters"),
            ("mem0:\n  bridge:\n    url: mem0.local:8888\n", "http://"),
            ("mem0:\n  bridge:\n    batch_size: 0\n", "at least 1"),
            ("mem0:\n  colour: red\n", "colour"),
        ] {
            #expect(throws: (any Error).self, "\(yaml)") { try ConfigLoader.parse(yaml) }
            do {
                _ = try ConfigLoader.parse(yaml)
            } catch {
                #expect("\(error)".contains(words), "\(yaml): \(error)")
            }
        }
        let bridged = try? ConfigLoader.parse("mem0:\n  bridge:\n    url: http://mem0.local:8888\n    interval: 10s\n")
        #expect(bridged?.mem0.bridge.isEnabled == true)
        #expect(bridged?.mem0.bridge.interval == .seconds(10))
    }
}
