public import SmollamaCore

/// What a hub announces over multicast DNS (DNS-SD service `_smollama._tcp`): its name (the
/// service instance), its node id, version and key fingerprint (TXT `id=`, `v=`, `fp=`), and
/// the dashboard's port (SRV). The fingerprint is the same one enrollment tokens carry
/// (`SyncSigning.fingerprint`), so a node can tell which announcer printed its token.
public struct HubAnnouncement: Sendable, Hashable {
    public var name: String
    public var hubNode: NodeID
    public var version: String
    public var fingerprint: String
    public var port: UInt16

    public init(name: String, hubNode: NodeID, version: String, fingerprint: String, port: UInt16) {
        self.name = name
        self.hubNode = hubNode
        self.version = version
        self.fingerprint = fingerprint
        self.port = port
    }
}

/// A hub that answered a browse: where its sync routes are and which key it says it has.
public struct DiscoveredHub: Sendable, Hashable, Codable {
    public var name: String
    public var hubNode: NodeID
    public var version: String
    public var fingerprint: String
    /// The address the answer came from (IPv4, dotted): the one that reaches the hub from here.
    public var host: String
    public var port: UInt16

    public var url: String { "http://\(host):\(port)" }
}

/// The DNS-SD records of a hub and the reading of answers (RFC 6763): pure functions over
/// `DNSMessage`, used by `MDNSResponder` and `MDNSBrowser`.
public enum HubDiscovery {
    /// `_smollama._tcp.local`: the service type hubs announce.
    public static let serviceType = DNSName("_smollama._tcp.local")
    /// DNS-SD's service-type enumeration name (`dns-sd -B _services._dns-sd._udp`).
    static let servicesName = DNSName("_services._dns-sd._udp.local")
    /// Record lifetime in caches (RFC 6762 §10 suggests 120 s for host records).
    public static let ttl: UInt32 = 120
    /// Answers to legacy unicast queries carry at most this TTL (RFC 6762 §6.7).
    static let legacyTTL: UInt32 = 10

    /// The instance name: the hub's name as one label (at most 63 bytes, dots allowed).
    static func instance(_ announcement: HubAnnouncement) -> DNSName {
        var label = announcement.name.isEmpty ? "smollama hub" : announcement.name
        while label.utf8.count > 63 { label.removeLast() }
        return serviceType.prepending(label)
    }

    /// The host name in SRV and A: `smollama-<short id>.local`, so it never clashes with the
    /// machine's own name (which avahi may announce).
    static func host(_ announcement: HubAnnouncement) -> DNSName {
        DNSName(labels: ["smollama-" + announcement.hubNode.short, "local"])
    }

    static func records(_ announcement: HubAnnouncement, addresses: [[UInt8]], ttl: UInt32, cacheFlush: Bool)
        -> (ptr: DNSRecord, srv: DNSRecord, txt: DNSRecord, a: [DNSRecord])
    {
        let instance = instance(announcement), host = host(announcement)
        return (
            DNSRecord(name: serviceType, data: .ptr(instance), ttl: ttl),
            DNSRecord(name: instance, data: .srv(priority: 0, weight: 0, port: announcement.port, target: host), ttl: ttl,
                      cacheFlush: cacheFlush),
            DNSRecord(name: instance, data: .txt(["txtvers=1", "id=\(announcement.hubNode.hex)", "v=\(announcement.version)",
                                                  "fp=\(announcement.fingerprint)"]), ttl: ttl, cacheFlush: cacheFlush),
            addresses.map { DNSRecord(name: host, data: .a($0), ttl: ttl, cacheFlush: cacheFlush) })
    }

    /// The unsolicited announcement (RFC 6762 §8.3) sent when the hub starts; `ttl` 0 is the
    /// goodbye sent when it stops.
    public static func announcement(_ announcement: HubAnnouncement, addresses: [[UInt8]], ttl: UInt32 = ttl) -> DNSMessage {
        let records = records(announcement, addresses: addresses, ttl: ttl, cacheFlush: true)
        return DNSMessage(isResponse: true, authoritative: true, answers: [records.ptr, records.srv, records.txt] + records.a)
    }

    /// The answer to `query`, or nil when it asks for nothing this hub holds. `legacy` (the
    /// query came from a port other than 5353: a one-shot browser such as `smollama enroll`)
    /// echoes the id and questions, and caps TTLs (RFC 6762 §6.7).
    public static func answer(to query: DNSMessage, announcement: HubAnnouncement, addresses: [[UInt8]], legacy: Bool)
        -> DNSMessage?
    {
        guard !query.isResponse else { return nil }
        let records = records(announcement, addresses: addresses, ttl: legacy ? legacyTTL : ttl, cacheFlush: !legacy)
        let instance = instance(announcement), host = host(announcement)
        var answers: [DNSRecord] = []
        var additionals: [DNSRecord] = []
        for question in query.questions {
            let any = question.type == DNSType.any
            if question.name == serviceType && (any || question.type == DNSType.ptr) {
                answers.append(records.ptr)
                additionals += [records.srv, records.txt] + records.a
            } else if question.name == servicesName && (any || question.type == DNSType.ptr) {
                answers.append(DNSRecord(name: servicesName, data: .ptr(serviceType), ttl: records.ptr.ttl))
            } else if question.name == instance {
                if any || question.type == DNSType.srv { answers.append(records.srv) }
                if any || question.type == DNSType.txt { answers.append(records.txt) }
                if question.type == DNSType.srv { additionals += records.a }
            } else if question.name == host && (any || question.type == DNSType.a) {
                answers += records.a
            }
        }
        // Known-answer suppression (RFC 6762 §7.1): a PTR the asker already holds is not repeated.
        answers.removeAll { answer in
            query.answers.contains { $0.name == answer.name && $0.data == answer.data && $0.ttl >= answer.ttl / 2 }
        }
        guard !answers.isEmpty else { return nil }
        additionals.removeAll { answers.contains($0) }
        var unique: [DNSRecord] = []
        for record in additionals where !unique.contains(record) { unique.append(record) }
        return DNSMessage(id: legacy ? query.id : 0, isResponse: true, authoritative: true,
                          questions: legacy ? query.questions : [], answers: answers, additionals: unique)
    }

    /// The browse query: PTR `_smollama._tcp.local`, asking for a unicast answer.
    public static func query(id: UInt16) -> DNSMessage {
        DNSMessage(id: id, questions: [DNSQuestion(name: serviceType, type: DNSType.ptr, unicastResponse: true)])
    }

    /// The hubs a response describes (PTR → SRV + TXT of each instance). `source` is the
    /// address the packet came from, which is what reaches the hub from here; without it, the
    /// instance's A record is used. Instances with a missing SRV or a TXT without a valid
    /// `id` and `fp` are skipped (not a smollama hub of this version).
    public static func hubs(in message: DNSMessage, source: String?) -> [DiscoveredHub] {
        guard message.isResponse else { return [] }
        let records = message.records
        var hubs: [DiscoveredHub] = []
        for record in records where record.name == serviceType && record.ttl > 0 {
            guard case .ptr(let instance) = record.data, instance.labels.count == serviceType.labels.count + 1 else { continue }
            var port: UInt16?
            var target: DNSName?
            var text: [String: String] = [:]
            for candidate in records where candidate.name == instance {
                switch candidate.data {
                case .srv(_, _, let srvPort, let srvTarget):
                    port = srvPort
                    target = srvTarget
                case .txt(let strings):
                    for string in strings {
                        guard let equals = string.firstIndex(of: "=") else { continue }
                        text[String(string[..<equals]).lowercased()] = String(string[string.index(after: equals)...])
                    }
                default: continue
                }
            }
            let address = records.first { $0.name == target }.flatMap { record -> String? in
                guard case .a(let bytes) = record.data else { return nil }
                return bytes.map(String.init).joined(separator: ".")
            }
            guard let port, port > 0, let host = source ?? address, let id = text["id"].flatMap({ NodeID(hex: $0) }),
                  let fingerprint = text["fp"], fingerprint.count == 32, fingerprint.allSatisfy(\.isHexDigit)
            else { continue }
            let hub = DiscoveredHub(name: instance.labels[0], hubNode: id, version: text["v"] ?? "?",
                                    fingerprint: fingerprint.lowercased(), host: host, port: port)
            if !hubs.contains(hub) { hubs.append(hub) }
        }
        return hubs
    }
}
