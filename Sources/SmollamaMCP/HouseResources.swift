import Foundation
public import MCP
public import SmollamaCore
import SmollamaMind
import SmollamaStore

/// The resources: `smollama://nodes` (the node list), `smollama://nodes/ID/sensors` (one node's
/// sensors with their units) and `smollama://digest/latest` (the newest daily digest). Each is
/// JSON, written like the tools' results (snake_case keys, ISO 8601 times).
extension House {
    public static let nodesURI = "smollama://nodes"
    public static let digestURI = "smollama://digest/latest"

    static func sensorsURI(_ node: String) -> String { "smollama://nodes/\(node)/sensors" }

    /// One node as the node list shows it.
    public struct NodeEntry: Codable, Sendable, Hashable {
        public var id: String
        public var name: String
        /// `this node`, or `synced` (a node that syncs to this hub).
        public var role: String
        public var lastSeen: UTCMillis?
        public var sensorsURI: String
    }

    /// One sensor with its unit.
    public struct SensorEntry: Codable, Sendable, Hashable {
        public var sensor: String
        public var name: String
        public var kind: String
        public var unit: String
    }

    public func nodeEntries() async throws -> [NodeEntry] {
        var entries = [NodeEntry(id: node.hex, name: nodeName, role: "this node", lastSeen: nil,
                                 sensorsURI: Self.sensorsURI(node.hex))]
        if isHub {
            for summary in try await database.hubSync.hubNodes(countReadings: false) where summary.revokedAt == nil {
                entries.append(NodeEntry(id: summary.node, name: summary.name, role: "synced", lastSeen: summary.lastSeen,
                                         sensorsURI: Self.sensorsURI(summary.node)))
            }
        }
        return entries
    }

    public func resourceList() async throws -> [Resource] {
        var list = [
            Resource(name: "nodes", uri: Self.nodesURI, description: "The nodes this server answers for, with their ids.",
                     mimeType: "application/json"),
            Resource(name: "latest daily digest", uri: Self.digestURI,
                     description: "The newest daily digest: what was unusual, presence per room and comfort.",
                     mimeType: "application/json"),
        ]
        for entry in try await nodeEntries() {
            list.append(Resource(name: "sensors of \(entry.name)", uri: entry.sensorsURI,
                                 description: "Every sensor of \(entry.name) with its kind and unit.",
                                 mimeType: "application/json"))
        }
        return list
    }

    public func read(_ uri: String) async throws -> ReadResource.Result {
        let text: String
        switch uri {
        case Self.nodesURI:
            text = try json(["nodes": try await nodeEntries()])
        case Self.digestURI:
            var origins = [node]
            if isHub {
                origins += try await database.hubSync.hubNodes(countReadings: false).compactMap { NodeID(hex: $0.node) }
            }
            let digests = try await database.hubPages.observations(origins: origins, kinds: [DailyDigest.kind], limit: 1)
            text = try json(DigestEntry(digest: digests.first.map(ObservationsOutput.Item.init)))
        default:
            let prefix = "smollama://nodes/", suffix = "/sensors"
            guard uri.hasPrefix(prefix), uri.hasSuffix(suffix), uri.count > prefix.count + suffix.count,
                  let id = NodeID(hex: String(uri.dropFirst(prefix.count).dropLast(suffix.count))),
                  try await nodeEntries().contains(where: { $0.id == id.hex })
            else {
                throw MCPError.invalidParams(
                    "no resource '\(uri)'; resources: \(Self.nodesURI), \(Self.digestURI), smollama://nodes/ID/sensors "
                        + "(ID from \(Self.nodesURI))")
            }
            let sensors = id == node
                ? try await database.readings.registeredSensors().map(\.descriptor)
                : try await database.hubReadings.sensors(node: id)
            text = try json(["sensors": sensors.map {
                SensorEntry(sensor: $0.id.rawValue, name: $0.name, kind: $0.kind.rawValue, unit: $0.unit)
            }])
        }
        return ReadResource.Result(contents: [.text(text, uri: uri, mimeType: "application/json")])
    }

    /// The newest digest, or null before the first day was digested.
    struct DigestEntry: Encodable, Sendable {
        var digest: ObservationsOutput.Item?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(digest, forKey: .digest)
        }

        enum CodingKeys: String, CodingKey { case digest }
    }

    func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .snakeCaseWords
        encoder.userInfo[UTCMillis.iso8601Zone] = timeZone
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
