import Foundation
import SmollamaCore
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaNode

@Suite struct InitTests {
    @Test func initCreatesConfigIdentityAndKey() async throws {
        let home = try TemporaryDirectory("home")
        let paths = SmollamaPaths(home: home.path)
        let result = try await NodeSetup.initialise(paths: paths, name: "shed", role: .llama, force: false, now: 1)
        #expect(result.createdIdentity)
        let identity = try NodeIdentity.load(paths: paths)
        #expect(identity.nodeID == result.nodeID && identity.incarnation == 1)
        let key = try String(contentsOfFile: paths.keyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.count == 64 && [UInt8](hexString: key) != nil)
        let permissions = try FileManager.default.attributesOfItem(atPath: paths.keyFile)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let config = try ConfigLoader.load(file: paths.configFile)
        #expect(config.node.name == "shed" && config.node.role == .llama)
    }

    @Test func initRefusesToReplaceAnIdentityAndForceKeepsIt() async throws {
        let home = try TemporaryDirectory("home")
        let paths = SmollamaPaths(home: home.path)
        let first = try await NodeSetup.initialise(paths: paths, name: "a", role: .alpaca, force: false, now: 1)
        await #expect(throws: NodeError.alreadyInitialised(home: home.path)) {
            try await NodeSetup.initialise(paths: paths, name: "b", role: .alpaca, force: false, now: 2)
        }
        let key = try String(contentsOfFile: paths.keyFile, encoding: .utf8)
        let forced = try await NodeSetup.initialise(paths: paths, name: "b", role: .llama, force: true, now: 3)
        #expect(!forced.createdIdentity && forced.nodeID == first.nodeID)
        #expect(try String(contentsOfFile: paths.keyFile, encoding: .utf8) == key)
        #expect(try ConfigLoader.load(file: paths.configFile).node.name == "b")
    }

    @Test func anyNameSurvivesTheConfigFile() async throws {
        for name in ["garden # shed", "key: value", "say \"hi\"", "back\\slash", "tab\there", "<script>"] {
            let config = try ConfigLoader.parse(ConfigTemplate.render(name: name, role: .alpaca))
            #expect(config.node.name == name)
        }
    }

    @Test func nodeIDsAreNotTheHostname() async throws {
        let a = try TemporaryDirectory("home"), b = try TemporaryDirectory("home")
        let first = try await NodeSetup.initialise(paths: SmollamaPaths(home: a.path), name: "same", role: .alpaca, force: false, now: 1)
        let second = try await NodeSetup.initialise(paths: SmollamaPaths(home: b.path), name: "same", role: .alpaca, force: false, now: 1)
        #expect(first.nodeID != second.nodeID)
    }

    @Test func anUnwritableDataDirectoryIsNamed() async throws {
        let home = try TemporaryDirectory("home")
        try "not a directory".write(toFile: home.path + "/data", atomically: true, encoding: .utf8)
        let paths = SmollamaPaths(home: home.path)
        do {
            _ = try await NodeSetup.initialise(paths: paths, name: "x", role: .alpaca, force: false, now: 1)
            Issue.record("init must fail when the data directory cannot be created")
        } catch let error as NodeError {
            guard case .dataDirectoryNotWritable(let path, _) = error else {
                Issue.record("wrong error: \(error)")
                return
            }
            #expect(path == paths.dataDirectory)
        }
    }

    @Test func aLostStoreBumpsTheIncarnation() async throws {
        let home = try TemporaryDirectory("home")
        let paths = SmollamaPaths(home: home.path)
        _ = try await NodeSetup.initialise(paths: paths, name: "a", role: .alpaca, force: false, now: 1)
        _ = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: [])
        #expect(try NodeIdentity.load(paths: paths).incarnation == 1)
        try FileManager.default.removeItem(atPath: paths.databaseFile)
        let reopened = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: [])
        #expect(reopened.identity.incarnation == 2)
        #expect(try await reopened.database.meta.incarnation() == 2)
    }

    @Test func commandsOnAMissingNodeSayToRunInit() async throws {
        let home = try TemporaryDirectory("home")
        await #expect(throws: NodeError.configFileMissing(path: home.path + "/config.yaml")) {
            try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: [])
        }
    }
}
