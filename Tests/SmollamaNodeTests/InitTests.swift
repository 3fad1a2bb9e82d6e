import Foundation
import SmollamaCore
import SmollamaLLM
import SmollamaStore
import SmollamaTesting
import Testing
@testable import SmollamaNode

@Suite struct InitTests {
    @Test func initCreatesConfigIdentityAndKey() async throws {
        let home = try TemporaryDirectory("home")
        let paths = SmollamaPaths(home: home.path)
        let result = try await NodeSetup.initialise(paths: paths, name: "shed", role: .llama, sensors: .demo, force: false, now: 1)
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
        let first = try await NodeSetup.initialise(paths: paths, name: "a", role: .alpaca, sensors: .demo, force: false, now: 1)
        await #expect(throws: NodeError.alreadyInitialised(home: home.path)) {
            try await NodeSetup.initialise(paths: paths, name: "b", role: .alpaca, sensors: .demo, force: false, now: 2)
        }
        let key = try String(contentsOfFile: paths.keyFile, encoding: .utf8)
        let forced = try await NodeSetup.initialise(paths: paths, name: "b", role: .llama, sensors: .demo, force: true, now: 3)
        #expect(!forced.createdIdentity && forced.nodeID == first.nodeID)
        #expect(try String(contentsOfFile: paths.keyFile, encoding: .utf8) == key)
        #expect(try ConfigLoader.load(file: paths.configFile).node.name == "b")
    }

    @Test func anyNameSurvivesTheConfigFile() async throws {
        for name in ["garden # shed", "key: value", "say \"hi\"", "back\\slash", "tab\there", "<script>"] {
            let config = try ConfigLoader.parse(ConfigTemplate.render(name: name, role: .alpaca, sensors: .demo))
            #expect(config.node.name == name)
        }
    }

    @Test func nodeIDsAreNotTheHostname() async throws {
        let a = try TemporaryDirectory("home"), b = try TemporaryDirectory("home")
        let first = try await NodeSetup.initialise(paths: SmollamaPaths(home: a.path), name: "same", role: .alpaca, sensors: .demo, force: false, now: 1)
        let second = try await NodeSetup.initialise(paths: SmollamaPaths(home: b.path), name: "same", role: .alpaca, sensors: .demo, force: false, now: 1)
        #expect(first.nodeID != second.nodeID)
    }

    @Test func anUnwritableDataDirectoryIsNamed() async throws {
        let home = try TemporaryDirectory("home")
        try "not a directory".write(toFile: home.path + "/data", atomically: true, encoding: .utf8)
        let paths = SmollamaPaths(home: home.path)
        do {
            _ = try await NodeSetup.initialise(paths: paths, name: "x", role: .alpaca, sensors: .demo, force: false, now: 1)
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
        _ = try await NodeSetup.initialise(paths: paths, name: "a", role: .alpaca, sensors: .demo, force: false, now: 1)
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

/// `init` on a real machine configures what it finds; the simulated house only with `--demo`;
/// the LLM's URL and models follow the backend (issue 17, "real defaults" and "the Ollama path").
@Suite(.serialized) struct InitDefaultsTests {
    /// A sysfs root as the kernel lays it out: one DS18B20 on 1-Wire and one hwmon chip.
    static func machine(_ root: String) throws {
        let fm = FileManager.default
        for (path, text) in [
            "/sys/bus/w1/devices/28-0316a2795cff/w1_slave":
                "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n",
            "/sys/class/hwmon/hwmon0/name": "cpu_thermal\n",
            "/sys/class/hwmon/hwmon0/temp1_input": "48312\n",
        ] {
            try fm.createDirectory(atPath: root + (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: root + path, atomically: true, encoding: .utf8)
        }
        try fm.createDirectory(atPath: root + "/sys/bus/w1/devices/w1_bus_master1", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/dev", withIntermediateDirectories: true)
    }

    func initialise(_ arguments: [String], root: String) async throws -> (SmollamaBinary.Output, NodeConfig) {
        let home = try TemporaryDirectory("init")
        let output = try await SmollamaBinary.run(
            ["init", "--name", "shed"] + arguments, home: home.path,
            environment: ["SMOLLAMA_SYSFS_ROOT": root, "SMOLLAMA_DEV_ROOT": root])
        #expect(output.status == 0, "\(output.stderr)")
        return (output, try ConfigLoader.load(file: home.path + "/config.yaml"))
    }

    @Test func initConfiguresTheSensorsItFindsAndNoSimulatedHouse() async throws {
        let root = try TemporaryDirectory("sysfs")
        try Self.machine(root.path)
        let (output, config) = try await initialise([], root: root.path)
        #expect(config.sensors.drivers.map(\.kind) == ["ds18b20", "hwmon", "system"])
        #expect(output.stdout.contains("1-Wire thermometer"), "\(output.stdout)")
    }

    @Test func aMachineWithNoSensorsGetsItsOwnAndAHintNotAFakeHouse() async throws {
        let root = try TemporaryDirectory("empty")
        try FileManager.default.createDirectory(atPath: root.path + "/sys", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root.path + "/dev", withIntermediateDirectories: true)
        let (output, config) = try await initialise([], root: root.path)
        #expect(config.sensors.drivers.map(\.kind) == ["system"])
        #expect(output.stdout.contains("no sensor hardware found") && output.stdout.contains("--demo"), "\(output.stdout)")
        let (_, demo) = try await initialise(["--demo"], root: root.path)
        #expect(demo.sensors.drivers.map(\.kind) == ["simulated_house", "system"])
    }

    @Test func theLLMsURLAndModelsFollowTheBackend() async throws {
        let root = try TemporaryDirectory("empty")
        let (_, ollama) = try await initialise(["--backend", "ollama"], root: root.path)
        #expect(ollama.llm.backend == .ollama && ollama.llm.runtime == .external)
        #expect(ollama.llm == LLMConfig(backend: .ollama, runtime: .external))
        // The reported bug: switching an `init`-written config to Ollama kept llama-server's URL
        // and model names. The template leaves them unwritten, so they follow the backend.
        let written = ConfigTemplate.render(name: "shed", role: .alpaca, sensors: .demo)
        let switched = try ConfigLoader.parse(written.replacingOccurrences(of: "backend: openai", with: "backend: ollama"))
        #expect(switched.llm.url == "http://127.0.0.1:11434" && switched.llm.embeddingURL == "http://127.0.0.1:11434")
        #expect(switched.llm.chatModel == "qwen2.5:0.5b" && switched.llm.embeddingModel == "all-minilm")
        #expect(try ConfigLoader.parse(written).llm == LLMConfig())
    }
}
