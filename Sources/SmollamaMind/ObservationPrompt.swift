import Foundation
public import SmollamaLLM
import SmollamaCore

/// The prompt for one window: short system text, the evidence lines, the last few observations and
/// relevant memories, trimmed to a token budget. The schema pins kinds, subjects and evidence ids to
/// what the packet holds, so a grammar-constrained runtime cannot even name an unknown sensor.
public struct ObservationPrompt: Sendable {
    public var messages: [ChatMessage]
    public var schema: JSONValue
    /// Our estimate of the prompt's tokens (the runtime's count comes back in `Usage`).
    public var estimatedTokens: Int
    /// Evidence lines, observations and memories left out to meet the budget.
    public var trimmed: Int

    public static let system = """
        Turn a home's sensor evidence into short factual observations. Use only the evidence lines; copy \
        numbers exactly, with units. Say rooms in words (kitchen.temperature: "the kitchen temperature"); \
        never put ids like f2 in the text or copy a line. Cite the ids you used. UNUSUAL lines matter most.
        """
    // No worked example: SmolLM2-135M copied an example's numbers ("4 activations") into most replies
    // (smollama-llm-bench observations, BENCHMARKS.md), and the verifier then refused them all.

    /// About 2.6 bytes per token: evidence lines are dense with numbers, ids and dotted sensor names
    /// (measured: SmolLM2's tokenizer counted 600–650 tokens where 3.5 bytes/token estimated 480),
    /// plus a few tokens per message.
    public static func estimateTokens(_ messages: [ChatMessage]) -> Int {
        messages.reduce(0) { $0 + ($1.content.utf8.count * 10 + 25) / 26 + 6 }
    }

    public static func build(packet: EvidencePacket, recent: [String], memories: [String], maxTokens: Int)
        -> ObservationPrompt
    {
        var lines = packet.lines
        var recent = recent
        var memories = memories
        var trimmed = 0
        func messages() -> [ChatMessage] {
            var user = "Evidence:\n" + lines.joined(separator: "\n")
            if !recent.isEmpty { user += "\nEarlier observations:\n" + recent.map { "- " + $0 }.joined(separator: "\n") }
            if !memories.isEmpty { user += "\nKnown patterns:\n" + memories.map { "- " + $0 }.joined(separator: "\n") }
            user += "\nWrite 1 or 2 observations about this window, most important first."
            return [.system(system), .user(user)]
        }
        // Least useful first: memories, older observations, then the least important evidence lines
        // (the packet lists them last); the window line and at least one fact always stay.
        while estimateTokens(messages()) > maxTokens {
            if !memories.isEmpty {
                memories.removeLast()
            } else if !recent.isEmpty {
                recent.removeLast()
            } else if lines.count > 2 {
                lines.removeLast()
            } else {
                break
            }
            trimmed += 1
        }
        let built = messages()
        let sensors = Array(Set(packet.facts.compactMap(\.sensor?.rawValue))).sorted()
        let ids = packet.facts.map(\.id)
        var item: [String: JSONValue] = [
            "kind": ["type": "string", "enum": .array(ObservationVerifier.kinds.map(JSONValue.string))],
            // No minLength/maxLength: llama.cpp expands them into one grammar rule per character,
            // which slows every sampled token; the token cap bounds the length instead.
            "text": ["type": "string"],
            "evidence_ids": ["type": "array", "items": ["type": "string", "enum": .array(ids.map(JSONValue.string))],
                             "minItems": 1, "maxItems": 4],
            "importance": ["type": "number", "minimum": 0, "maximum": 1],
        ]
        item["subjects"] = sensors.isEmpty
            ? ["type": "array", "items": ["type": "string"], "maxItems": 0]
            : ["type": "array", "items": ["type": "string", "enum": .array(sensors.map(JSONValue.string))],
               "minItems": 1, "maxItems": 3]
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "observations": [
                    // Two at most: a small model on a Pi decodes a few tokens per second.
                    "type": "array", "minItems": 1, "maxItems": 2,
                    "items": [
                        "type": "object", "properties": .object(item),
                        "required": ["kind", "subjects", "text", "evidence_ids", "importance"],
                        "additionalProperties": false,
                    ],
                ],
            ],
            "required": ["observations"],
            "additionalProperties": false,
        ]
        return ObservationPrompt(messages: built, schema: schema, estimatedTokens: estimateTokens(built), trimmed: trimmed)
    }
}
