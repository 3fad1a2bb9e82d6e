import ArgumentParser
import Foundation
import Logging
import SmollamaCore
import SmollamaLLM
import SmollamaMem0
import SmollamaMind
import SmollamaNode
import SmollamaStore

struct RecallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recall",
        abstract: "Search observations and memories (on the hub: every node's, or one node's with --node).")

    @OptionGroup var global: GlobalOptions
    @Option(help: "Only what this node wrote: a node name, its id, or an id prefix (6+ hex digits).") var node: String?
    @Option(name: .customLong("top-k"), help: "How many hits to show.") var topK = 5
    @Flag(help: "JSON output.") var json = false
    @Argument(help: "Words or a question.") var query: String

    func validate() throws {
        guard (1...100).contains(topK) else { throw ValidationError("--top-k must be from 1 to 100") }
        guard !query.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("give words to look for") }
    }

    func run() async throws {
        try await userFacing {
            let runtime = try await global.openNode()
            let logger = Logger(label: "smollama.recall")
            let recall = CrossNodeRecall(
                recall: Recall(database: runtime.database, embedder: runtime.config.llm.makeEmbedder(logger: logger),
                               logger: logger),
                directory: DatabaseNodeDirectory(database: runtime.database, node: runtime.identity.nodeID,
                                                 nodeName: runtime.config.node.name))
            let hits = try await recall.search(query, node: node, topK: topK)
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(hits), as: UTF8.self))
                return
            }
            if hits.isEmpty { print("Nothing found.") }
            for hit in hits {
                print(String(format: "%.2f  ", hit.score) + "\(hit.kind.prefix(3))  \(hit.node)  \(hit.text)  [\(hit.id)]")
            }
        }
    }
}
