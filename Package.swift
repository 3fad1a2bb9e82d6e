// swift-tools-version: 6.2
import PackageDescription

// One settings list for every target, so the whole package obeys the same language rules.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "smollama",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "smollama", targets: ["smollama"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // LLM runtime clients (SmollamaLLM).
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // Config layering (file → SMOLLAMA_* env → --set) in SmollamaNode; no optional traits.
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: []),
        // Property-based fuzzing of the wire and config decoders (SmollamaFuzzTests only).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // The Model Context Protocol server (SmollamaMCP): JSON-RPC, stdio and streamable HTTP.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", exact: "0.12.1"),
    ],
    targets: [
        // Value types, the hybrid logical clock and pure logic. No I/O.
        .target(
            name: "SmollamaCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                // Config sections are decoded from a YAML tree laid over their defaults.
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        // SQLite (GRDB): readings, rollups, the event log, clock state.
        .target(
            name: "SmollamaStore",
            dependencies: [
                "SmollamaCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Sensor drivers and the scheduler that polls them.
        .target(
            name: "SmollamaSensors",
            dependencies: [
                "SmollamaCore",
                "SmollamaStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // libmosquitto (Debian libmosquitto-dev): the MQTT client library. No Swift MQTT package
        // is available, and libmosquitto is what the broker's own tools use.
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),
        // MQTT: async client over libmosquitto, live publishing, ingest driver, HA discovery,
        // the supervised hub broker.
        .target(
            name: "SmollamaMQTT",
            dependencies: [
                "CMosquitto",
                "SmollamaCore",
                "SmollamaStore",
                "SmollamaSensors",
                "SmollamaProcess",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // fork + exec between which a child gets a clean signal state, its own process group and
        // PR_SET_PDEATHSIG; Swift cannot run code there safely.
        .target(name: "CSpawn"),
        // Child processes (llama-server, Ollama, mosquitto): starting them one way, and the one
        // supervisor that restarts them with backoff and stops them with the daemon.
        .target(
            name: "SmollamaProcess",
            dependencies: ["CSpawn", "SmollamaCore"],
            swiftSettings: swiftSettings
        ),
        // The kernel's ioctl request numbers and struct sizes, which Swift cannot import as macros.
        .target(name: "CLinuxIO"),
        // Physical sensors on Linux: GPIO character device, I2C, SPI, 1-Wire, IIO, hwmon, detection.
        .target(
            name: "SmollamaHardware",
            dependencies: [
                "CLinuxIO",
                "SmollamaCore",
                "SmollamaSensors",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // LLM runtimes: Ollama and OpenAI-compatible clients, model management, the runtime supervisor.
        .target(
            name: "SmollamaLLM",
            dependencies: [
                "SmollamaCore",
                "SmollamaProcess",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // LLM benchmark: our client vs curl straight to llama-server (see BENCHMARKS.md).
        .executableTarget(
            name: "smollama-llm-bench",
            dependencies: [
                "SmollamaLLM",
                "SmollamaCore",
                "SmollamaStore",
                "SmollamaSensors",
                "SmollamaMind",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // zlib (Debian zlib1g-dev): sync batches are deflated on the wire.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Sync: wire protocol shared by node and hub, request signing, the hub's handlers and
        // routes, the node's sync client service.
        .target(
            name: "SmollamaSync",
            dependencies: [
                "CZlib",
                "SmollamaCore",
                "SmollamaStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                // mDNS hub discovery: UDP multicast sockets.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        // The mind: evidence, grounded observations, memories, recall, the LLM's tools and `ask`.
        .target(
            name: "SmollamaMind",
            dependencies: [
                "SmollamaCore",
                "SmollamaStore",
                "SmollamaLLM",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ],
            swiftSettings: swiftSettings
        ),
        // Dashboard and JSON API (Hummingbird): pages, SSE, /metrics. Assets are embedded in code.
        .target(
            name: "SmollamaServer",
            dependencies: [
                "SmollamaCore",
                "SmollamaStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The hub's shared memory: a mem0-compatible REST API (/mem0) over every node's memories,
        // fact extraction for `infer: true`, and the bridge to an external mem0 server.
        .target(
            name: "SmollamaMem0",
            dependencies: [
                "SmollamaCore",
                "SmollamaStore",
                "SmollamaLLM",
                "SmollamaMind",
                "SmollamaServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The Model Context Protocol server: the house's tools and resources for an assistant,
        // over stdio (`smollama mcp`) and, on the hub, streamable HTTP at `/mcp`.
        .target(
            name: "SmollamaMCP",
            dependencies: [
                "SmollamaCore",
                "SmollamaStore",
                "SmollamaMind",
                "SmollamaServer",
                "SmollamaMem0",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Composition root: configuration, node identity, the daemon's service group.
        .target(
            name: "SmollamaNode",
            dependencies: [
                "SmollamaCore",
                "SmollamaStore",
                "SmollamaSensors",
                "SmollamaMQTT",
                "SmollamaHardware",
                "SmollamaLLM",
                "SmollamaMind",
                "SmollamaServer",
                "SmollamaMem0",
                "SmollamaMCP",
                "SmollamaSync",
                "CZlib",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command line: argument parsing and printing only.
        .executableTarget(
            name: "smollama",
            dependencies: [
                "SmollamaCore",
                "SmollamaStore",
                "SmollamaServer",
                "SmollamaNode",
                "SmollamaMQTT",
                "SmollamaHardware",
                "SmollamaLLM",
                "SmollamaSync",
                "SmollamaMind",
                "SmollamaMem0",
                "SmollamaMCP",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Benchmarks run as a release executable, never as timed tests (see BENCHMARKS.md).
        .executableTarget(
            name: "smollama-bench",
            dependencies: [
                "SmollamaCore",
                "SmollamaStore",
                "SmollamaMind",
                "SmollamaLLM",
                "SmollamaSensors",
                "SmollamaServer",
                "SmollamaMQTT",
                "SmollamaSync",
                "SmollamaProcess",
                "SmollamaMCP",
                "CMosquitto",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        // Fixtures shared by the test targets: temp stores, scripted drivers, test clocks, a real
        // broker, the live LLM runtime.
        .target(
            name: "SmollamaTesting",
            dependencies: [
                "SmollamaCore", "SmollamaStore", "SmollamaSensors", "SmollamaMQTT", "SmollamaProcess", "SmollamaLLM",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmollamaCoreTests",
            dependencies: ["SmollamaCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmollamaStoreTests",
            dependencies: ["SmollamaStore", "SmollamaSensors", "SmollamaTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmollamaSensorsTests",
            dependencies: ["SmollamaSensors", "SmollamaTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmollamaMQTTTests",
            dependencies: [
                "SmollamaMQTT", "SmollamaSensors", "SmollamaStore", "SmollamaTesting",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmollamaProcessTests",
            dependencies: ["SmollamaProcess", "SmollamaCore", "SmollamaTesting"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmollamaHardwareTests",
            dependencies: [
                "SmollamaHardware", "CLinuxIO", "SmollamaTesting",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmollamaLLMTests",
            dependencies: [
                "SmollamaLLM",
                "SmollamaCore",
                "SmollamaTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmollamaMindTests",
            dependencies: [
                "SmollamaMind", "SmollamaStore", "SmollamaSensors", "SmollamaLLM", "SmollamaTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmollamaServerTests",
            dependencies: [
                "SmollamaServer", "SmollamaStore", "SmollamaTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmollamaMCPTests",
            dependencies: [
                "SmollamaMCP", "SmollamaMind", "SmollamaServer", "SmollamaStore", "SmollamaCore", "SmollamaTesting",
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmollamaMem0Tests",
            dependencies: [
                "SmollamaMem0", "SmollamaServer", "SmollamaStore", "SmollamaLLM", "SmollamaTesting", "SmollamaMQTT", "SmollamaProcess",
                "SmollamaSync",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmollamaSyncTests",
            dependencies: [
                "SmollamaSync", "SmollamaStore", "SmollamaCore", "SmollamaTesting",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Seeded property-based fuzzing of the sync push decoder, the MQTT payload parser, the mem0
        // request decoder and the config loader (SMOLLAMA_FUZZ_SCALE multiplies the inputs).
        .testTarget(
            name: "SmollamaFuzzTests",
            dependencies: [
                "SmollamaSync", "SmollamaStore", "SmollamaCore", "SmollamaMQTT", "SmollamaMem0", "SmollamaLLM", "SmollamaNode",
                "SmollamaTesting",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SmollamaNodeTests",
            dependencies: [
                "SmollamaNode", "SmollamaStore", "SmollamaSensors", "SmollamaMQTT", "SmollamaSync", "SmollamaTesting",
                "SmollamaMind", "SmollamaLLM", "SmollamaServer", "SmollamaMem0", "SmollamaCore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
