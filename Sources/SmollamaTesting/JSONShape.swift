import Foundation

/// The shape of a JSON document: which keys an object has and what type each value is, with
/// the values themselves dropped. Contract tests compare shapes with committed snapshots, so a
/// refactor that renames a key or changes a type fails a test instead of a user's script.
///
/// Arrays have one element shape, merged over all elements: a key missing from some elements is
/// marked optional (`"key?"`), differing types are joined (`"number|null"`). Object keys that are
/// ids (32 hex digits) are replaced with `<hex32>`, so maps keyed by node ids stay stable.
public struct JSONShape: Decodable, Equatable, Sendable {
    /// Scalar types seen here: "string", "number", "bool", "null".
    var scalars: Set<String> = []
    /// Present when an object was seen: key → (shape, optional).
    var object: [String: Field]?
    /// Present when an array was seen.
    var array: Element?

    struct Field: Equatable, Sendable {
        var shape: JSONShape
        var optional: Bool
    }

    /// An array's element shape; `empty` while every array seen was empty.
    indirect enum Element: Equatable, Sendable {
        case empty
        case of(JSONShape)

        init(shape: JSONShape?) { self = shape.map(Element.of) ?? .empty }

        var shape: JSONShape? {
            if case .of(let shape) = self { return shape }
            return nil
        }
    }

    init() {}

    /// Parses `text` as JSON; throws when it is not JSON.
    public init(json text: String) throws {
        self = try JSONDecoder().decode(JSONShape.self, from: Data(text.utf8))
    }

    /// The merged shape of several documents (JSON lines, say), as if they were one array's elements.
    public init(merging lines: [String]) throws {
        var merged: JSONShape?
        for line in lines where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let shape = try JSONShape(json: line)
            merged = merged.map { $0.merged(with: shape) } ?? shape
        }
        self.init()
        array = Element(shape: merged)
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: Key.self) {
            var fields: [String: Field] = [:]
            for key in keyed.allKeys {
                let shape = try keyed.decode(JSONShape.self, forKey: key)
                let name = Self.normalised(key.stringValue)
                fields[name] = Field(shape: fields[name].map { $0.shape.merged(with: shape) } ?? shape, optional: false)
            }
            object = fields
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var element: JSONShape?
            while !unkeyed.isAtEnd {
                let next = try unkeyed.decode(JSONShape.self)
                element = element.map { $0.merged(with: next) } ?? next
            }
            array = Element(shape: element)
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            scalars = ["null"]
        } else if (try? single.decode(Bool.self)) != nil {
            scalars = ["bool"]
        } else if (try? single.decode(Double.self)) != nil {
            scalars = ["number"]
        } else {
            _ = try single.decode(String.self)
            scalars = ["string"]
        }
    }

    static func normalised(_ key: String) -> String {
        key.count == 32 && key.allSatisfy(\.isHexDigit) ? "<hex32>" : key
    }

    func merged(with other: JSONShape) -> JSONShape {
        var result = JSONShape()
        result.scalars = scalars.union(other.scalars)
        switch (object, other.object) {
        case (nil, nil): break
        case (let one?, nil), (nil, let one?): result.object = one
        case (let one?, let two?):
            var fields: [String: Field] = [:]
            for key in Set(one.keys).union(two.keys) {
                switch (one[key], two[key]) {
                case (let a?, let b?): fields[key] = Field(shape: a.shape.merged(with: b.shape), optional: a.optional || b.optional)
                case (let a?, nil), (nil, let a?): fields[key] = Field(shape: a.shape, optional: true)
                case (nil, nil): break
                }
            }
            result.object = fields
        }
        switch (array, other.array) {
        case (nil, nil): break
        case (let one?, nil), (nil, let one?): result.array = one
        case (let one?, let two?):
            switch (one.shape, two.shape) {
            case (let a?, let b?): result.array = Element(shape: a.merged(with: b))
            default: result.array = Element(shape: one.shape ?? two.shape)
            }
        }
        return result
    }

    /// Pretty, sorted, stable text: what the snapshot files hold.
    public var rendered: String { render(indent: "") + "\n" }

    func render(indent: String) -> String {
        var kinds: [String] = scalars.sorted().map { "\"\($0)\"" }
        let inner = indent + "  "
        if let object {
            if object.isEmpty {
                kinds.append("{}")
            } else {
                let lines = object.sorted { $0.key < $1.key }.map { key, field -> String in
                    let name = field.optional ? key + "?" : key
                    return inner + "\"" + name + "\": " + field.shape.render(indent: inner)
                }
                kinds.append("{\n" + lines.joined(separator: ",\n") + "\n" + indent + "}")
            }
        }
        if let array {
            kinds.append(array.shape.map { "[\n" + inner + $0.render(indent: inner) + "\n" + indent + "]" } ?? "[]")
        }
        if kinds.count == 1 { return kinds[0] }
        return "{\n" + inner + "\"oneOf\": [\n" + kinds.map { inner + "  " + $0 }.joined(separator: ",\n") + "\n" + inner + "]\n" + indent + "}"
    }
}

/// Compares shapes with the snapshot files in one directory. `SMOLLAMA_RECORD_CONTRACTS=1`
/// (re)writes the files instead; review the diff before committing it.
public struct ContractSnapshots: Sendable {
    public let directory: String
    public let recording: Bool

    /// `recording` defaults to `SMOLLAMA_RECORD_CONTRACTS=1`.
    public init(directory: String, recording: Bool? = nil) {
        self.directory = directory
        self.recording = recording ?? (ProcessInfo.processInfo.environment["SMOLLAMA_RECORD_CONTRACTS"] == "1")
    }

    /// Nil when `shape` matches the snapshot `name`, else a sentence saying what differs.
    public func mismatch(_ name: String, _ shape: JSONShape) throws -> String? {
        let path = directory + "/" + name + ".json"
        if recording {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try shape.rendered.write(toFile: path, atomically: true, encoding: .utf8)
            return nil
        }
        guard let committed = try? String(contentsOfFile: path, encoding: .utf8) else {
            return "\(path) is missing: run the test with SMOLLAMA_RECORD_CONTRACTS=1 and commit the file"
        }
        guard committed != shape.rendered else { return nil }
        return "the shape of \(name) changed (a --json or HTTP contract; if intended, re-record with "
            + "SMOLLAMA_RECORD_CONTRACTS=1 and commit):\n--- committed\n\(committed)--- now\n\(shape.rendered)"
    }
}
