import Foundation
import Logging
import SmollamaCore
import SmollamaLLM
import SmollamaStore
import SmollamaTesting
import Synchronization
import Testing
@testable import SmollamaMind

@Suite struct AskTests {
    /// A tool-capable model: recorded replies ask for recall, then current_state, then answer.
    @Test func toolLoopRunsRecordedToolCallsAndCitesWhatTheyReturned() async throws {
        let fixture = try await ToolsFixture()
        let model = ScriptedChatModel(capabilities: [.completion, .tools], replies: [
            ScriptedChatModel.calls([ToolCall(id: "c1", name: "recall", arguments: ["query": "hallway motion weekdays"])]),
            ScriptedChatModel.calls([ToolCall(id: "c2", name: "current_state", arguments: ["sensors": ["hallway.motion"]])]),
            ScriptedChatModel.text("On weekdays the hallway is busy 07:00–09:00 [m01]."),
        ])
        let answer = try await Asker(model: model, tools: fixture.tools, logger: .quiet).ask("When is the hallway busy on weekdays?")
        #expect(answer.mode == .tools)
        #expect(answer.toolCalls.map(\.name) == ["recall", "current_state"])
        #expect(answer.citations == ["m01"])
        #expect(answer.answer.contains("07:00"))
        let requests = model.requests.withLock { $0 }
        #expect(requests.count == 3)
        #expect(requests[0].tools.map(\.name) == ["recall", "remember", "history", "current_state"])
        // The tool results went back to the model, answering the right call.
        let toolMessages = requests[2].messages.filter { $0.role == .tool }
        #expect(toolMessages.map(\.toolCallID) == ["c1", "c2"])
        #expect(toolMessages.first?.content.contains("\"id\":\"m01\"") == true)
    }

    @Test func toolLoopIsBounded() async throws {
        let fixture = try await ToolsFixture()
        let loop = ScriptedChatModel.calls([ToolCall(id: "x", name: "recall", arguments: ["query": "again"])])
        let model = ScriptedChatModel(capabilities: [.completion, .tools], replies: [loop, loop, loop, ScriptedChatModel.text("Done.")])
        let asker = Asker(model: model, tools: fixture.tools, maxToolRounds: 3, logger: .quiet)
        let answer = try await asker.ask("Loop forever?")
        #expect(answer.toolCalls.count == 3)
        #expect(answer.answer == "Done.")
        // The last round offered no tools.
        #expect(model.requests.withLock { $0.last?.tools.isEmpty } == true)
    }

    /// No tools capability: the router (constrained JSON) picks current_state; the answer cites recall's ids.
    @Test func routerPathWithoutToolCapability() async throws {
        let fixture = try await ToolsFixture()
        let model = ScriptedChatModel(capabilities: [.completion], replies: [
            ScriptedChatModel.text(#"{"tool":"current_state","sensor":"living_room.temperature"}"#),
            ScriptedChatModel.text("It is about 22 °C; evenings are usually around 21 °C [m03]."),
        ])
        let answer = try await Asker(model: model, tools: fixture.tools, logger: .quiet).ask("How warm is the living room?")
        #expect(answer.mode == .router)
        #expect(answer.toolCalls.map(\.name) == ["recall", "current_state"])
        #expect(answer.citations == ["m03"])
        let requests = model.requests.withLock { $0 }
        guard case .jsonSchema(let name, _) = requests.first?.format else {
            Issue.record("the router must use a JSON schema")
            return
        }
        #expect(name == "route")
        let prompt = requests.last?.messages.last?.content ?? ""
        #expect(prompt.contains("[m03]"))
        #expect(prompt.contains("now: living_room.temperature = "))
    }

    @Test func aDeadModelFallsBackToTheRules() async throws {
        let fixture = try await ToolsFixture()
        let model = ScriptedChatModel(capabilities: [.completion], replies: [])
        let answer = try await Asker(model: model, tools: fixture.tools, logger: .quiet).ask("When does the post usually arrive?")
        #expect(answer.mode == .rules)
        #expect(answer.citations.first == "m25")
        #expect(answer.answer.contains("post arrives"))
    }
}
