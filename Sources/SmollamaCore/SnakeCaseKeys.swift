public import Foundation

extension JSONEncoder.KeyEncodingStrategy {
    /// snake_case keys as `.convertToSnakeCase` writes them, except that an acronym stays one
    /// word: `evidenceIDs` → `evidence_ids`, `nodeID` → `node_id`, `URLString` → `url_string`
    /// (swift-foundation's `.convertToSnakeCase` writes `evidence_i_ds`, `node_i_d`,
    /// `u_rl_string`). The one key style of every snake_case output: `--json`, tool results, MCP.
    public static var snakeCaseWords: JSONEncoder.KeyEncodingStrategy {
        .custom { path in SnakeCaseKey(stringValue: SnakeCaseKey.convert(path.last?.stringValue ?? "")) }
    }
}

struct SnakeCaseKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }

    /// Words are runs of lowercase letters and digits, a capital with the lowercase after it, or
    /// an acronym (a run of capitals: its last capital starts the next word when lowercase
    /// follows, unless that is a lone plural `s`).
    static func convert(_ key: String) -> String {
        let characters = Array(key)
        var words: [String] = []
        var index = 0
        func lowerRun(from start: Int) -> Int {
            var end = start
            while end < characters.count, !characters[end].isUppercase { end += 1 }
            return end
        }
        while index < characters.count {
            guard characters[index].isUppercase else {
                let end = lowerRun(from: index)
                words.append(String(characters[index..<end]))
                index = end
                continue
            }
            var capitals = index
            while capitals < characters.count, characters[capitals].isUppercase { capitals += 1 }
            let run = capitals - index
            if capitals == characters.count || !characters[capitals].isLowercase {
                var end = capitals
                while end < characters.count, characters[end].isNumber { end += 1 }
                words.append(String(characters[index..<end]))  // "ID" at the end or before a capital, "ID2"
                index = end
            } else if run > 1, characters[capitals] == "s",
                capitals + 1 == characters.count || !characters[capitals + 1].isLowercase
            {
                words.append(String(characters[index...capitals]))  // "IDs", "URLs"
                index = capitals + 1
            } else if run > 1 {
                words.append(String(characters[index..<(capitals - 1)]))  // "URL" of "URLString"
                index = capitals - 1
            } else {
                let end = lowerRun(from: capitals)
                words.append(String(characters[index..<end]))  // "Start"
                index = end
            }
        }
        return words.map { $0.lowercased() }.joined(separator: "_")
    }
}
