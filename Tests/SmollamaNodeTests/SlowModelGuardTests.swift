import Foundation
import SmollamaLLM
import SmollamaMind
import SmollamaNode
import Synchronization
import Testing

/// Back-fill asks the model only while it keeps up: one reply over budget and the rest go to rules.
@Suite struct SlowModelGuardTests {
    /// A model that answers the first `fast` calls at once and then never answers (until cancelled).
    final class Model: ObservationNarrator {
        let fast: Int
        let calls = Mutex(0)
        init(fast: Int) { self.fast = fast }

        func narrate(_ request: ChatRequest, onToken: @escaping @Sendable (String) async -> Void) async throws
            -> ChatResponse
        {
            let call = calls.withLock { count in
                count += 1
                return count
            }
            if call > fast { try await Task.sleep(for: .seconds(3600)) }
            return ChatResponse(model: "m", message: .assistant("{}"), finishReason: .stop)
        }
    }

    @Test func aSlowReplyMakesEveryLaterCallFailAtOnce() async throws {
        let model = Model(fast: 2)
        let guarded = SlowModelGuard(model, budget: .milliseconds(200))
        let request = ChatRequest(messages: [.user("evidence")])
        for _ in 0..<2 { _ = try await guarded.narrate(request) { _ in } }
        await #expect(throws: LLMError.self) { try await guarded.narrate(request) { _ in } }
        #expect(await guarded.gaveUp)
        // Later windows do not reach the model at all: the loop writes them by rules.
        await #expect(throws: LLMError.self) { try await guarded.narrate(request) { _ in } }
        #expect(model.calls.withLock { $0 } == 3)
    }
}
