import Foundation
import SmollamaCore
import SmollamaSensors
import SmollamaTesting
import Testing
@testable import SmollamaNode

@Suite struct ConfigTests {
    func problem(_ yaml: String, environment: [String: String] = [:], overrides: [String] = []) -> NodeError? {
        do {
            _ = try ConfigLoader.parse(yaml, file: "c.yaml", environment: environment, overrides: overrides)
            return nil
        } catch let error as NodeError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    func key(of error: NodeError?) -> String? {
        if case .invalidConfig(_, let key, _) = error { return key }
        return nil
    }

    @Test func theInitTemplateDecodesToTheDefaults() throws {
        let config = try ConfigLoader.parse(ConfigTemplate.render(name: "smollama", role: .alpaca, sensors: .demo))
        var expected = NodeConfig()
        expected.sensors.drivers = config.sensors.drivers  // options are kept as YAML text
        #expect(config == expected)
        #expect(config.sensors.drivers.map(\.kind) == ["simulated_house", "system"])
        // A config with no `drivers:` key watches this machine only: no simulated house unless asked for.
        let defaults = try ConfigLoader.parse("")
        #expect(defaults.sensors.drivers.map(\.kind) == ["system"])
        #expect(DriverEntry.defaults.map(\.kind) == ["system"])
    }

    @Test func timeZoneAndModelScoreAreChecked() throws {
        let mars = problem("node:\n  timezone: Mars/Olympus\n")
        #expect(key(of: mars) == "node.timezone")
        #expect("\(mars.map { "\($0)" } ?? "")".contains("IANA"))
        let berlin = try ConfigLoader.parse("node:\n  timezone: Europe/Berlin\n")
        #expect(berlin.node.timeZone.identifier == "Europe/Berlin")
        #expect(try ConfigLoader.parse("").node.timeZone == TimeZone.current)
        #expect(key(of: problem("observe:\n  min_model_score: 2\n")) == "observe.min_model_score")
        #expect(problem("observe:\n  min_model_score: 0.5\n  calibrate: false\n") == nil)
    }

    @Test func hubRetentionKeysAreChecked() throws {
        let raw = problem("hub:\n  raw_retention: 10m\n")
        #expect(key(of: raw) == "hub.raw_retention")
        #expect("\(raw.map { "\($0)" } ?? "")".contains("at least 1h"))
        let rollups = problem("hub:\n  rollup_retention: 12h\n")
        #expect(key(of: rollups) == "hub.rollup_retention")
        #expect("\(rollups.map { "\($0)" } ?? "")".contains("24 h charts"))
        #expect(key(of: problem("hub:\n  raw_retension: 30d\n")) == "hub.raw_retension")
        let config = try ConfigLoader.parse("hub:\n  raw_retention: 7d\n", environment: ["SMOLLAMA_HUB_ROLLUP_RETENTION": "400d"])
        #expect(config.hub.rawRetention == .days(7) && config.hub.rollupRetention == .days(400))
        #expect(NodeConfig().hub.rawRetention == .days(30) && NodeConfig().hub.rollupRetention == .days(90))
    }

    @Test func anEmptyFileMeansAllDefaults() throws {
        #expect(try ConfigLoader.parse("") == NodeConfig())
        #expect(try ConfigLoader.parse("# only a comment\n") == NodeConfig())
    }

    @Test func unknownKeysAreNamed() {
        let error = problem("store:\n  batch_sise: 10\n")
        #expect(key(of: error) == "store.batch_sise")
        #expect("\(error!)".contains("batch_size"), "the message lists the valid keys")
        #expect(key(of: problem("stores:\n  batch_size: 10\n")) == "stores")
    }

    @Test func wrongTypesAreNamedWithWhatIsExpected() {
        let error = problem("store:\n  batch_size: lots\n")
        #expect(key(of: error) == "store.batch_size")
        #expect("\(error!)".contains("whole number"))
        #expect(key(of: problem("store:\n  flush_interval: soon\n")) == "store.flush_interval")
        #expect(key(of: problem("node:\n  role: cow\n")) == "node.role")
        #expect(key(of: problem("store:\n  batch_size: 0\n")) == "store.batch_size")
        #expect(key(of: problem("- just\n- a list\n")) == "(top level)")
        #expect(key(of: problem("store: [unclosed\n")) == "(syntax)")
    }

    @Test func driverEntriesAreCheckedPerKind() {
        #expect(key(of: problem("sensors:\n  drivers:\n    - driver: house\n")) == nil)  // parsed; built later
        #expect(key(of: problem("sensors:\n  drivers:\n    - name: x\n")) == "sensors.drivers[0].driver")
        #expect(key(of: problem("sensors:\n  drivers:\n    - driver: system\n      timeout: soon\n"))
                == "sensors.drivers[0].timeout")
    }

    @Test func environmentOverridesTheFileAndFlagsOverrideBoth() throws {
        let yaml = "store:\n  batch_size: 10\n"
        let fromEnv = try ConfigLoader.parse(yaml, environment: ["SMOLLAMA_STORE_BATCH_SIZE": "500",
                                                                 "SMOLLAMA_LOG_LEVEL": "debug",
                                                                 "SMOLLAMA_LLAMA_SERVER": "/elsewhere", "PATH": "/bin"])
        #expect(fromEnv.store.batchSize == 500 && fromEnv.log.level == .debug)
        let fromFlag = try ConfigLoader.parse(yaml, environment: ["SMOLLAMA_STORE_BATCH_SIZE": "500"],
                                              overrides: ["store.batch_size=42", "node.role=llama"])
        #expect(fromFlag.store.batchSize == 42 && fromFlag.node.role == .llama)
        guard case .invalidEnvironment(let variable, let message)? = problem(yaml, environment: ["SMOLLAMA_STORE_BATCHSIZE": "1"])
        else {
            Issue.record("a misspelt variable of a known section must be an error")
            return
        }
        #expect(variable == "SMOLLAMA_STORE_BATCHSIZE" && message.contains("SMOLLAMA_STORE_BATCH_SIZE"))
        #expect(problem(yaml, overrides: ["no-equals-sign"]) == .invalidOverride("no-equals-sign"))
        #expect(key(of: problem(yaml, overrides: ["store.nope=1"])) == "store.nope")
    }

    @Test func driversAreBuiltAndTheirKeysChecked() async throws {
        let home = try TemporaryDirectory("home")
        let paths = SmollamaPaths(home: home.path)
        _ = try await NodeSetup.initialise(paths: paths, name: "t", role: .alpaca, sensors: .demo, force: false, now: 0)
        let runtime = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: [])
        let context = runtime.driverContext(environment: [:], logger: .quiet)
        let drivers = try runtime.makeDrivers(context: context)
        #expect(drivers.map(\.driver.name) == ["house", "system"])

        func buildError(_ yaml: String) async throws -> String {
            try yaml.write(toFile: paths.configFile, atomically: true, encoding: .utf8)
            let runtime = try await NodeRuntime.open(home: home.path, configFile: nil, environment: [:], overrides: [])
            do {
                _ = try runtime.makeDrivers(context: context)
                return ""
            } catch { return "\(error)" }
        }
        #expect(try await buildError("sensors:\n  drivers:\n    - driver: simulated_house\n      seeed: 1\n")
                .contains("sensors.drivers[0].seeed"))
        #expect(try await buildError("sensors:\n  drivers:\n    - driver: thermometer\n")
                .contains("unknown sensor driver 'thermometer'"))
        #expect(try await buildError("sensors:\n  drivers:\n    - driver: system\n    - driver: system\n")
                .contains("used twice"))
        #expect(try await buildError("sensors:\n  drivers:\n    - driver: simulated_house\n      rooms: [kitchen]\n      doors: [garage]\n")
                .contains("sensors.drivers[0].doors"))
        #expect(try await buildError("sensors:\n  drivers:\n    - driver: simulated_house\n      enabled: false\n") == "")
    }
}
