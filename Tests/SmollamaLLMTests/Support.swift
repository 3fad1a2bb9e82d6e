import Foundation
import Logging
import ServiceLifecycle
import SmollamaLLM
import Synchronization
import SmollamaTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension LiveRuntime {
    /// The chat client the live tests use, logging into the suite's capture.
    var chat: OpenAIClient { client(timeout: .seconds(90), logger: capture.logger("client", level: .info)) }
}

/// The suite's live runtime (see `LiveRuntime` in SmollamaTesting).
func live() throws -> LiveRuntime { try LiveRuntime.require() }

func cosine(_ a: [Float], _ b: [Float]) -> Float {
    zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
}
