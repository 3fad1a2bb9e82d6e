import CZlib
import Foundation
public import SmollamaCore

/// The backup file: a POSIX ustar archive compressed with gzip (zlib's gz* functions), so
/// `tar -tzf FILE` lists it and `tar -xzf FILE` unpacks it by hand. Its members, in order:
///
/// - `config.yaml`, `data/identity.json`, `data/node.key`, `data/hub.json` (when enrolled):
///   the node's files as they are;
/// - `data/smollama.sqlite`: the store, copied by SQLite's online backup API;
/// - `smollama-backup.json` last (`BackupManifest`): the format, the node, and each member's
///   size and SHA-256. A file that ends before it is truncated.
///
/// Only regular files with relative names under the archive's root are written or accepted.
struct BackupArchiveWriter {
    private let file: gzFile
    let path: String

    init(path: String) throws {
        self.path = path
        guard let file = gzopen(path, "wb6") else { throw BackupError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        self.file = file
    }

    /// Adds the file at `source` as `name`; returns its size and SHA-256. `progress` gets bytes written.
    func add(name: String, from source: String, progress: (Int64) -> Void = { _ in }) throws -> BackupManifest.Member {
        guard let handle = FileHandle(forReadingAtPath: source) else { throw BackupError.cannotRead(path: source) }
        defer { try? handle.close() }
        let size = Int64((try? FileManager.default.attributesOfItem(atPath: source)[.size] as? NSNumber)?.int64Value ?? 0)
        try write(Self.header(name: name, size: size))
        var digest = ContentDigest()
        var written: Int64 = 0
        while written < size {
            let chunk = [UInt8](handle.readData(ofLength: Int(min(1 << 20, size - written))))
            guard !chunk.isEmpty else { throw BackupError.cannotRead(path: source) }
            digest.update(chunk)
            try write(chunk)
            written += Int64(chunk.count)
            progress(written)
        }
        try write(Self.padding(size))
        return BackupManifest.Member(name: name, size: size, sha256: digest.hex())
    }

    /// Adds `bytes` as `name`.
    func add(name: String, bytes: [UInt8]) throws {
        try write(Self.header(name: name, size: Int64(bytes.count)))
        try write(bytes)
        try write(Self.padding(Int64(bytes.count)))
    }

    /// Writes the end-of-archive blocks and closes; the file is complete only after this.
    func finish() throws {
        try write([UInt8](repeating: 0, count: 1024))
        guard gzclose(file) == Z_OK else { throw BackupError.cannotWrite(path: path, reason: "closing the compressed stream failed") }
    }

    /// Closes without finishing (after a failure; the caller removes the file).
    func abandon() { gzclose(file) }

    private func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        let count = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
        guard count == bytes.count else { throw BackupError.cannotWrite(path: path, reason: "disk full or not writable") }
    }

    static func padding(_ size: Int64) -> [UInt8] {
        [UInt8](repeating: 0, count: Int((512 - size % 512) % 512))
    }

    /// A ustar header: name, mode 0600, size and mtime in octal, checksum.
    static func header(name: String, size: Int64) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int64, width: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
        }
        put(name, at: 0, width: 100)
        put(octal(0o600, width: 8), at: 100, width: 7)
        put(octal(0, width: 8), at: 108, width: 7)
        put(octal(0, width: 8), at: 116, width: 7)
        put(octal(size, width: 12), at: 124, width: 11)
        put(octal(Int64(Date().timeIntervalSince1970), width: 12), at: 136, width: 11)
        put("        ", at: 148, width: 8)
        block[156] = UInt8(ascii: "0")
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        let sum = block.reduce(0) { $0 + Int64($1) }
        put(octal(sum, width: 7), at: 148, width: 6)
        block[155] = UInt8(ascii: " ")
        return block
    }
}

/// Reads a backup archive member by member (`BackupArchiveWriter` describes the format).
struct BackupArchiveReader {
    private let file: gzFile
    let path: String

    init(path: String) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BackupError.archive(path: path, problem: "no such file, or not readable") }
        let magic = [UInt8](handle.readData(ofLength: 2))
        try? handle.close()
        // gzread passes plain files through: only gzip (1f 8b) is a backup.
        guard magic == [0x1F, 0x8B] else {
            throw BackupError.archive(path: path, problem: "it is not gzip-compressed, so this is not a smollama backup")
        }
        guard let file = gzopen(path, "rb") else { throw BackupError.cannotRead(path: path) }
        self.file = file
    }

    func close() { gzclose(file) }

    /// The next member's name and size, or nil at the end-of-archive block.
    func next() throws -> (name: String, size: Int64)? {
        let block = try read(512, what: "a member header")
        if block.allSatisfy({ $0 == 0 }) { return nil }
        guard block[257..<262].elementsEqual("ustar".utf8) else {
            throw BackupError.archive(path: path, problem: "a member header is not a tar header; this is not a smollama backup")
        }
        let stored = Self.octal(block[148..<156])
        var summed = block
        for index in 148..<156 { summed[index] = UInt8(ascii: " ") }
        guard let stored, stored == summed.reduce(0, { $0 + Int64($1) }) else {
            throw BackupError.archive(path: path, problem: "a member header's checksum is wrong (the file is damaged)")
        }
        let name = String(decoding: block[0..<100].prefix { $0 != 0 }, as: UTF8.self)
        guard block[156] == UInt8(ascii: "0") || block[156] == 0 else {
            throw BackupError.archive(path: path, problem: "member '\(name)' is not a regular file")
        }
        guard let size = Self.octal(block[124..<136]), size >= 0 else {
            throw BackupError.archive(path: path, problem: "member '\(name)' has an unreadable size")
        }
        return (name, size)
    }

    /// Copies the current member (`size` bytes) to `destination`; returns its SHA-256.
    func extract(size: Int64, name: String, to destination: String) throws -> String {
        guard FileManager.default.createFile(atPath: destination, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: destination)
        else { throw BackupError.cannotWrite(path: destination, reason: "cannot create the file") }
        defer { try? handle.close() }
        var digest = ContentDigest()
        var remaining = size
        while remaining > 0 {
            let chunk = try read(Int(min(1 << 20, remaining)), what: "member '\(name)'")
            digest.update(chunk)
            handle.write(Data(chunk))
            remaining -= Int64(chunk.count)
        }
        _ = try read(BackupArchiveWriter.padding(size).count, what: "member '\(name)'")
        return digest.hex()
    }

    /// Reads the current member into memory (the manifest; at most `limit` bytes).
    func bytes(size: Int64, name: String, limit: Int64 = 1 << 20) throws -> [UInt8] {
        guard size <= limit else { throw BackupError.archive(path: path, problem: "member '\(name)' is \(size) bytes; at most \(limit)") }
        let bytes = try read(Int(size), what: "member '\(name)'")
        _ = try read(BackupArchiveWriter.padding(size).count, what: "member '\(name)'")
        return bytes
    }

    private func read(_ count: Int, what: String) throws -> [UInt8] {
        guard count > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: count)
        let got = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32(count)) }
        if got < 0 {
            var code: Int32 = 0
            let message = gzerror(file, &code).map { String(cString: $0) } ?? "zlib error \(code)"
            throw BackupError.archive(path: path, problem: "the compressed data is damaged at \(what) (\(message))")
        }
        guard got == count else {
            throw BackupError.archive(path: path, problem: "the file is truncated: it ends inside \(what)")
        }
        return buffer
    }

    /// Reads to the end of the compressed stream, so a cut or damaged gzip trailer is noticed.
    func finishCheck() throws {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = buffer.withUnsafeMutableBytes { gzread(file, $0.baseAddress, 4096) }
            var code: Int32 = 0
            let message = gzerror(file, &code).map { String(cString: $0) } ?? "zlib error \(code)"
            // zlib reports a cut trailer as an error after returning the last bytes.
            if got < 0 || code != Z_OK {
                throw BackupError.archive(path: path, problem: "the file is truncated or damaged at its end (\(message))")
            }
            if got == 0 { return }
        }
    }

    static func octal(_ field: ArraySlice<UInt8>) -> Int64? {
        let text = String(decoding: field.prefix { $0 != 0 && $0 != UInt8(ascii: " ") }, as: UTF8.self)
        return text.isEmpty ? 0 : Int64(text, radix: 8)
    }
}

/// `smollama-backup.json`, the archive's last member.
public struct BackupManifest: Codable, Sendable, Hashable {
    public struct Member: Codable, Sendable, Hashable {
        public var name: String
        public var size: Int64
        public var sha256: String
    }

    public static let fileName = "smollama-backup.json"
    public static let currentFormat = 1

    public var format: Int
    public var nodeID: NodeID
    public var name: String
    public var role: String
    public var createdAt: Int64
    public var members: [Member]

    enum CodingKeys: String, CodingKey {
        case format, name, role, members
        case nodeID = "node_id"
        case createdAt = "created_at"
    }
}
