import Foundation
public import Logging
import ServiceLifecycle
import SmollamaCore
public import SmollamaServer
public import SmollamaStore
public import SmollamaSync

/// What sync adds to a daemon: the hub's routes (role `llama`) and the node's sync client
/// service (`sync.enabled`, once enrolled).
public struct SyncWiring: Sendable {
    public let hub: SyncHub?
    public let client: SyncClient?
    let configuration: SyncService.Configuration
    let mdns: NodeConfig.MDNSSection

    /// The hub's sync routes, served by the dashboard's HTTP server (none on other nodes).
    var mounts: [RouteMount] { hub.map { [Self.mount(hub: $0)] } ?? [] }

    /// `/sync/v1`: each signed route checks its request's signature; `time` and `enroll` (which
    /// carries its one-time token in the body) are public.
    public static func mount(hub: SyncHub) -> RouteMount {
        RouteMount(path: SyncRoutes.prefix, routes: SyncRoutes(hub: hub).routes, publicRoutes: SyncRoutes.publicRoutes)
    }

    public init(runtime: NodeRuntime, clock: NodeClock, clockSource: any ClockSource, logger: Logger) throws {
        let config = runtime.config
        mdns = config.mdns
        let key = try SyncKey(file: runtime.paths.keyFile)
        if config.node.role == .llama {
            hub = SyncHub(database: runtime.database, hubNode: runtime.identity.nodeID, hubName: config.node.name,
                          key: key, logger: logger)
        } else {
            hub = nil
        }
        configuration = .init(interval: config.sync.interval.duration, maxBackoff: config.sync.maxBackoff.duration,
                              minFreeBytes: Int64(config.sync.minFreeMB) << 20, dataDirectory: runtime.paths.dataDirectory)
        guard config.sync.enabled else {
            client = nil
            return
        }
        guard let info = try HubInfo.load(path: runtime.paths.hubFile) else {
            logger.error("sync.enabled is true but this node is not enrolled; run `smollama enroll --hub URL --token T`")
            client = nil
            return
        }
        let url = config.sync.hub.isEmpty ? info.url : config.sync.hub
        client = SyncClient(
            database: runtime.database, node: runtime.identity.nodeID, incarnation: runtime.identity.incarnation,
            key: key, hub: info, clockSource: clockSource, transport: HTTPSyncTransport(baseURL: url),
            configuration: .init(rawReadings: config.sync.rawReadings, pullStreams: config.sync.pullStreams), logger: logger,
            quality: { await clock.quality }, stamp: { await clock.eventStamp() },
            adoptHubTime: { time, monotonic in await clock.adopt(hubTime: time, monotonicNanoseconds: monotonic) })
    }

    func service(logger: Logger) -> ServiceGroupConfiguration.ServiceConfiguration? {
        client.map { .init(service: SyncService(client: $0, configuration: configuration, logger: logger), serviceName: "sync") }
    }

    /// The hub's mDNS announcer (`mdns.announce`, on by default), which waits for `port`: the
    /// dashboard's, known once it serves (it may have been 0, a free port).
    func announcer(port: @escaping @Sendable () async -> UInt16?, logger: Logger)
        -> ServiceGroupConfiguration.ServiceConfiguration?
    {
        guard let hub, mdns.announce else { return nil }
        let responder = MDNSResponder(endpoint: MDNSEndpoint(port: mdns.port, queryAddress: mdns.address), logger: logger) {
            guard let port = await port() else { return nil }
            return HubAnnouncement(name: hub.hubName, hubNode: hub.hubNode, version: SmollamaVersion.current,
                                   fingerprint: hub.keyFingerprint, port: port)
        }
        return .init(service: responder, serviceName: "mdns")
    }

    /// The sync client for a one-off command (`smollama sync`).
    public static func commandClient(runtime: NodeRuntime, logger: Logger) throws -> SyncClient {
        guard let info = try HubInfo.load(path: runtime.paths.hubFile) else {
            throw SyncCommandError.notEnrolled
        }
        let url = runtime.config.sync.hub.isEmpty ? info.url : runtime.config.sync.hub
        return SyncClient(
            database: runtime.database, node: runtime.identity.nodeID, incarnation: runtime.identity.incarnation,
            key: try SyncKey(file: runtime.paths.keyFile), hub: info, clockSource: SystemClockSource(),
            transport: HTTPSyncTransport(baseURL: url),
            configuration: .init(rawReadings: runtime.config.sync.rawReadings, pullStreams: runtime.config.sync.pullStreams),
            logger: logger, quality: { [database = runtime.database] in try? await database.storeStatus().clockQuality })
    }

    /// `smollama enroll`: registers this node's public key with the hub using a one-time token,
    /// saves `data/hub.json` and turns sync on in the config file.
    public static func enroll(runtime: NodeRuntime, hubURL: String, token: String) async throws -> HubInfo {
        guard hubURL.hasPrefix("http://") || hubURL.hasPrefix("https://") else {
            throw SyncCommandError.badURL(hubURL)
        }
        // The token names the hub's key (its fingerprint): refused before anything is sent when
        // it names none, and checked against the key the hub answers with.
        let printed = EnrollmentToken(token)
        guard printed.hubFingerprint != nil else { throw SyncCommandError.token(.noFingerprint) }
        let key = try SyncKey(file: runtime.paths.keyFile)
        // Signed, so re-enrolling with the key the hub already holds needs no token minted for this id.
        let request = try EnrollRequest.signed(token: printed.secret, node: runtime.identity.nodeID, name: runtime.config.node.name,
                                               key: key, incarnation: runtime.identity.incarnation)
        let transport = HTTPSyncTransport(baseURL: hubURL, timeout: .seconds(20))
        let body = try JSONEncoder().encode(request)
        let response: SyncHTTPResponse
        do {
            response = try await transport.send(SyncHTTPRequest(path: SyncProtocol.Path.enroll, headers: [:], body: [UInt8](body)))
        } catch {
            throw SyncCommandError.unreachable(hubURL, "\(error)")
        }
        guard response.status == 200 else {
            let detail = (try? JSONDecoder().decode(SyncErrorBody.self, from: Data(response.body)))?.error.message
                ?? "HTTP \(response.status)"
            throw SyncCommandError.refused(detail)
        }
        let answer: EnrollResponse
        do {
            answer = try JSONDecoder().decode(EnrollResponse.self, from: Data(response.body))
        } catch {
            throw SyncCommandError.refused("the answer is not a smollama hub's (\(error))")
        }
        do {
            try printed.check(hubPublicKey: answer.hubPublicKey)
        } catch {
            throw SyncCommandError.token(error)
        }
        var url = hubURL
        while url.hasSuffix("/") { url.removeLast() }
        let info = HubInfo(url: url, hubNode: answer.hubNode, hubName: answer.hubName, hubPublicKey: answer.hubPublicKey)
        try info.save(path: runtime.paths.hubFile)
        try await runtime.database.meta.setHub(info.hubNode)
        try turnSyncOn(configFile: runtime.paths.configFile, url: url)
        return info
    }

    /// `smollama enroll --token T` without `--hub`: browses for hubs over mDNS for `timeout`
    /// and picks the one announcing the key the token names. Throws a sentence saying what to do
    /// when none answers, none matches, or several do. (The key is checked again when enrolling:
    /// an announcer that copies another hub's fingerprint is refused there.)
    public static func discoverHub(token: String, timeout: Duration, endpoint: MDNSEndpoint = .init(), logger: Logger)
        async throws -> (hub: DiscoveredHub, ignored: [DiscoveredHub])
    {
        guard let fingerprint = EnrollmentToken(token).hubFingerprint else { throw SyncCommandError.token(.noFingerprint) }
        let found: [DiscoveredHub]
        do {
            found = try await MDNSBrowser.browse(timeout: timeout, endpoint: endpoint, logger: logger)
        } catch {
            throw SyncCommandError.discovery(.cannotBrowse("\(error)"))
        }
        let matching = found.filter { $0.fingerprint == fingerprint }
        let others = found.filter { $0.fingerprint != fingerprint }
        guard !found.isEmpty else { throw SyncCommandError.discovery(.none(timeout: timeout)) }
        guard let first = matching.first else { throw SyncCommandError.discovery(.noneMatch(fingerprint: fingerprint, found: others)) }
        guard matching.count == 1 else { throw SyncCommandError.discovery(.several(matching)) }
        return (first, others)
    }

    /// Edits the `sync:` section of the config in place (comments kept): `enabled: true`, `hub: URL`.
    static func turnSyncOn(configFile: String, url: String) throws {
        guard let text = try? String(contentsOfFile: configFile, encoding: .utf8) else { return }
        var lines = text.components(separatedBy: "\n")
        var inSync = false
        var sawEnabled = false, sawHub = false
        for index in lines.indices {
            let line = lines[index]
            if !line.hasPrefix(" ") && !line.hasPrefix("#") && !line.isEmpty { inSync = line.hasPrefix("sync:") }
            guard inSync else { continue }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let indent = String(line.prefix(while: { $0 == " " }))
            if trimmed.hasPrefix("enabled:") {
                lines[index] = indent + "enabled: true"
                sawEnabled = true
            } else if trimmed.hasPrefix("hub:") {
                lines[index] = indent + "hub: " + ConfigTemplate.quoted(url)
                sawHub = true
            }
        }
        if !sawEnabled || !sawHub {
            if let index = lines.firstIndex(where: { $0.hasPrefix("sync:") }) {
                var added: [String] = []
                if !sawEnabled { added.append("  enabled: true") }
                if !sawHub { added.append("  hub: " + ConfigTemplate.quoted(url)) }
                lines.insert(contentsOf: added, at: index + 1)
            } else {
                lines += ["sync:", "  enabled: true", "  hub: " + ConfigTemplate.quoted(url), ""]
            }
        }
        // The file keeps its mode: a config holding secrets (mqtt.password, api keys) stays 0600.
        let mode = (try? FileManager.default.attributesOfItem(atPath: configFile)[.posixPermissions] as? NSNumber)?
            .intValue ?? 0o600
        try writeAtomically(Data(lines.joined(separator: "\n").utf8), to: configFile, permissions: mode & 0o777)
    }
}

public enum SyncCommandError: Error, CustomStringConvertible, Equatable {
    case notEnrolled
    case badURL(String)
    case unreachable(String, String)
    case refused(String)
    /// The token names no hub key, or the server's key is not the one it names.
    case token(EnrollmentTokenError)
    case notAHub(role: String)
    /// `enroll` without `--hub` found no single hub over mDNS.
    case discovery(DiscoveryProblem)
    /// The hub found over mDNS answered enrollment with a key other than the token's.
    case impostor(DiscoveredHub, EnrollmentTokenError)

    public enum DiscoveryProblem: Equatable, Sendable {
        case cannotBrowse(String)
        case none(timeout: Duration)
        case noneMatch(fingerprint: String, found: [DiscoveredHub])
        case several([DiscoveredHub])
    }

    static func list(_ hubs: [DiscoveredHub]) -> String {
        hubs.map { "\($0.name) at \($0.url) (node \($0.hubNode.short), key \($0.fingerprint.prefix(8))…, v\($0.version))" }
            .joined(separator: "; ")
    }

    public var description: String {
        switch self {
        case .notEnrolled:
            "this node is not enrolled with a hub: on the hub run `smollama hub token`, then here `smollama enroll --hub URL --token T`"
        case .badURL(let url):
            "'\(url)' is not a hub URL; give the hub's dashboard address, e.g. http://hub.local:8080"
        case .unreachable(let url, let reason):
            "cannot reach the hub at \(url) (\(reason)); check that `smollama run` is running there and the URL and port are right"
        case .refused(let reason):
            "the hub refused: \(reason)"
        case .token(let error):
            "\(error)"
        case .discovery(.cannotBrowse(let reason)):
            "cannot browse for hubs over mDNS (\(reason)); give the hub's address: smollama enroll --hub http://HUB:8080 --token T"
        case .discovery(.none(let timeout)):
            "no hub answered over mDNS (_smollama._tcp, UDP 5353) within \(timeout); give its address: smollama enroll --hub http://HUB:8080 --token T. "
                + "On the hub, check that `smollama run` is running (its log says 'announcing the hub over mDNS'), that mdns.announce is not false, and that a firewall lets UDP 5353 through"
        case .discovery(.noneMatch(let fingerprint, let found)):
            "\(found.count) hub(s) answered over mDNS, but none announces the key this token was made by (fingerprint \(fingerprint.prefix(8))…): \(Self.list(found)). "
                + "Make the token on the hub you mean (smollama hub token), or give --hub URL"
        case .discovery(.several(let hubs)):
            "several hubs answered with this token's key: \(Self.list(hubs)). Choose one: smollama enroll --hub URL --token T"
        case .impostor(let hub, let error):
            "the hub found over mDNS, \(hub.name) at \(hub.url), is not the one that made this token: \(error)"
        case .notAHub(let role):
            "this node's role is \(role); hub commands run on the hub (node.role: llama)"
        }
    }
}
