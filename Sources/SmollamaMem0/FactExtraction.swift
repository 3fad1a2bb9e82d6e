import Foundation
public import SmollamaLLM

/// One message of a conversation given to `POST /memories`.
public struct ExtractionMessage: Sendable, Hashable {
    public var role: String
    public var content: String
    public var name: String?

    public init(role: String, content: String, name: String? = nil) {
        self.role = role
        self.content = content
        self.name = name
    }
}

/// A fact the model found in a conversation, with where it came from.
public struct ExtractedFact: Sendable, Hashable {
    public var text: String
    public var subjects: [String]
    /// Which model extracted it from how much input, e.g. `smollm2-135m-instruct; 2 messages; sha256 3f1a…`.
    public var provenance: String
}

/// `infer: true`: turns a conversation into facts worth remembering.
public protocol FactExtracting: Sendable {
    func extract(from messages: [ExtractionMessage]) async throws -> [ExtractedFact]
}

/// Fact extraction with a small local model: a compact prompt (well under a 4 k context: the
/// instructions are ~120 tokens and the conversation is capped at `maxInputCharacters`), a JSON
/// schema the runtime enforces by grammar, temperature 0, and a check that each fact is grounded:
/// every number in it must appear in the conversation, and it must share a word with it.
public struct ModelFactExtractor: FactExtracting {
    public let model: any ChatModel
    /// About 1 500 tokens of conversation (the newest part is kept).
    public var maxInputCharacters = 6000
    public var maxFacts = 8

    public init(model: any ChatModel) {
        self.model = model
    }

    static let instructions = """
        You keep a memory for a home sensor system. From the conversation, list the facts worth \
        remembering later: preferences, routines, plans, names, and facts about rooms, devices and sensors. \
        Each fact is one short sentence that stands alone (say who or what it is about). Copy numbers exactly. \
        Skip greetings, questions and guesses. If there is nothing to remember, return an empty list.
        """

    static func schema(maxFacts: Int) -> JSONValue {
        [
            "type": "object",
            "properties": [
                "facts": [
                    "type": "array", "maxItems": .number(Double(maxFacts)),
                    "items": [
                        "type": "object",
                        "properties": [
                            "text": ["type": "string", "minLength": 3, "maxLength": 200],
                            "subjects": ["type": "array", "maxItems": 4, "items": ["type": "string", "maxLength": 40]],
                        ],
                        "required": ["text", "subjects"],
                        "additionalProperties": false,
                    ],
                ]
            ],
            "required": ["facts"],
            "additionalProperties": false,
        ]
    }

    struct Reply: Decodable {
        struct Fact: Decodable {
            var text: String
            var subjects: [String]
        }
        var facts: [Fact]
    }

    /// The conversation as the prompt shows it, newest part kept when too long.
    func transcript(_ messages: [ExtractionMessage]) -> String {
        let lines = messages.filter { $0.role != "system" }.map { "\($0.name ?? $0.role): \($0.content)" }
        let text = lines.joined(separator: "\n")
        return text.count <= maxInputCharacters ? text : String(text.suffix(maxInputCharacters))
    }

    public func extract(from messages: [ExtractionMessage]) async throws -> [ExtractedFact] {
        let conversation = transcript(messages)
        let reply = try await model.generate(
            Reply.self, schema: Self.schema(maxFacts: maxFacts), name: "facts",
            messages: [.system(Self.instructions), .user("Conversation:\n" + conversation)],
            options: .deterministic(maxTokens: 384))
        let provenance = "\(model.model); \(messages.count) messages; extracted by the hub"
        var seen = Set<String>()
        var facts: [ExtractedFact] = []
        for fact in reply.facts {
            let text = fact.text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard Self.isGrounded(text, in: conversation), seen.insert(text.lowercased()).inserted else { continue }
            let subjects = fact.subjects.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            facts.append(ExtractedFact(text: text, subjects: subjects, provenance: provenance))
        }
        return facts
    }

    /// Every number in the fact appears in the conversation, and at least one word of 4+ letters does.
    static func isGrounded(_ fact: String, in conversation: String) -> Bool {
        guard fact.count >= 3 else { return false }
        let source = conversation.lowercased()
        let numbers = fact.split(whereSeparator: { !($0.isNumber || $0 == ".") }).map { $0.trimmingCharacters(in: ["."]) }
            .filter { !$0.isEmpty && $0.first?.isNumber == true }
        guard numbers.allSatisfy({ source.contains($0) }) else { return false }
        let words = fact.lowercased().split(whereSeparator: { !$0.isLetter }).filter { $0.count >= 4 }
        return words.contains { source.contains($0) }
    }
}
