import Foundation
import MCP
import Testing
@testable import SmollamaMCP

/// `tools/call` replies written without the SDK's encode–decode–encode round trip must be the
/// bytes the SDK's own encoder writes.
struct ToolCallReplyTests {
    @Test(arguments: [
        "", "plain", #"{"a":"b \"quoted\" \\ back","path":"/x/y"}"#, "line\nfeed\r\ttab\u{8}\u{C}",
        "control \u{1}\u{1F} end", "°C — naïve 日本 🙂", "@@smollama.mcp.text@@",
    ])
    func textIsQuotedAsTheSDKsEncoderQuotesIt(text: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let expected = try encoder.encode([text])
        var ours = Data("[".utf8)
        ours.append(JSONText.quoted(text))
        ours.append(Data("]".utf8))
        #expect(String(decoding: ours, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
    }

    @Test func aReplyIsTheSDKsResponseWithTheTextInPlace() throws {
        let text = #"{"cited_ids":["a"],"hits":[{"text":"motion \"in\" the hall\n"}]}"#
        let result = CallTool.Result(content: [.text(text: text, annotations: nil, _meta: nil)], isError: false)
        let expected = try HouseServer.encoder.encode(Response<CallTool>(id: .number(7), result: result))
        let ours = try HouseServer.reply(id: .number(7), result: result)
        #expect(ours == expected, "\(String(decoding: ours, as: UTF8.self))")
        // A result that is not one text goes through the encoder as it is.
        let two = CallTool.Result(content: [.text(text: "a", annotations: nil, _meta: nil),
                                            .text(text: "b\n", annotations: nil, _meta: nil)], isError: true)
        #expect(try HouseServer.reply(id: .string("x"), result: two)
                    == HouseServer.encoder.encode(Response<CallTool>(id: .string("x"), result: two)))
    }
}
