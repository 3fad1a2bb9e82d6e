import Foundation
import SmollamaCore
public import SmollamaMind
import SmollamaStore

/// `smollama recall [--node NAME] "…"` and the hub's `recall` tool: the recall engine over the
/// merged store, optionally restricted to the nodes a name stands for. Thin on purpose: ranking,
/// filters and vectors are the recall engine's.
public struct CrossNodeRecall: Sendable {
    public let recall: Recall
    public let directory: any NodeDirectory

    public init(recall: Recall, directory: any NodeDirectory) {
        self.recall = recall
        self.directory = directory
    }

    /// One hit as printed or sent as JSON.
    public struct Hit: Codable, Sendable, Hashable {
        public var id: String
        public var kind: String
        public var node: String
        public var text: String
        public var score: Double
    }

    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unknownNode(String)

        public var description: String {
            switch self {
            case .unknownNode(let name):
                "no node named '\(name)' is known here: use a node name enrolled with this hub (`smollama hub nodes`), "
                    + "its id, or an id prefix of at least 6 hex digits"
            }
        }
    }

    public func search(_ text: String, node: String? = nil, topK: Int = 5) async throws -> [Hit] {
        var origins: [NodeID]?
        if let node {
            let matched = await directory.nodes(matching: node)
            guard !matched.isEmpty else { throw Failure.unknownNode(node) }
            origins = matched
        }
        var hits: [Hit] = []
        for hit in try await recall.search(RecallQuery(text: text, origins: origins, topK: topK)) {
            var name = "?"
            if let origin = hit.memory?.firstOrigin ?? hit.observation?.origin { name = await directory.name(of: origin) }
            hits.append(Hit(id: hit.id, kind: hit.kind.rawValue, node: name, text: hit.text, score: hit.score))
        }
        return hits
    }
}
