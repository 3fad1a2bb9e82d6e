#if canImport(Glibc)
import Glibc
#endif
public import Logging
import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// Where mDNS is spoken: the group 224.0.0.251 and port 5353 (RFC 6762). Tests use another port
/// (or a unicast address), so they never touch a real network's mDNS.
public struct MDNSEndpoint: Sendable, Hashable {
    public var port: Int
    /// Where queries and announcements go: the mDNS group, or a unicast address (tests on
    /// loopback, so nothing leaves the machine; then no group is joined).
    public var queryAddress: String

    public static let group = "224.0.0.251"

    public init(port: Int = 5353, queryAddress: String = MDNSEndpoint.group) {
        self.port = port
        self.queryAddress = queryAddress
    }
}

typealias DatagramChannel = NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>

enum MDNSSocket {
    /// This machine's IPv4 interfaces that can multicast (not loopback), with their addresses.
    static func interfaces() -> [(device: NIONetworkDevice, address: [UInt8])] {
        let devices = (try? System.enumerateDevices()) ?? []
        return devices.compactMap { device in
            guard case .v4? = device.address, device.multicastSupported,
                  let text = device.address?.ipAddress else { return nil }
            let bytes = text.split(separator: ".").compactMap { UInt8($0) }
            guard bytes.count == 4, bytes[0] != 127 else { return nil }
            return (device, bytes)
        }
    }

    static func bind(host: String, port: Int, shared: Bool) async throws -> DatagramChannel {
        var bootstrap = DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if shared {
            // Other responders (avahi) may hold 5353 too; both set these options.
            bootstrap = bootstrap.channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: 1)
        }
        return try await bootstrap.bind(host: host, port: port) { channel in
            channel.eventLoop.makeCompletedFuture {
                // mDNS packets carry TTL 255 (RFC 6762 §11).
                try channel.syncOptions?.setOption(.ipOption(.ip_multicast_ttl), value: 255)
                return try DatagramChannel(wrappingChannelSynchronously: channel)
            }
        }
    }

    static func envelope(_ message: DNSMessage, to address: SocketAddress) throws -> AddressedEnvelope<ByteBuffer> {
        AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: try message.encode()))
    }
}

/// The hub's announcer (`mdns.announce`): joins the mDNS group on every IPv4 interface, sends
/// an announcement when it starts and a goodbye when it stops, and answers queries for
/// `_smollama._tcp` — to the group, or straight back to a one-shot browser's port. When the
/// port cannot be bound, it logs why and stays idle: discovery is a convenience, never fatal.
public struct MDNSResponder: Service {
    /// What to announce; waited for before anything is sent (the daemon knows its dashboard's
    /// port only once it serves). Nil: nothing to announce, the responder ends.
    let announcement: @Sendable () async -> HubAnnouncement?
    let endpoint: MDNSEndpoint
    let logger: Logger
    /// The address A records give when the machine has no other (tests on loopback).
    let fallbackAddresses: [[UInt8]]

    public init(endpoint: MDNSEndpoint = .init(), logger: Logger,
                fallbackAddresses: [[UInt8]] = [[127, 0, 0, 1]],
                announcement: @escaping @Sendable () async -> HubAnnouncement?) {
        self.announcement = announcement
        self.endpoint = endpoint
        self.logger = logger
        self.fallbackAddresses = fallbackAddresses
    }

    public func run() async throws {
        guard let announcement = await announcement() else { return }
        let channel: DatagramChannel
        do {
            channel = try await MDNSSocket.bind(host: "0.0.0.0", port: endpoint.port, shared: true)
        } catch {
            logger.error("mDNS announcement off: cannot listen on UDP port \(endpoint.port); nodes need `smollama enroll --hub URL`",
                         metadata: ["smollama.mdns.error": "\(error)"])
            try? await gracefulShutdown()
            return
        }
        let multicast = endpoint.queryAddress == MDNSEndpoint.group
        let group = try SocketAddress(ipAddress: endpoint.queryAddress, port: endpoint.port)
        let interfaces = multicast ? MDNSSocket.interfaces() : []
        var joined = 0
        for interface in interfaces {
            do {
                try await (channel.channel as? any MulticastChannel)?.joinGroup(group, device: interface.device).get()
                joined += 1
            } catch {
                logger.warning("mDNS: cannot join the group on an interface",
                               metadata: ["smollama.mdns.interface": "\(interface.device.name)", "smollama.mdns.error": "\(error)"])
            }
        }
        if multicast, joined == 0 { try? await (channel.channel as? any MulticastChannel)?.joinGroup(group).get() }
        let addresses = interfaces.isEmpty ? fallbackAddresses : interfaces.map(\.address)
        logger.info("announcing the hub over mDNS", metadata: [
            "smollama.mdns.service": "\(HubDiscovery.instance(announcement))", "smollama.mdns.port": "\(endpoint.port)",
            "smollama.mdns.addresses": "\(addresses.map { $0.map(String.init).joined(separator: ".") })",
        ])
        try await channel.executeThenClose { inbound, outbound in
            try? await outbound.write(MDNSSocket.envelope(HubDiscovery.announcement(announcement, addresses: addresses), to: group))
            do {
                for try await envelope in inbound.cancelOnGracefulShutdown() {
                    let message: DNSMessage
                    do {
                        message = try DNSMessage.decode(Array(buffer: envelope.data))
                    } catch {
                        logger.debug("mDNS: ignored a malformed packet", metadata: [
                            "smollama.mdns.from": "\(envelope.remoteAddress)", "smollama.mdns.error": "\(error)"])
                        continue
                    }
                    let legacy = envelope.remoteAddress.port != endpoint.port
                    let unicast = legacy || message.questions.contains(where: \.unicastResponse)
                    guard let answer = HubDiscovery.answer(to: message, announcement: announcement, addresses: addresses,
                                                           legacy: legacy)
                    else { continue }
                    try? await outbound.write(MDNSSocket.envelope(answer, to: unicast ? envelope.remoteAddress : group))
                }
            } catch is CancellationError {}
            // Goodbye (TTL 0): browsers forget this hub at once (RFC 6762 §10.1).
            try? await outbound.write(MDNSSocket.envelope(HubDiscovery.announcement(announcement, addresses: addresses, ttl: 0),
                                                          to: group))
        }
    }
}

/// A one-shot browse (RFC 6762 §5.1): from an ephemeral port, asks for `_smollama._tcp` on
/// every IPv4 interface (or at `endpoint.queryAddress`) once a second, and collects the hubs
/// that answer within `timeout`.
public enum MDNSBrowser {
    public static func browse(timeout: Duration, endpoint: MDNSEndpoint = .init(), logger: Logger) async throws
        -> [DiscoveredHub]
    {
        let channel = try await MDNSSocket.bind(host: "0.0.0.0", port: 0, shared: false)
        let destination = try SocketAddress(ipAddress: endpoint.queryAddress, port: endpoint.port)
        let multicast = endpoint.queryAddress == MDNSEndpoint.group
        let interfaces = multicast ? MDNSSocket.interfaces() : []
        let found = FoundHubs()
        let id = UInt16.random(in: 1...UInt16.max)
        try await channel.executeThenClose { inbound, outbound in
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await envelope in inbound {
                            guard let message = try? DNSMessage.decode(Array(buffer: envelope.data)) else { continue }
                            let hubs = HubDiscovery.hubs(in: message, source: envelope.remoteAddress.ipAddress)
                            found.hubs.withLock { list in
                                for hub in hubs where !list.contains(hub) { list.append(hub) }
                            }
                        }
                    } catch {}
                }
                group.addTask {
                    let query = try? MDNSSocket.envelope(HubDiscovery.query(id: id), to: destination)
                    while !Task.isCancelled, let query {
                        if interfaces.isEmpty {
                            try? await outbound.write(query)
                        }
                        for interface in interfaces {
                            // Out of each interface in turn: a Pi on Ethernet and Wi-Fi finds a hub on either.
                            let raw = interface.address.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
                            do {
                                // IP_MULTICAST_IF takes an in_addr: the address's 4 bytes as they are.
                                try await (channel.channel as? any SocketOptionProvider)?
                                    .unsafeSetSocketOption(level: .ip, name: .ip_multicast_if, value: raw).get()
                                try await outbound.write(query)
                            } catch {
                                logger.debug("mDNS: cannot query on an interface", metadata: [
                                    "smollama.mdns.interface": "\(interface.device.name)", "smollama.mdns.error": "\(error)"])
                            }
                        }
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
                try? await Task.sleep(for: timeout)
                group.cancelAll()
            }
        }
        return found.hubs.withLock { $0 }
    }

    /// The hubs heard so far, shared by the reading task and the caller.
    final class FoundHubs: Sendable {
        let hubs = Mutex<[DiscoveredHub]>([])
    }
}
