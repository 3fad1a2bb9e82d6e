import Foundation

/// Minimal CSV (RFC 4180 quoting within one line).
public enum CSV {
    /// The fields of one line, or nil when a quote is not closed.
    public static func fields(_ line: String) -> [String]? {
        guard line.contains("\"") else { return line.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        var fields: [String] = []
        var field = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            if quoted {
                if character == "\"" {
                    // A doubled quote is a quote; a single one ends the quoted part.
                    var lookahead = iterator
                    if lookahead.next() == "\"" {
                        field.append("\"")
                        iterator = lookahead
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                fields.append(field)
                field = ""
            } else {
                field.append(character)
            }
        }
        guard !quoted else { return nil }
        fields.append(field)
        return fields
    }
}

/// Reads a file line by line in constant memory (1 MiB chunks), counting lines from 1.
struct LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var finished = false
    private(set) var lineNumber = 0
    private(set) var bytesRead: Int64 = 0

    init(path: String) throws(ImportError) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadable(path) }
        self.handle = handle
    }

    func close() { try? handle.close() }

    /// The next line without its line ending (and without a UTF-8 byte-order mark on line 1).
    mutating func next() throws(ImportError) -> String? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 10) {
                var end = newline
                if end > start, buffer[end - 1] == 13 { end -= 1 }
                var lineStart = start
                if lineNumber == 0, end - lineStart >= 3, buffer[lineStart] == 0xEF, buffer[lineStart + 1] == 0xBB,
                   buffer[lineStart + 2] == 0xBF
                {
                    lineStart += 3
                }
                let line = String(decoding: buffer[lineStart..<end], as: UTF8.self)
                start = newline + 1
                lineNumber += 1
                return line
            }
            if finished {
                guard start < buffer.count else { return nil }
                let line = String(decoding: buffer[start...], as: UTF8.self)
                start = buffer.count
                lineNumber += 1
                return line
            }
            buffer.removeFirst(start)
            start = 0
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch { throw .unreadable(handle.description) }
            guard let chunk, !chunk.isEmpty else {
                finished = true
                continue
            }
            bytesRead += Int64(chunk.count)
            buffer.append(contentsOf: chunk)
        }
    }
}
