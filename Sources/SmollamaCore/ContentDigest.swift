import Crypto

/// SHA-256 over content fed in pieces, so a large file is hashed in constant memory (the import
/// ledger keys files by it).
public struct ContentDigest: Sendable {
    private var hasher = SHA256()

    public init() {}

    public mutating func update(_ bytes: [UInt8]) {
        hasher.update(data: bytes)
    }

    /// Lower-case hex of the digest; the digest cannot be updated afterwards.
    public consuming func hex() -> String {
        hasher.finalize().map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
