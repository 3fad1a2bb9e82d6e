import Foundation
import Testing
@testable import SmollamaCore

/// `.snakeCaseWords` writes what `.convertToSnakeCase` writes, except for plural acronyms.
@Suite struct SnakeCaseKeyTests {
    /// Encodes one member per key, so the encoder's key strategy names each.
    struct Keys: Encodable {
        var names: [String]
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: SnakeCaseKey.self)
            for name in names { try container.encode(0, forKey: SnakeCaseKey(stringValue: name)) }
        }
    }

    @Test func acronymsStayOneWord() {
        let expected = [
            "evidenceIDs": "evidence_ids", "citedIDs": "cited_ids", "IDs": "ids", "knownURLsCount": "known_urls_count",
            "nodeID": "node_id", "ID": "id", "URLString": "url_string", "HTTPStatus": "http_status", "ID2": "id2",
            "memoryIDList": "memory_id_list", "isOK": "is_ok",
        ]
        for (key, snake) in expected { #expect(SnakeCaseKey.convert(key) == snake, "\(key)") }
    }

    /// Keys without an acronym (no two capitals in a row) come out as `.convertToSnakeCase` writes them.
    @Test func everythingElseIsWhatConvertToSnakeCaseWrites() throws {
        let names = ["id", "timeStart", "ageSeconds", "p50Milliseconds", "cpuMilliseconds", "sha256Hex", "time_start",
                     "_private", "a", "aB", "co2Level", "validTo", "x", "already_snake_case", "resolutionMilliseconds",
                     "firstOrigin", "onCount", "Capitalized"]
        for name in names {
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            let foundation = try JSONSerialization.jsonObject(with: try encoder.encode(Keys(names: [name]))) as? [String: Int]
            encoder.keyEncodingStrategy = .snakeCaseWords
            let ours = try JSONSerialization.jsonObject(with: try encoder.encode(Keys(names: [name]))) as? [String: Int]
            #expect(ours?.keys.first != nil)
            #expect(ours?.keys.first == foundation?.keys.first, "\(name)")
        }
    }
}
