import CZlib

/// zlib deflate for sync bodies (Foundation has no compression on Linux).
public enum Deflate {
    public struct Failure: Error, CustomStringConvertible, Hashable {
        public var description: String
    }

    public static func compress(_ input: [UInt8], level: Int32 = 6) throws -> [UInt8] {
        guard !input.isEmpty else { return [] }
        var length = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let code = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { source in
                compress2(out.baseAddress, &length, source.baseAddress, uLong(input.count), level)
            }
        }
        guard code == Z_OK else { throw Failure(description: "zlib compress failed (\(code))") }
        // A copy of the exact size: the bound is about the input's size, the output a fraction.
        return Array(output[..<Int(length)])
    }

    /// Inflates a body whose uncompressed length the sender declared; anything else is refused.
    public static func decompress(_ input: [UInt8], length: Int) throws -> [UInt8] {
        guard length > 0 else { return [] }
        guard !input.isEmpty else { throw Failure(description: "the compressed body is empty") }
        var produced = uLong(length)
        var output = [UInt8](repeating: 0, count: length)
        let code = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { source in
                uncompress(out.baseAddress, &produced, source.baseAddress, uLong(input.count))
            }
        }
        guard code == Z_OK, Int(produced) == length else {
            throw Failure(description: "the compressed body is corrupt or truncated (zlib \(code))")
        }
        return output
    }
}
