import Foundation
import Logging
import ServiceLifecycle
import SmollamaCore
import SmollamaLLM
import SmollamaTesting
import Testing

@Suite struct LLMConfigTests {
    func decode(_ json: String) throws -> LLMConfig {
        try ConfigDecoding.decode(LLMConfig.self, from: json)
    }

    @Test func defaultsPointAtWhatSetupInstalls() throws {
        let config = try decode("{}")
        #expect(config == LLMConfig())
        #expect(config.backend == .openai && config.runtime == .managed)
        #expect(config.url == "http://127.0.0.1:8081" && config.embeddingURL == "http://127.0.0.1:8082")
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        #expect(config.llamaServerPath == home + "/.cache/smollama/llama.cpp/llama-server")
        #expect(config.embeddingModelPath == home + "/.cache/smollama/models/all-minilm-l6-v2-f32.gguf")
        #expect(config.numCtx == 2048)
        #expect(config.timeouts.request == .seconds(120))
        let specs = try ManagedProcessSpec.llamaServer(for: config)
        #expect(specs.map(\.name) == ["chat", "embeddings"])
        #expect(specs[1].arguments.contains("--embeddings") && specs[1].arguments.contains("mean"))
        #expect(specs[0].arguments.contains("2048"))
    }

    @Test func ollamaBackendSwitchesDefaults() throws {
        let config = try decode(#"{"backend":"ollama","runtime":"external"}"#)
        #expect(config.url == "http://127.0.0.1:11434")
        #expect(config.embeddingURL == config.url)
        #expect(config.chatModel == "qwen2.5:0.5b" && config.embeddingModel == "all-minilm")
        let custom = try decode(#"{"backend":"ollama","url":"http://pi.local:11434"}"#)
        #expect(custom.embeddingURL == "http://pi.local:11434")
        let lmStudio = try decode(#"{"runtime":"external","url":"http://127.0.0.1:1234"}"#)
        #expect(lmStudio.embeddingURL == "http://127.0.0.1:1234")
        let managed = try decode(#"{"url":"http://127.0.0.1:9000"}"#)
        #expect(managed.embeddingURL == "http://127.0.0.1:8082")
    }

    @Test func everyKeyDecodes() throws {
        let config = try decode(#"""
            {"backend":"openai","runtime":"external","url":"http://10.0.0.2:8080","chat_model":"m","embedding_model":"e",
             "embedding_url":"http://10.0.0.2:8090","api_key":"k","num_ctx":4096,"keep_alive":"-1","cache_directory":"/var/cache/smollama",
             "managed":{"llama_server":"/opt/ls","chat_model_file":"/m.gguf","embedding_model_file":"/e.gguf","ollama":"/usr/bin/ollama","threads":2,"parallel":2,"extra_args":["--mlock"]},
             "timeouts":{"request":"30s","startup":"2m","health_interval":"5s"},
             "retry":{"attempts":2,"base_delay":"100ms","max_delay":"10s"}}
            """#)
        #expect(config.numCtx == 4096 && config.apiKey == "k")
        #expect(config.timeouts.startup == .minutes(2))
        #expect(config.retry.baseDelay == .init(milliseconds: 100))
        #expect(config.managed.extraArgs == ["--mlock"])
        #expect(config.chatModelPath == "/m.gguf")
        #expect(config.registryPath == "/var/cache/smollama/models/registry.json")
    }

    @Test func encodesToKeysItDecodes() throws {
        var config = LLMConfig(backend: .ollama, runtime: .external)
        config.managed.threads = 3
        config.timeouts.request = .seconds(45)
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(LLMConfig.self, from: data) == config)
        let keys = try #require(try JSONValue(parsing: String(decoding: data, as: UTF8.self)).objectValue?.keys)
        #expect(keys.contains("chat_model") && keys.contains("embedding_url") && keys.contains("num_ctx"))
    }

    @Test func unknownKeysAreRejected() throws {
        #expect(throws: UnknownConfigKey.self) { try decode(#"{"chat_modle":"x"}"#) }
        #expect(throws: UnknownConfigKey.self) { try decode(#"{"managed":{"llama_sever":"x"}}"#) }
        #expect(throws: UnknownConfigKey.self) { try decode(#"{"timeouts":{"requests":"1s"}}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"backend":"vllm"}"#) }
        #expect(throws: DecodingError.self) { try decode(#"{"num_ctx":10}"#) }
    }
}

@Suite struct ModelManagementTests {
    func tempDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("smollama-llm-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func importRegistersGGUFForLlamaServer() async throws {
        let directory = try tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = directory + "/My-Model.Q4_K_M.gguf"
        try Data("GGUF\u{3}\0\0\0 tiny".utf8).write(to: URL(fileURLWithPath: file))
        var config = LLMConfig()
        config.cacheDirectory = directory
        config.url = "http://127.0.0.1:\(freeLoopbackPort())"
        config.embeddingURL = config.url
        config.retry.attempts = 1
        let manager = ModelManager(config: config, logger: testLogger())
        let summary = try await manager.importGGUF(path: file)
        #expect(summary.name == "my-model.q4_k_m")
        let registry = try ModelRegistry.load(from: config.registryPath)
        #expect(registry.entry(named: "my-model.q4_k_m")?.path == file)
        // The server is down: list still shows the registered file.
        let listed = try await manager.list()
        #expect(listed.contains { $0.name == "my-model.q4_k_m" && $0.source == file })
        // A registered name becomes the chat model's file.
        config.chatModel = "my-model.q4_k_m"
        #expect(config.chatModelPath == file)
        // Not a GGUF: a file error, no registry change.
        let bad = directory + "/notes.gguf"
        try Data("hello".utf8).write(to: URL(fileURLWithPath: bad))
        await #expect {
            _ = try await manager.importGGUF(path: bad, name: "bad")
        } throws: { error in
            guard case LLMError.file(_, let reason) = error else { return false }
            return reason.contains("not a GGUF")
        }
        #expect(try ModelRegistry.load(from: config.registryPath).models.count == 1)
    }

    @Test func pullOnLlamaServerExplainsImport() async throws {
        await #expect {
            try await ModelManager(config: LLMConfig(), logger: testLogger()).pull("qwen2.5:0.5b") { _ in }
        } throws: { error in
            guard case LLMError.unsupported(let text) = error else { return false }
            return text.contains("smollama models import")
        }
    }
}

@Suite struct SupervisorExternalTests {
    @Test func externalModeOnlyHealthChecksAndStopsOnShutdown() async throws {
        try await StubServer.with(["/health": [.json(#"{"status":"loading model"}"#, status: 503), .json(#"{"status":"ok"}"#)]]) { server in
            var config = LLMConfig(backend: .openai, runtime: .external)
            config.url = server.url
            config.embeddingURL = server.url
            config.timeouts.healthInterval = .init(milliseconds: 50)
            let capture = LogCapture()
            let clock = ManualClock()
            let supervisor = try RuntimeSupervisor(config: config, logger: capture.logger(), clock: clock)
            #expect(supervisor.specs.count == 1)
            let group = ServiceGroup(services: [supervisor], gracefulShutdownSignals: [], cancellationSignals: [], logger: capture.logger())
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                // The first check finds it loading; the next comes one health interval later.
                #expect(try await clock.waitForSleepers(1))
                #expect(supervisor.status().first?.health.state != .ok)
                clock.advance(by: .milliseconds(50))
                #expect(await supervisor.waitUntilReady(timeout: .seconds(30)))
                #expect(supervisor.pids().isEmpty)  // started nothing
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            #expect(server.requests.filter { $0.path == "/health" }.count >= 2)
            #expect(capture.all.contains { $0.metadata["smollama.llm.health"] == "ok" })
        }
    }

    @Test func managedModeRefusesMissingFiles() throws {
        var config = LLMConfig()
        config.cacheDirectory = "/nonexistent/smollama"
        #expect {
            _ = try RuntimeSupervisor(config: config, logger: testLogger())
        } throws: { error in
            "\(error)".contains("scripts/setup-llm.sh")
        }
    }
}

/// `runtime: managed` through the one process supervisor: output is logged, exits restart the
/// process after a backoff on the supervisor's clock, shutdown stops it.
@Suite struct SupervisorManagedTests {
    @Test func exitedRuntimeIsLoggedAndRestartedAfterItsBackoff() async throws {
        let capture = LogCapture()
        let clock = ManualClock()
        let spec = ManagedProcessSpec(
            name: "chat", kind: .llamaServer, executable: "/bin/sh",
            arguments: ["-c", "echo loading model; echo error: no such file >&2; exit 1"], url: "http://127.0.0.1:\(freeLoopbackPort())")
        let supervisor = RuntimeSupervisor(
            specs: [spec], managed: true, logger: capture.logger(), minBackoff: .seconds(1), maxBackoff: .seconds(30), clock: clock)
        let group = ServiceGroup(services: [supervisor], gracefulShutdownSignals: [], cancellationSignals: [], logger: .quiet)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await eventually { supervisor.status().first?.restarts == 1 })
            #expect(supervisor.status().first?.lastExit == "exit status 1")
            #expect(try await clock.waitForSleepers(1))
            clock.advance(by: .milliseconds(999))
            #expect(supervisor.status().first?.restarts == 1, "not restarted before its backoff")
            clock.advance(by: .milliseconds(1))
            #expect(try await eventually { supervisor.status().first?.restarts == 2 })
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let lines = capture.all.filter { $0.metadata["smollama.llm.runtime"] == "chat" }
        #expect(lines.contains { $0.message == "loading model" && $0.level == .debug })
        #expect(lines.contains { $0.message == "error: no such file" && $0.level == .warning })
        #expect(capture.all.contains { $0.message == "llm runtime exited; restarting" && $0.metadata["smollama.llm.restart_in"] == "2.0 seconds" })
    }

    @Test func shutdownStopsARunningRuntime() async throws {
        let spec = ManagedProcessSpec(name: "chat", kind: .llamaServer, executable: "sleep", arguments: ["300"],
                                      url: "http://127.0.0.1:\(freeLoopbackPort())")
        let supervisor = RuntimeSupervisor(specs: [spec], managed: true, logger: .quiet, clock: ManualClock())
        let group = ServiceGroup(services: [supervisor], gracefulShutdownSignals: [], cancellationSignals: [], logger: .quiet)
        var pid: Int32?
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            #expect(try await eventually { supervisor.pids()["chat"] != nil })
            pid = supervisor.pids()["chat"]
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        let stopped = try #require(pid)
        #expect(kill(stopped, 0) != 0, "sleep (pid \(stopped)) still runs after shutdown")
        #expect(supervisor.status().first?.health.detail == "stopped")
        #expect(supervisor.pids().isEmpty)
    }
}

@Suite struct OrphanReapingTests {
    /// A runtime orphaned by a killed smollama (its pid file survived) is stopped on the next start.
    @Test func staleProcessFromPidFileIsStopped() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("smollama-reap-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spec = ManagedProcessSpec(name: "chat", kind: .llamaServer, executable: "/bin/sleep", arguments: ["300"], url: "http://127.0.0.1:1")
        let orphan = Process()
        orphan.executableURL = URL(fileURLWithPath: "/bin/sleep")
        orphan.arguments = ["300"]
        try orphan.run()
        let pidFile = directory + "/chat.pid"
        try Data("\(orphan.processIdentifier)\n".utf8).write(to: URL(fileURLWithPath: pidFile))
        // A pid file naming some other program is left alone.
        let other = ManagedProcessSpec(name: "chat", kind: .llamaServer, executable: "/usr/bin/llama-server", arguments: [], url: "http://127.0.0.1:1")
        RuntimeSupervisor.reapStale(other, pidFile: pidFile, logger: testLogger())
        #expect(orphan.isRunning)
        try Data("\(orphan.processIdentifier)\n".utf8).write(to: URL(fileURLWithPath: pidFile))
        RuntimeSupervisor.reapStale(spec, pidFile: pidFile, logger: testLogger())
        orphan.waitUntilExit()
        #expect(!orphan.isRunning)
        #expect(!FileManager.default.fileExists(atPath: pidFile))
    }
}
