import Foundation
import SmollamaCore
import SmollamaLLM
import Testing
@testable import SmollamaNode

/// The file, then `SMOLLAMA_*` variables, then `--set` flags: each layer overrides the one before,
/// and a key no setting reads is refused at every layer, by name.
@Suite struct ConfigLayeringTests {
    let file = """
        store:
          batch_size: 10
        log:
          level: warning
        llm:
          managed:
            threads: 1
        """

    func load(environment: [String: String] = [:], overrides: [String] = []) throws -> NodeConfig {
        try ConfigLoader.parse(file, file: "c.yaml", environment: environment, overrides: overrides)
    }

    func error(_ yaml: String? = nil, environment: [String: String] = [:], overrides: [String] = []) -> NodeError? {
        do {
            _ = try ConfigLoader.parse(yaml ?? file, file: "c.yaml", environment: environment, overrides: overrides)
            return nil
        } catch {
            return error as? NodeError
        }
    }

    @Test func eachLayerOverridesTheOneBefore() throws {
        let fileOnly = try load()
        #expect(fileOnly.store.batchSize == 10 && fileOnly.log.level == .warning && fileOnly.llm.managed.threads == 1)
        #expect(fileOnly.store.maxQueued == 200_000, "keys in no layer keep their defaults")

        let environment = ["SMOLLAMA_STORE_BATCH_SIZE": "20", "SMOLLAMA_LOG_LEVEL": "debug",
                           "SMOLLAMA_LLM_MANAGED_THREADS": "2"]
        let fromEnvironment = try load(environment: environment)
        #expect(fromEnvironment.store.batchSize == 20 && fromEnvironment.log.level == .debug)
        #expect(fromEnvironment.llm.managed.threads == 2, "nested keys have variables too")

        let fromFlags = try load(environment: environment, overrides: ["store.batch_size=30", "llm.managed.threads=3"])
        #expect(fromFlags.store.batchSize == 30 && fromFlags.llm.managed.threads == 3)
        #expect(fromFlags.log.level == .debug, "a key no flag sets keeps the variable's value")
        #expect(try load(overrides: ["store.batch_size=30"]).store.batchSize == 30)
    }

    @Test func listsOptionalSettingsAndDependentDefaultsAreLayeredToo() throws {
        let fromEnvironment = try load(environment: ["SMOLLAMA_LLM_MANAGED_EXTRA_ARGS": "--mlock, --no-mmap",
                                                     "SMOLLAMA_NODE_TIMEZONE": "Europe/Berlin",
                                                     "SMOLLAMA_LLM_BACKEND": "ollama"])
        #expect(fromEnvironment.llm.managed.extraArgs == ["--mlock", "--no-mmap"])
        #expect(fromEnvironment.node.timezone == "Europe/Berlin")
        #expect(fromEnvironment.llm.url == "http://127.0.0.1:11434", "the backend's defaults follow the variable")
        let fromFlags = try load(environment: ["SMOLLAMA_LLM_MANAGED_EXTRA_ARGS": "--mlock"],
                                 overrides: ["llm.managed.extra_args=--verbose", "llm.api_key=secret-key"])
        #expect(fromFlags.llm.managed.extraArgs == ["--verbose"] && fromFlags.llm.apiKey == "secret-key")
    }

    @Test func anUnknownKeyIsNamedAtEveryLayer() {
        guard case .invalidConfig(_, let key, let problem)? = error("store:\n  batch_sise: 10\n") else {
            Issue.record("an unknown key in the file must be refused")
            return
        }
        #expect(key == "store.batch_sise" && problem.contains("batch_size"))
        guard case .invalidConfig(_, _, let nodeProblem)? = error("node:\n  time_zone: UTC\n") else {
            Issue.record("an unknown key in the file must be refused")
            return
        }
        #expect(nodeProblem.contains("timezone"), "optional keys are offered although their default is unset")

        guard case .invalidEnvironment(let variable, let listed)? = error(environment: ["SMOLLAMA_LLM_MANAGED_THREAD": "2"])
        else {
            Issue.record("an unknown variable of a known section must be refused")
            return
        }
        #expect(variable == "SMOLLAMA_LLM_MANAGED_THREAD" && listed.contains("SMOLLAMA_LLM_MANAGED_THREADS"))
        #expect(error(environment: ["SMOLLAMA_HOME": "/x", "SMOLLAMA_CHAT_MODEL": "m"]) == nil,
                "variables of no config section belong to other tools")

        guard case .invalidConfig(_, let flagKey, let flagProblem)? = error(overrides: ["llm.managed.thread=2"]) else {
            Issue.record("an unknown key in a --set flag must be refused")
            return
        }
        #expect(flagKey == "llm.managed.thread" && flagProblem.contains("threads"))
    }

    @Test func badValuesFromVariablesAndFlagsNameTheKey() {
        func key(_ error: NodeError?) -> String? {
            if case .invalidConfig(_, let key, _)? = error { return key }
            return nil
        }
        #expect(key(error(environment: ["SMOLLAMA_STORE_BATCH_SIZE": "lots"])) == "store.batch_size")
        #expect(key(error(environment: ["SMOLLAMA_STORE_BATCH_SIZE": "0"])) == "store.batch_size")
        #expect(key(error(overrides: ["observe.min_model_score=2"])) == "observe.min_model_score")
        #expect(key(error(overrides: ["store.flush_interval=soon"])) == "store.flush_interval")
        #expect(key(error(overrides: ["llm.managed.threads=many"])) == "llm.managed.threads")
    }

    @Test func anEmptyValueInTheFileKeepsTheDefault() throws {
        let config = try ConfigLoader.parse("store:\n  batch_size: ~\nsync:\n")
        #expect(config.store.batchSize == NodeConfig().store.batchSize && config.sync == NodeConfig().sync)
    }
}
