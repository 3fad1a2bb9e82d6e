import Foundation
import SmollamaLLM
import SmollamaCore

/// What a client may write into a memory: metadata (free-form keys, and the keys that set the
/// record's fields), texts and times, checked with sentences that say what to send.
extension SharedMemory {
    static func metadataChanges(_ value: JSONValue) throws(Mem0Error) -> [String: JSONValue] {
        guard let object = value.objectValue else {
            throw .badRequest("metadata must be an object, not \(value.typeName)")
        }
        guard object.count <= 64 else { throw .badRequest("metadata holds more than 64 keys") }
        for (key, item) in object {
            guard !key.isEmpty, key.count <= 100, !key.hasPrefix("mem0.") else {
                throw .badRequest("metadata key '\(key.prefix(100))' is empty, too long or reserved (mem0.*)")
            }
            guard outputOnlyKeys.contains(key) == false else {
                throw .badRequest("metadata.\(key) is set by the hub and cannot be written")
            }
            guard item.jsonString.utf8.count <= 4096 else { throw .badRequest("metadata.\(key) is longer than 4 KB") }
        }
        return object
    }

    /// Applies metadata to a record: field keys set fields, the rest is kept as metadata.
    static func apply(_ changes: [String: JSONValue], to record: inout MemoryRecord, allowScope: Bool) throws(Mem0Error) {
        var jsonKeys = Set((record.metadata[jsonKeysKey] ?? "").split(separator: ",").map(String.init))
        for key in changes.keys.sorted() {
            let value = changes[key] ?? .null
            switch key {
            case "kind":
                guard let kind = value.stringValue, !kind.isEmpty, kind.count <= 40 else {
                    throw .badRequest("metadata.kind must be a short string such as \"fact\" or \"routine\"")
                }
                record.kind = kind
            case "subjects":
                if let one = value.stringValue {
                    record.subjects = [one]
                } else if let list = value.arrayValue, list.allSatisfy({ $0.stringValue != nil }) {
                    record.subjects = list.compactMap(\.stringValue)
                } else {
                    throw .badRequest("metadata.subjects must be a string or an array of strings")
                }
            case "confidence", "importance":
                guard let number = value.doubleValue, (0...1).contains(number) else {
                    throw .badRequest("metadata.\(key) must be a number from 0 to 1")
                }
                if key == "confidence" {
                    record.confidence = number
                    record.metadata["mem0.confidence_given"] = "1"
                } else {
                    record.importance = number
                }
            case "valid_from", "valid_to":
                guard let time = time(value) else {
                    throw .badRequest("metadata.\(key) must be an ISO 8601 time (2026-05-01T07:00:00Z) or epoch milliseconds")
                }
                if key == "valid_from" { record.validFrom = time } else { record.validTo = time }
            case _ where scopeKeys.contains(key):
                guard allowScope else { continue }  // immutable after creation, as in mem0
                guard let text = value.stringValue else { throw .badRequest("metadata.\(key) must be a string") }
                record.metadata[key] = text
            default:
                if value == .null {
                    record.metadata[key] = nil
                    jsonKeys.remove(key)
                } else if let text = value.stringValue {
                    record.metadata[key] = text
                    jsonKeys.remove(key)
                } else {
                    record.metadata[key] = value.jsonString
                    jsonKeys.insert(key)
                }
            }
        }
        record.metadata[jsonKeysKey] = jsonKeys.isEmpty ? nil : jsonKeys.sorted().joined(separator: ",")
    }

    static func content(_ text: String, name: String) throws(Mem0Error) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .badRequest("\(name) must not be empty") }
        guard trimmed.utf8.count <= 8192 else { throw .badRequest("\(name) is longer than 8 KB") }
        return trimmed
    }

    static func time(_ value: JSONValue) -> UTCMillis? {
        if let number = value.doubleValue, number.isFinite, abs(number) < 1e15 { return UTCMillis(rawValue: Int64(number)) }
        guard let text = value.stringValue else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return UTCMillis(date) }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return UTCMillis(date) }
        formatter.formatOptions = [.withFullDate]
        return formatter.date(from: text).map { UTCMillis($0) }
    }
}
