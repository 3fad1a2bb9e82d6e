import Foundation
public import Logging
public import SmollamaCore
import SmollamaLLM
import SmollamaMQTT
import SmollamaServer
import SmollamaStore
import SmollamaSync

/// `smollama doctor`: every check a node left alone for months needs, each ok, warn or fail with
/// the one command or config line that fixes it. Exit code 0 (all ok), 1 (warnings), 2 (a failure).
public struct DoctorReport: Codable, Sendable {
    public enum Status: String, Codable, Sendable, Comparable {
        case ok, warn, fail

        var rank: Int {
            switch self {
            case .ok: 0
            case .warn: 1
            case .fail: 2
            }
        }

        public static func < (a: Status, b: Status) -> Bool { a.rank < b.rank }
    }

    public struct Check: Codable, Sendable {
        /// `store`, `disk`, `clock`, `daemon`, `llm`, `sensors`, `hub`, `mqtt`, `config`.
        public var name: String
        public var status: Status
        public var detail: String
        /// The one command or config line that settles it (nil when ok).
        public var fix: String?
    }

    public var checks: [Check]
    /// The worst status of all checks.
    public var status: Status
    /// The process exit code for `status`: 0, 1 or 2.
    public var exitCode: Int32 { Int32(status.rank) }

    init(checks: [Check]) {
        self.checks = checks
        status = checks.map(\.status).max() ?? .ok
    }

    /// Runs every check. `hubTimeout` bounds the hub's answer; `askRuntime` asks the LLM runtime.
    public static func make(
        runtime: NodeRuntime, now: UTCMillis, hubTimeout: Duration = .seconds(5), askRuntime: Bool = true,
        logger: Logger
    ) async -> DoctorReport {
        var checks: [Check] = []
        checks.append(await store(runtime))
        checks.append(disk(runtime))
        let status = try? await StatusReport.make(runtime: runtime, now: now, askRuntime: askRuntime, logger: logger)
        checks.append(clock(status))
        checks.append(daemon(status))
        if let llm = status?.llm { checks.append(self.llm(llm)) }
        checks.append(sensors(status, runtime: runtime))
        checks.append(await hub(runtime, now: now, timeout: hubTimeout, logger: logger))
        checks.append(mqtt(status))
        checks.append(dashboard(runtime))
        return DoctorReport(checks: checks)
    }

    static func check(_ name: String, _ status: Status, _ detail: String, fix: String? = nil) -> Check {
        Check(name: name, status: status, detail: detail, fix: fix)
    }

    static func store(_ runtime: NodeRuntime) async -> Check {
        let size = SmollamaDatabase.fileSize(path: runtime.paths.databaseFile)
        let megabytes = String(format: "%.1f MB", Double(size) / 1e6)
        do {
            let problems = try await runtime.database.quickCheck()
            if let first = problems.first {
                return check(
                    "store", .fail, "PRAGMA quick_check found \(problems.count) problem(s), first: \(first)",
                    fix: "stop the node and move \(runtime.paths.databaseFile) aside; it starts on a fresh store "
                        + "and pulls its memories back from the hub")
            }
        } catch {
            return check("store", .fail, "the store cannot be read: \(error)", fix: "check the disk (dmesg) and its permissions")
        }
        let quarantined = NodeRuntime.quarantined(paths: runtime.paths)
        if let file = quarantined.last {
            return check(
                "store", .warn, "integrity ok (\(megabytes)); a damaged store was moved aside: \(file)",
                fix: "copy it off for inspection, then delete \(runtime.paths.quarantineDirectory)")
        }
        return check("store", .ok, "integrity ok (\(megabytes))")
    }

    static func disk(_ runtime: NodeRuntime) -> Check {
        let minimum = Int64(runtime.config.sync.minFreeMB) << 20
        guard let free = SyncService.freeBytes(path: runtime.paths.dataDirectory) else {
            return check("disk", .warn, "free space of \(runtime.paths.dataDirectory) is unknown")
        }
        let text = String(format: "%.1f GB free", Double(free) / 1e9)
        if free < minimum {
            return check(
                "disk", .fail, "\(text), below sync.min_free_mb (\(runtime.config.sync.minFreeMB)): unsynced raw "
                    + "readings are being compacted to rollups",
                fix: "free space on the card, or lower store.raw_retention (now \(runtime.config.store.rawRetention))")
        }
        if free < 4 * minimum {
            return check(
                "disk", .warn, "\(text), less than 4 × sync.min_free_mb",
                fix: "free space on the card, or lower store.raw_retention (now \(runtime.config.store.rawRetention))")
        }
        return check("disk", .ok, text)
    }

    static func clock(_ status: StatusReport?) -> Check {
        switch status?.clockQuality {
        case nil: check("clock", .ok, "no readings yet")
        case .synced: check("clock", .ok, "wall clock trusted")
        case .unsynced:
            check(
                "clock", .warn, "wall clock not trusted (no real-time clock and no NTP?): times are carried "
                    + "forward and repaired when a hub is seen",
                fix: "sudo timedatectl set-ntp true, or enroll with a hub (smollama enroll)")
        }
    }

    static func daemon(_ status: StatusReport?) -> Check {
        guard let pid = status?.daemonPID else {
            return check("daemon", .warn, "not running", fix: "smollama run")
        }
        return check("daemon", .ok, "running, pid \(pid)")
    }

    static func llm(_ llm: LLMRuntimeReport) -> Check {
        let start = llm.runtime == "managed"
            ? "scripts/setup-llm.sh, then smollama run starts it"
            : (llm.backend == "ollama" ? "sudo systemctl start ollama" : "start the server at \(llm.url)")
        guard llm.health == "ok" else {
            return check(
                "llm", .warn, "\(llm.backend) at \(llm.url): \(llm.healthDetail ?? llm.health); rules write every "
                    + "observation meanwhile", fix: start)
        }
        let missing = llm.models.filter { !$0.available }
        if let model = missing.first {
            return check(
                "llm", .warn, "\(model.role) model \(model.name) is not available: \(model.problem ?? "missing")",
                fix: llm.backend == "ollama" ? "ollama pull \(model.name)" : "scripts/setup-llm.sh")
        }
        return check("llm", .ok, "\(llm.backend) at \(llm.url): " + llm.models.map(\.name).joined(separator: ", "))
    }

    static func sensors(_ status: StatusReport?, runtime: NodeRuntime) -> Check {
        let simulated = runtime.config.sensors.drivers.filter { $0.kind == "simulated_house" && $0.enabled }
        guard let status else { return check("sensors", .warn, "sensor health could not be read") }
        let faulty = status.problems.filter { $0.consecutiveFailures > 0 }
        if let first = faulty.first {
            return check(
                "sensors", .warn, "\(faulty.count) of \(status.sensorCount) faulty; \(first.sensor): "
                    + (first.lastError ?? "failing"),
                fix: "check the wiring; smollama sensors shows each error")
        }
        if !simulated.isEmpty {
            return check(
                "sensors", .warn, "a simulated house is configured (driver simulated_house): its readings "
                    + "are not this place's",
                fix: "replace the simulated_house entry with real sensors (smollama sensors detect)")
        }
        if status.sensorCount == 0 {
            return check("sensors", .warn, "no readings from any sensor yet", fix: "smollama run, or add sensors.drivers")
        }
        return check("sensors", .ok, "\(status.sensorCount) sensors, none faulty")
    }

    static func hub(_ runtime: NodeRuntime, now: UTCMillis, timeout: Duration, logger: Logger) async -> Check {
        if runtime.config.node.role == .llama { return check("hub", .ok, "this node is the hub") }
        guard runtime.config.sync.enabled, let info = try? HubInfo.load(path: runtime.paths.hubFile) else {
            return check(
                "hub", .warn, "not enrolled: this node keeps everything to itself",
                fix: "smollama enroll --token T (the token: smollama hub token, on the hub)")
        }
        let url = runtime.config.sync.hub.isEmpty ? info.url : runtime.config.sync.hub
        if let since = try? await runtime.database.meta.restorePending() {
            return check(
                "hub", .fail, "restored from a backup (\(since)) and not synced since: the daemon writes nothing until a "
                    + "sync with \(url) moves this node's counters past what the hub holds",
                fix: "start the hub (or fix sync.hub), then smollama sync")
        }
        let hubTime: UTCMillis
        do {
            hubTime = try await SyncClient.signedHubTime(transport: HTTPSyncTransport(baseURL: url, timeout: timeout), hub: info)
        } catch SyncClientError.hubIdentity, SyncClientError.badHubSignature {
            return check(
                "hub", .fail, "\(url) is not the hub this node enrolled with (\(info.hubName), \(info.hubNode))",
                fix: "set sync.hub to that hub's URL, or enroll again with a token from the new hub")
        } catch {
            return check(
                "hub", .fail, "\(url): \(error)", fix: "check the hub runs (smollama status on it) and sync.hub")
        }
        // Reachable and signed; does it accept this node? One signed request tells.
        if let refused = await authentication(runtime, info: info, url: url, timeout: timeout, logger: logger) { return refused }
        let offset = Double((hubTime - now).components.seconds)
        let detail = "\(info.hubName) at \(url), signed, accepts this node; clock offset \(String(format: "%+.0f", offset)) s"
        if abs(offset) > 60 {
            return check("hub", .warn, detail, fix: "sudo timedatectl set-ntp true (the hub's time is trusted over this clock)")
        }
        return check("hub", .ok, detail)
    }

    /// Nil when the hub accepts this node's signed requests; else the failing check.
    static func authentication(_ runtime: NodeRuntime, info: HubInfo, url: String, timeout: Duration, logger: Logger) async -> Check? {
        let reenroll = "on the hub: smollama hub token --node \(runtime.identity.nodeID.hex); here: smollama enroll --token T"
        do {
            let client = SyncClient(
                database: runtime.database, node: runtime.identity.nodeID, incarnation: runtime.identity.incarnation,
                key: try SyncKey(file: runtime.paths.keyFile), hub: info, clockSource: SystemClockSource(),
                transport: HTTPSyncTransport(baseURL: url, timeout: timeout), logger: logger)
            try await client.checkAccepted()
            return nil
        } catch SyncClientError.refused(let refusal) where [401, 403].contains(refusal.statusCode) {
            return check(
                "hub", .fail, "\(info.hubName) at \(url) is reachable but refuses this node: \(refusal.message)",
                fix: "re-enroll (\(reenroll))")
        } catch SyncClientError.unsignedReply, SyncClientError.badReplySignature {
            return check(
                "hub", .fail, "\(url) answers this node's requests without the enrolled hub's signature (not that hub, or an older one)",
                fix: "set sync.hub to the hub's URL, or upgrade the hub")
        } catch {
            return check("hub", .fail, "\(url): the signed check failed: \(error)", fix: "check the hub runs (smollama status on it) and sync.hub")
        }
    }

    static func mqtt(_ status: StatusReport?) -> Check {
        guard let status, !status.mqttBroker.isEmpty else { return check("mqtt", .ok, "off") }
        guard status.daemonPID != nil, let state = status.mqtt else {
            return check("mqtt", .warn, "\(status.mqttBroker): unknown while the daemon is not running", fix: "smollama run")
        }
        guard state.client.connected else {
            return check(
                "mqtt", .fail, "\(state.client.broker) not connected: \(state.client.lastError ?? "no answer")",
                fix: "check mqtt.broker, mqtt.username and the broker's log")
        }
        return check("mqtt", .ok, "\(state.client.broker) connected")
    }

    static func dashboard(_ runtime: NodeRuntime) -> Check {
        let http = runtime.config.http
        guard http.isLoopback else { return check("config", .ok, "dashboard at \(http.url()) with a token") }
        return check(
            "config", .warn, "the dashboard listens on loopback only: other machines cannot open it",
            fix: "set http.host: 0.0.0.0 and http.token (openssl rand -hex 24)")
    }
}
