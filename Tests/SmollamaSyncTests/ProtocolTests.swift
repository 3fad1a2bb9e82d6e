import Foundation
import SmollamaCore
import Testing
@testable import SmollamaSync

@Suite struct SyncProtocolTests {
    @Test func deflateRoundTrips() throws {
        let input = [UInt8](String(repeating: "21.5,10000,", count: 1000).utf8)
        let packed = try Deflate.compress(input)
        #expect(packed.count < input.count / 10)
        #expect(try Deflate.decompress(packed, length: input.count) == input)
        #expect(throws: Deflate.Failure.self) { try Deflate.decompress(Array(packed.prefix(packed.count / 2)), length: input.count) }
    }
}
