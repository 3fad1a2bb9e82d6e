public import SmollamaStore

/// What the hub's memory explorer and ask page need from the mind (hybrid recall and `ask`),
/// which this module does not link: the daemon wires them from `SmollamaMind` (`HubPageWiring`),
/// tests pass their own. Plain values in, plain values out.
public struct HubMind: Sendable {
    /// One recall hit: a memory's or an observation's id.
    public struct Hit: Codable, Sendable, Hashable {
        public var id: String
        /// `memory` or `observation`.
        public var kind: String
        public var score: Double

        public init(id: String, kind: String, score: Double) {
            self.id = id
            self.kind = kind
            self.score = score
        }
    }

    /// An answer and the ids it cites.
    public struct Answer: Codable, Sendable, Hashable {
        public var question: String
        public var answer: String
        public var citations: [String]
        /// How it was answered (`tools`, `router`, `rules`, `retrieval`).
        public var mode: String
        public var model: String

        public init(question: String, answer: String, citations: [String], mode: String, model: String) {
            self.question = question
            self.answer = answer
            self.citations = citations
            self.mode = mode
            self.model = model
        }
    }

    /// Words + meaning over the merged store, best first, restricted by `filter` in SQL.
    public var search: @Sendable (_ text: String, _ filter: RecallFilter, _ topK: Int) async throws -> [Hit]
    /// `ask` over every node's memories, observations and rollups.
    public var ask: @Sendable (_ question: String) async throws -> Answer

    public init(search: @escaping @Sendable (_ text: String, _ filter: RecallFilter, _ topK: Int) async throws -> [Hit],
                ask: @escaping @Sendable (_ question: String) async throws -> Answer) {
        self.search = search
        self.ask = ask
    }
}
