public import Foundation
public import SmollamaCore
public import SmollamaLLM
public import SmollamaServer
public import SmollamaMQTT
public import SmollamaMem0
public import SmollamaMCP
public import SmollamaMind

/// The node's whole configuration: one YAML file (`config.yaml`), every key defaulted, unknown
/// keys refused. Precedence: `--set` flags → `SMOLLAMA_*` environment → file → defaults.
/// Decoding is the synthesized `Codable` over a tree laid on the defaults (`ConfigDecoding`);
/// range checks are in each section's `check()`.
public struct NodeConfig: ConfigSection, Hashable {
    public enum Role: String, Codable, Sendable, CaseIterable {
        /// An edge node: sensors, local log, local LLM.
        case alpaca
        /// The hub: everything an alpaca does, plus sync server, merged store and broker.
        case llama
    }

    public struct NodeSection: Codable, Sendable, Hashable, ConfigChecked {
        /// Display name; the identity is the node id, never this.
        public var name = "smollama"
        public var role = Role.alpaca
        /// Relative paths are under SMOLLAMA_HOME.
        public var dataDir = "data"
        /// IANA time zone name (`Europe/Berlin`) for every local time the node writes or shows:
        /// baselines ("at this hour"), observation sentences, `logs`. Nil: the system's zone.
        public var timezone: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, role, timezone
            case dataDir = "data_dir"
        }

        /// The zone `timezone` names, with its daylight saving rules; the system's when unset.
        public var timeZone: TimeZone { timezone.flatMap(TimeZone.init(identifier:)) ?? .current }

        public init() {}
        public func check() throws(ConfigProblem) {
            if let timezone {
                try ConfigProblem.require(
                    TimeZone(identifier: timezone) != nil, "timezone",
                    "'\(timezone)' is not an IANA time zone name; write one like Europe/Berlin "
                        + "or America/New_York (see /usr/share/zoneinfo), or leave it out for the system's")
            }
        }
    }

    public struct StoreSection: Codable, Sendable, Hashable, ConfigChecked {
        /// Readings wait in memory at most this long before a commit: the most a `kill -9`
        /// or power cut can lose.
        public var flushInterval = ConfigDuration.seconds(1)
        /// …or until this many wait.
        public var batchSize = 1000
        /// Readings kept in memory while the disk refuses writes, before the oldest are dropped.
        public var maxQueued = 200_000
        /// Raw readings older than this are deleted once rolled up (and acknowledged by the hub).
        public var rawRetention = ConfigDuration.days(30)
        public var rollupInterval = ConfigDuration.seconds(10)
        public var retentionInterval = ConfigDuration.hours(1)

        enum CodingKeys: String, CodingKey, CaseIterable {
            case flushInterval = "flush_interval"
            case batchSize = "batch_size"
            case maxQueued = "max_queued"
            case rawRetention = "raw_retention"
            case rollupInterval = "rollup_interval"
            case retentionInterval = "retention_interval"
        }

        public init() {}
        public func check() throws(ConfigProblem) {
            try ConfigProblem.require(batchSize >= 1, "batch_size", "must be at least 1")
            try ConfigProblem.require(maxQueued >= batchSize, "max_queued", "must be at least batch_size (\(batchSize))")
            try ConfigProblem.require(
                flushInterval.milliseconds > 0 && rollupInterval.milliseconds > 0 && retentionInterval.milliseconds > 0,
                "flush_interval", "intervals must be longer than 0")
        }
    }

    public struct ClockSection: Codable, Sendable, Hashable {
        /// A wall clock further ahead than this of the last trusted time is not believed.
        public var maxForwardJump = ConfigDuration.days(732)
        /// Wall-clock steps back up to this are jitter; beyond it the wall clock is untrusted.
        public var tolerance = ConfigDuration.seconds(2)

        enum CodingKeys: String, CodingKey, CaseIterable {
            case maxForwardJump = "max_forward_jump"
            case tolerance
        }

        public init() {}

        public var policy: HybridLogicalClock.Policy {
            HybridLogicalClock.Policy(tolerance: tolerance.milliseconds, maxForwardJump: maxForwardJump.milliseconds)
        }
    }

    public struct SensorsSection: Codable, Sendable, Hashable, ConfigChecked {
        /// Consecutive failed reads before a driver's sensors are marked faulty.
        public var faultThreshold = 3
        /// Longest wait between retries of a faulty driver.
        public var maxBackoff = ConfigDuration.minutes(10)
        /// The drivers, each `driver: <kind>` plus its own keys. Decoded separately (see
        /// `DriverEntry`), because each kind owns its keys.
        public var drivers: [DriverEntry] = DriverEntry.defaults

        enum CodingKeys: String, CodingKey, CaseIterable {
            case faultThreshold = "fault_threshold"
            case maxBackoff = "max_backoff"
        }

        public init() {}
        public func check() throws(ConfigProblem) {
            try ConfigProblem.require(faultThreshold >= 1, "fault_threshold", "must be at least 1")
        }
    }

    public struct SyncSection: Codable, Sendable, Hashable, ConfigChecked {
        /// With sync on, raw readings are deleted only once the hub acknowledged them.
        public var enabled = false
        /// The hub's base URL, e.g. http://hub.local:8080 (default: the URL given to `smollama enroll`).
        public var hub = ""
        /// Send raw readings too (after every other stream, oldest first). Off: only events and
        /// rollups travel, and retention no longer waits for the hub before deleting raw readings.
        public var rawReadings = true
        /// Time between sync rounds while the hub is reachable; after a failure, retries start at
        /// 1 s and double up to `max_backoff`.
        public var interval = ConfigDuration.seconds(60)
        public var maxBackoff = ConfigDuration.seconds(30)
        /// With less free disk than this (MiB), the oldest rolled-up raw readings are deleted
        /// even before the hub has them, with a `store.compacted` marker; 0 turns this off.
        public var minFreeMB = 256
        /// Also pull other nodes' observations from the hub (memories are always pulled).
        public var pullObservations = false

        enum CodingKeys: String, CodingKey, CaseIterable {
            case enabled, hub, interval
            case rawReadings = "raw_readings"
            case maxBackoff = "max_backoff"
            case minFreeMB = "min_free_mb"
            case pullObservations = "pull_observations"
        }

        public init() {}

        /// Streams pulled from the hub.
        public var pullStreams: [EventStream] { pullObservations ? [.memories, .observations] : [.memories] }

        public func check() throws(ConfigProblem) {
            try ConfigProblem.require(minFreeMB >= 0, "min_free_mb", "must be 0 (off) or more")
            try ConfigProblem.require(
                interval.milliseconds > 0 && maxBackoff.milliseconds > 0, "interval", "intervals must be longer than 0")
            try ConfigProblem.require(
                hub.isEmpty || hub.hasPrefix("http://") || hub.hasPrefix("https://"), "hub",
                "must be an http:// or https:// URL, e.g. http://hub.local:8080")
        }
    }

    /// What a hub (`role: llama`) keeps of other nodes' data. Their raw readings are rolled up as
    /// they arrive; rollups are what the hub's node pages chart.
    public struct HubSection: Codable, Sendable, Hashable, ConfigChecked {
        /// Other nodes' raw readings older than this are deleted once rolled up.
        public var rawRetention = ConfigDuration.days(30)
        /// Other nodes' 5-minute rollups (the 24 h charts) older than this are deleted; hourly
        /// rollups (the 7 d and 30 d charts) are kept forever.
        public var rollupRetention = ConfigDuration.days(90)

        enum CodingKeys: String, CodingKey, CaseIterable {
            case rawRetention = "raw_retention"
            case rollupRetention = "rollup_retention"
        }

        public init() {}
        public func check() throws(ConfigProblem) {
            try ConfigProblem.require(
                rawRetention.milliseconds >= 3_600_000, "raw_retention",
                "must be at least 1h (raw readings are deleted only once rolled up); write e.g. 30d")
            try ConfigProblem.require(
                rollupRetention.milliseconds >= 86_400_000, "rollup_retention",
                "must be at least 1d, or the 24 h charts (5-minute rollups) lose their start; write e.g. 90d")
        }
    }

    /// Scheduled, rotated backups (`BackupService`), the same archive as `smollama backup`.
    /// Off by default: a backup on the SD card that holds the store survives neither the card
    /// nor the Pi, doubles the store's disk use and writes the whole store each time (card
    /// wear). Turn it on with `dir` on another device (a USB stick, a NAS mount).
    public struct BackupSection: Codable, Sendable, Hashable, ConfigChecked {
        /// Time between backups; 0s (the default) turns them off. E.g. 1d.
        public var interval = ConfigDuration.seconds(0)
        /// How many of this node's backups are kept in `dir`; older ones are deleted.
        public var keep = 7
        /// Where backups go; relative paths are under SMOLLAMA_HOME.
        public var dir = "backups"

        enum CodingKeys: String, CodingKey, CaseIterable { case interval, keep, dir }

        public init() {}
        public var enabled: Bool { interval.milliseconds > 0 }
        public func check() throws(ConfigProblem) {
            try ConfigProblem.require(keep >= 1, "keep", "must be at least 1 (the newest backup)")
            try ConfigProblem.require(
                interval.milliseconds == 0 || interval.milliseconds >= 60_000, "interval",
                "must be 0s (off) or at least 1m; write e.g. 1d")
            try ConfigProblem.require(!dir.isEmpty, "dir", "must name a directory, e.g. /mnt/usb/smollama-backups")
        }
    }

    /// Hub discovery over multicast DNS (a hub only): the hub announces `_smollama._tcp` on the
    /// local network, so `smollama enroll --token T` finds it without `--hub`.
    public struct MDNSSection: Codable, Sendable, Hashable, ConfigChecked {
        /// Announce this hub (and answer queries) on UDP 5353 while it runs.
        public var announce = true
        /// The mDNS port: 5353 everywhere; only tests change it.
        public var port = 5353
        /// Where announcements go: the mDNS group everywhere; tests use 127.0.0.1 so nothing
        /// leaves the machine.
        public var address = "224.0.0.251"

        enum CodingKeys: String, CodingKey, CaseIterable { case announce, port, address }

        public init() {}
        public func check() throws(ConfigProblem) {
            try ConfigProblem.require((1...65_535).contains(port), "port", "must be a UDP port, 5353 for mDNS")
            let octets = address.split(separator: ".", omittingEmptySubsequences: false)
            try ConfigProblem.require(octets.count == 4 && octets.allSatisfy { UInt8($0) != nil }, "address",
                                      "must be an IPv4 address: 224.0.0.251, the mDNS group")
        }
    }

    public struct LogSection: Codable, Sendable, Hashable {
        public enum Level: String, Codable, Sendable, CaseIterable {
            case trace, debug, info, notice, warning, error, critical
        }
        public var level = Level.info

        enum CodingKeys: String, CodingKey, CaseIterable { case level }

        public init() {}
    }

    public var node = NodeSection()
    public var store = StoreSection()
    public var clock = ClockSection()
    public var sensors = SensorsSection()
    public var sync = SyncSection()
    /// A hub's retention of other nodes' readings (unused on an alpaca).
    public var hub = HubSection()
    public var log = LogSection()
    /// Scheduled backups (off by default; see `BackupSection`).
    public var backup = BackupSection()
    /// Hub discovery over mDNS (see `MDNSSection`).
    public var mdns = MDNSSection()
    /// The dashboard and JSON API (see `HTTPConfig`).
    public var http = HTTPConfig()
    /// The local LLM runtime (see SmollamaLLM.LLMConfig for every key).
    public var llm = LLMConfig()
    /// MQTT: live publishing, ingest of other devices' topics, Home Assistant discovery.
    public var mqtt = MQTTConfig()
    /// The observation loop (see SmollamaMind.ObserveConfig for every key).
    public var observe = ObserveConfig()
    /// Memories and recall (see SmollamaMind.MemoryConfig for every key).
    public var memory = MemoryConfig()
    /// The hub's mem0-compatible API and the bridge to an external mem0 server (see `Mem0Config`).
    public var mem0 = Mem0Config()
    /// The Model Context Protocol server: `smollama mcp` and the hub's `/mcp` (see `MCPConfig`).
    public var mcp = MCPConfig()
    /// Rooms named by hand: area → the sensor ids in it (`study: [office.co2, office.light]`).
    /// A sensor not listed is in its id's first part (`hallway.motion` → hallway). Presence,
    /// evidence and observation sentences all use it (see `AreasConfig.swift`).
    public var areas: [String: [String]] = [:]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case node, store, clock, sensors, sync, hub, mdns, log, backup, http, llm, mqtt, observe, memory, mem0, mcp, areas
    }

    public init() {}

    /// The LLM section's defaults follow the backend and runtime given (see `LLMConfig.defaults`).
    public static func defaults(given: ConfigGiven) -> NodeConfig {
        var defaults = NodeConfig()
        defaults.llm = LLMConfig.defaults(given: given.section("llm"))
        return defaults
    }

    public func check() throws(ConfigProblem) {
        try node.check(under: "node")
        try store.check(under: "store")
        try sensors.check(under: "sensors")
        try sync.check(under: "sync")
        try hub.check(under: "hub")
        try backup.check(under: "backup")
        try mdns.check(under: "mdns")
        try http.check(under: "http")
        try llm.check(under: "llm")
        try mqtt.check(under: "mqtt")
        try observe.check(under: "observe")
        try memory.check(under: "memory")
        try mem0.check(under: "mem0")
        try mcp.check(under: "mcp")
        try mcp.check(dashboardToken: http.token)
        try checkAreas()
    }
}
