public import Logging
import SmollamaCore
import SmollamaStore

/// Memories for the observation prompt, found by recall: the current memories about the sensors
/// the window's notable facts concern, so the model can say "unusual" against what the node learned.
public struct RecalledMemories: MemoryContextProvider {
    let recall: Recall
    let logger: Logger

    public init(recall: Recall, logger: Logger) {
        self.recall = recall
        self.logger = logger
    }

    public func memories(for packet: EvidencePacket, limit: Int) async -> [String] {
        let sensors = Array(Set(packet.highlights.compactMap(\.sensor?.rawValue))).sorted()
        guard !sensors.isEmpty, limit > 0 else { return [] }
        let query = RecallQuery(
            text: sensors.joined(separator: " "), kinds: [.memory], sensors: sensors, validOnly: true, topK: limit)
        do {
            return try await recall.search(query).map(\.text)
        } catch {
            // The prompt goes out without memories rather than not at all.
            logger.warning("recall for the observation prompt failed", metadata: ["smollama.error": "\(error)"])
            return []
        }
    }
}
