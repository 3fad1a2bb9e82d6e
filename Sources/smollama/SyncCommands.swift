import ArgumentParser
import Foundation
import Logging
import SmollamaCore
import SmollamaNode
import SmollamaServer
import SmollamaStore
import SmollamaSync

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Sync with the hub now (progress: remaining, rate, ETA), or show the sync state with --status.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Show per-stream state (local max, hub mark, backlog, last success, last error) instead of syncing.")
    var status = false
    @Flag(help: "Print as JSON.") var json = false

    struct StatusBody: Encodable {
        var node: String
        var hub: HubInfo?
        var enabled: Bool
        var streams: [SyncStreamStatus]
    }

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            if status {
                let body = StatusBody(node: runtime.identity.nodeID.hex, hub: try HubInfo.load(path: runtime.paths.hubFile),
                                      enabled: runtime.config.sync.enabled,
                                      streams: try await runtime.database.syncStatus(origin: runtime.identity.nodeID))
                if json { return try printJSON(body) }
                print("hub       " + (body.hub.map { "\($0.hubName) \($0.url) (\($0.hubNode.short))" } ?? "not enrolled (smollama enroll --hub URL --token T)"))
                print("sync      " + (body.enabled ? "enabled" : "disabled (sync.enabled: false)"))
                print("")
                print(Terminal.table(
                    ["STREAM", "LOCAL", "HUB", "BACKLOG", "LAST SUCCESS", "LAST ERROR"],
                    body.streams.map { stream in
                        [stream.stream.rawValue, "\(stream.localMax)", "\(stream.hubMark)", "\(stream.backlog)",
                         stream.lastSuccess.map { Terminal.timestamp($0) } ?? "never",
                         stream.lastError.map { String($0.prefix(60)) } ?? ""]
                    }))
                return
            }
            let logger = Logger(label: "smollama.sync")
            let client = try SyncWiring.commandClient(runtime: runtime, logger: logger)
            let started = ContinuousClock.now
            let interactive = Terminal.stderrIsTerminal
            let report = try await client.syncOnce(progress: { progress in
                let elapsed = ContinuousClock.now - started
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let rate = seconds > 0 ? Double(progress.sent) / seconds : 0
                let eta = rate > 0 ? Double(progress.remaining) / rate : 0
                let line = "\(progress.stream): " + String(format: "%lld sent, %lld remaining, %.0f/s, ETA %.0f s",
                                                          progress.sent, progress.remaining, rate, eta)
                FileHandle.standardError.write(Data((interactive ? "\r\u{1B}[K" + line : line + "\n").utf8))
            })
            if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
            if json { return try printJSON(report) }
            let pushed = SyncProtocol.pushOrder.compactMap { stream in
                report.pushed[stream.rawValue].flatMap { $0 > 0 ? "\(stream) \($0)" : nil }
            }
            print("synced: pushed " + (pushed.isEmpty ? "nothing new" : pushed.joined(separator: ", "))
                  + "; pulled \(report.pulled) events; \(report.bytesSent) bytes in \(report.requests) requests")
        }
    }
}

struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enroll",
        abstract: "Register this node with a hub using a one-time token from `smollama hub token`, and turn sync on.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "The hub's URL, e.g. http://hub.local:8080. Without it, the hub is found over mDNS (the one that made the token).")
    var hub: String?
    @Option(help: "The one-time token printed by `smollama hub token` on the hub.") var token: String
    @Option(help: "Seconds to listen for hubs over mDNS when --hub is not given.") var timeout: Double = 3
    @Option(help: .hidden) var mdnsQueryAddress: String?

    func validate() throws {
        guard timeout > 0 && timeout <= 60 else { throw ValidationError("--timeout must be more than 0 and at most 60 seconds") }
    }

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            var url = hub
            var discovered: DiscoveredHub?
            if url == nil {
                let endpoint = MDNSEndpoint(port: runtime.config.mdns.port, queryAddress: mdnsQueryAddress ?? MDNSEndpoint.group)
                let found = try await SyncWiring.discoverHub(token: token, timeout: .milliseconds(Int64(timeout * 1000)),
                                                             endpoint: endpoint, logger: quietLogger())
                discovered = found.hub
                url = found.hub.url
                print("Found hub \(Terminal.inert(found.hub.name)) at \(found.hub.url) over mDNS.")
                if !found.ignored.isEmpty {
                    print("Ignored (another key than the token's): " + Terminal.inert(found.ignored.map { "\($0.name) at \($0.url)" }.joined(separator: ", ")))
                }
            }
            let info: HubInfo
            do {
                info = try await SyncWiring.enroll(runtime: runtime, hubURL: url ?? "", token: token)
            } catch SyncCommandError.token(let error) {
                guard let discovered else { throw SyncCommandError.token(error) }
                throw SyncCommandError.impostor(discovered, error)
            }
            print("Enrolled node \(runtime.identity.nodeID) with hub \(info.hubName) (\(info.hubNode.short)) at \(info.url).")
            print("Sync is on in \(runtime.paths.configFile); the running daemon picks it up after a restart. Sync now: smollama sync")
        }
    }
}

struct HubCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hub", abstract: "Hub administration: enrollment tokens, enrolled nodes, revocation.",
        subcommands: [HubTokenCommand.self, HubNodesCommand.self, HubRevokeCommand.self])

    static func hub(_ runtime: NodeRuntime) throws -> SyncHub {
        guard runtime.config.node.role == .llama else { throw SyncCommandError.notAHub(role: runtime.config.node.role.rawValue) }
        return SyncHub(database: runtime.database, hubNode: runtime.identity.nodeID, hubName: runtime.config.node.name,
                       key: try SyncKey(file: runtime.paths.keyFile), logger: Logger(label: "smollama.hub"))
    }
}

struct HubTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Print a one-time enrollment token (valid for --valid minutes).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Minutes the token stays valid.") var valid = 60
    @Option(help: "A node id or enrolled name: the token re-enrolls only that node (a new key, or after `hub revoke`).")
    var node: String?

    func validate() throws {
        guard (1...10_080).contains(valid) else { throw ValidationError("--valid must be 1…10080 minutes") }
        if let node, node.isEmpty { throw ValidationError("--node needs a node id (32 hex digits) or an enrolled name") }
    }

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            var target: NodeID?
            if let node {
                let enrolled = try await runtime.database.hubSync.hubNodes(countReadings: false)
                guard let id = NodeID(hex: node.lowercased()) ?? enrolled.first(where: { $0.name == node }).flatMap({ NodeID(hex: $0.node) })
                else { throw ValidationError("no node '\(node)' is enrolled here (see `smollama hub nodes`); give its id (32 hex digits) or name") }
                target = id
            }
            let token = try await HubCommand.hub(runtime).createToken(lifetime: .seconds(Int64(valid) * 60), for: target)
            print(token)
            FileHandle.standardError.write(Data(
                "On the node: smollama enroll --token \(token)\n(it finds this hub over mDNS; else add --hub http://THIS-HUB:\(runtime.config.http.port))\n".utf8))
        }
    }
}

struct HubNodesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes", abstract: "Enrolled nodes: last seen, backlog, clock quality, collisions, marks, disk use.")
    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print as JSON.") var json = false

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            _ = try HubCommand.hub(runtime)
            let nodes = try await runtime.database.hubSync.hubNodes()
            if json { return try printJSON(nodes) }
            guard !nodes.isEmpty else { return print("no nodes enrolled yet (smollama hub token, then smollama enroll on the node)") }
            let simulated = try await runtime.database.hubSync.simulatedSensors()
            print(Terminal.table(
                ["NODE", "NAME", "LAST SEEN", "BACKLOG", "CLOCK", "COLLISIONS", "READINGS", "ROLLUPS", "DISK", "STATE"],
                nodes.map { node -> [String] in
                    let sends = NodeID(hex: node.node).flatMap { simulated[$0] } == nil ? "" : " (sim)"
                    return [String(node.node.prefix(8)), node.name + sends, node.lastSeen.map(Terminal.timestamp) ?? "never",
                     "\(node.backlog)",
                     (node.clockQuality ?? "?") + (node.clockOffsetMilliseconds.map { String(format: " %+.1f s", Double($0) / 1000) } ?? ""),
                     "\(node.collisions)", "\(node.foreignReadings ?? 0)",
                     "\(node.diskUse.rollups)", Terminal.value(Double(node.diskUse.bytes), unit: "B"),
                     node.revokedAt == nil ? "enrolled" : "REVOKED"]
                }))
            if !simulated.isEmpty {
                print("(sim): the node sends readings of a simulated house, not measurements")
            }
            let collisions = try await runtime.database.hubSync.hubCollisions(limit: 5)
            for collision in collisions {
                print("collision: \(collision.node.prefix(8)) \(collision.stream)/\(collision.seq): \(collision.detail)")
            }
            for notice in try await runtime.database.hubSync.restoreNotices(limit: 5) {
                print("restored: \(notice.node.prefix(8)) \(Terminal.timestamp(notice.seenAt)): \(notice.detail)")
            }
        }
    }
}

struct HubRevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Stop a node from syncing (by id or name); what it sent is kept.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The node's id (32 hex digits) or name.") var node: String

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            guard try await HubCommand.hub(runtime).revoke(node: node) else {
                throw ValidationError("no enrolled node '\(node)'; see `smollama hub nodes`")
            }
            print("Revoked \(node): its requests are refused from now on. Enroll it again with a new token to restore sync.")
        }
    }
}
