import Foundation
import PropertyBased
import Testing

/// Seeded mutation fuzzing on PropertyBased's generators: each input is a valid example from a
/// small corpus (or random bytes) put through up to six mutations — bit flips, byte changes,
/// insertions, deletions, splices of JSON/YAML tokens and extreme numbers, duplicated chunks,
/// truncation — drawn from one `Xoshiro` with a fixed seed, so input N is the same on every run
/// and a failure names it. (`propertyCheck` draws a fresh seed per input and `.fixedSeed` runs a
/// single one, so the loop is ours; the generators and the random source are the library's.)
enum Fuzz {
    /// Inputs per target: 20 000 in CI; `SMOLLAMA_FUZZ_SCALE=10` for the longer run.
    static var count: Int { 20_000 * scale }
    static var scale: Int {
        ProcessInfo.processInfo.environment["SMOLLAMA_FUZZ_SCALE"].flatMap(Int.init).map { max(1, $0) } ?? 1
    }
    static let seed: (UInt64, UInt64, UInt64, UInt64) = (0x5EED_5EED_0000_0018, 0x0000_0000_0000_0005, 0xF022_F022_F022_F022, 0x1)
    /// One input slower than this counts as a hang.
    static let slow: Duration = .seconds(2)

    /// What one input did.
    enum Outcome: Sendable {
        case accepted
        /// Refused with this sentence (checked to be a sentence, not a type name or empty).
        case refused(String)
    }

    /// Splice material: structure, extreme and odd numbers, escapes, deep nesting, YAML syntax.
    static let tokens: [[UInt8]] = [
        "{", "}", "[", "]", ",", ":", "\"", "\\", "null", "true", "false", "0", "-1", "1.5", "1e308", "-1e308", "1e-400",
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551616", "9007199254740993",
        "NaN", "Infinity", "\"\\u0000\"", "\"\\ud800\"", "\"\u{1F600}\"", "\"*\"", "\"AND\"", "\"OR\"", "\"NOT\"",
        String(repeating: "[", count: 600), String(repeating: "{\"a\":", count: 300), String(repeating: "9", count: 400),
        "\n", "\t", "- ", ": ", "&a ", "*a", "!!binary ", "? ", "|", ">", "---", "...", "%YAML 1.2\n", "~", "0x7FFFFFFFFFFFFFFF",
        "\u{FEFF}", "\u{00}", "\u{FF}",
    ].map { Array($0.utf8) }

    /// Runs `check` on `count` inputs made from `corpus`; records an issue for a slow input or a
    /// refusal that is not a sentence, and prints the figures.
    @discardableResult
    static func run(_ name: String, corpus: [[UInt8]], count: Int = count,
                    check: (_ input: [UInt8]) async throws -> Outcome) async throws -> String {
        let cases = zip(Gen.int(in: 0...corpus.count), Gen.uint64(in: 0 ... .max).array(of: 0...6))
        var rng = Xoshiro(seed: seed)
        var accepted = 0, refused = 0
        var slowest: Duration = .zero
        let clock = ContinuousClock()
        let start = clock.now
        for index in 0..<count {
            let (pick, words) = cases.run(using: &rng)
            let input = mutate(pick < corpus.count ? corpus[pick] : randomBytes(words), words)
            let began = clock.now
            // Give the cooperative pool back between inputs: on 2 cores a tight loop starves
            // the other suites' servers running in parallel.
            await Task.yield()
            let outcome = try await check(input)
            let took = clock.now - began
            slowest = max(slowest, took)
            #expect(took < slow, "\(name) input \(index) took \(took): \(preview(input))")
            switch outcome {
            case .accepted: accepted += 1
            case .refused(let sentence):
                refused += 1
                #expect(sentence.count >= 12 && sentence.contains(" "), "\(name) input \(index) refused without a sentence: '\(sentence)' for \(preview(input))")
            }
        }
        let total = clock.now - start
        func ms(_ duration: Duration) -> Double { Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15 }
        let figures = "fuzz \(name): \(count) inputs, \(accepted) accepted, \(refused) refused, slowest \(String(format: "%.1f", ms(slowest))) ms, total \(String(format: "%.1f", ms(total) / 1000)) s"
        print(figures)
        return figures
    }

    static func randomBytes(_ words: [UInt64]) -> [UInt8] {
        words.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) } }
    }

    /// Applies one mutation per word: the low byte picks it, the rest place and fill it.
    static func mutate(_ original: [UInt8], _ words: [UInt64]) -> [UInt8] {
        var bytes = original
        for word in words {
            let position = Int((word >> 8) % UInt64(bytes.count + 1))
            let value = UInt8(truncatingIfNeeded: word >> 40)
            let length = Int((word >> 48) % 32) + 1
            switch word % 8 {
            case 0 where position < bytes.count: bytes[position] ^= 1 << (value % 8)
            case 1 where position < bytes.count: bytes[position] = value
            case 2: bytes.insert(value, at: position)
            case 3: bytes.removeSubrange(position..<min(bytes.count, position + length))
            case 4: bytes.insert(contentsOf: tokens[Int(value) % tokens.count], at: position)
            case 5:
                bytes.removeSubrange(position..<min(bytes.count, position + length % 8))
                bytes.insert(contentsOf: tokens[Int(value) % tokens.count], at: min(position, bytes.count))
            case 6:
                let chunk = Array(bytes[position..<min(bytes.count, position + length * 4)])
                bytes.insert(contentsOf: chunk, at: Int(word >> 24) % (bytes.count + 1))
            default: bytes.removeSubrange(position...)
            }
        }
        return bytes
    }

    static func preview(_ input: [UInt8]) -> String {
        let text = String(decoding: input.prefix(300), as: UTF8.self)
        return input.count > 300 ? "\(text)… (\(input.count) bytes)" : text
    }
}
