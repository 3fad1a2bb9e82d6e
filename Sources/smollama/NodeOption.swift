import ArgumentParser
import SmollamaCore
import SmollamaNode
import SmollamaStore

/// `--node ID`: on the hub, read another node's data (what it synced) instead of the hub's own.
struct NodeOption: ParsableArguments {
    @Option(help: "On the hub: show this synced node's data (its id, an id prefix of 4+ digits, or its name).")
    var node: String?

    /// The node asked for, or nil for this node's own data. Refuses on a node that is not a hub
    /// and names the enrolled nodes when none matches.
    func resolve(_ runtime: NodeRuntime) async throws -> NodeID? {
        guard let wanted = node else { return nil }
        guard runtime.config.node.role == .llama else { throw NodeOptionError.notAHub(role: runtime.config.node.role.rawValue) }
        let nodes = try await runtime.database.hubSync.hubNodes(countReadings: false)
        let text = wanted.lowercased()
        let matching = nodes.filter { $0.node == text || $0.name == wanted || (text.count >= 4 && $0.node.hasPrefix(text)) }
        guard matching.count == 1, let id = NodeID(hex: matching[0].node) else {
            throw NodeOptionError.unknown(wanted, known: nodes.map { "\($0.name) (\($0.node.prefix(8)))" }, ambiguous: matching.count > 1)
        }
        return id
    }
}

enum NodeOptionError: Error, CustomStringConvertible {
    case notAHub(role: String)
    case unknown(String, known: [String], ambiguous: Bool)

    var description: String {
        switch self {
        case .notAHub(let role):
            "--node reads other nodes' data on the hub (node.role: llama); this node's role is \(role): run the command on the hub"
        case .unknown(let wanted, let known, let ambiguous):
            (ambiguous ? "'\(wanted)' matches more than one enrolled node; give more of the id"
                       : "no enrolled node is '\(wanted)'")
                + (known.isEmpty ? " (no node is enrolled yet: `smollama hub nodes`)" : "; enrolled: \(known.joined(separator: ", "))")
        }
    }
}
