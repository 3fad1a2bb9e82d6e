import Foundation
public import SmollamaLLM

// The mem0 API's request bodies, decoded once at the route into typed values. Each refuses
// unknown fields and wrong types with a `Mem0Error` naming the field and what to send; mem0's
// free-form parts stay JSON: `metadata` (any keys) and `filters` (parsed into `Mem0Filter`).

/// `POST /memories`, `POST /v3/memories/add`.
public struct Mem0AddRequest: Decodable, Sendable, Hashable {
    public var messages: [ExtractionMessage]
    public var scope: Mem0Scope
    /// Validated keys (`SharedMemory.metadataChanges`); field keys (`kind`, …) set record fields.
    public var metadata: [String: JSONValue]?
    /// Extract facts with the LLM (mem0's default) rather than store the messages as given.
    public var infer: Bool

    public init(messages: [ExtractionMessage], scope: Mem0Scope, metadata: [String: JSONValue]? = nil,
                infer: Bool = true) {
        self.messages = messages
        self.scope = scope
        self.metadata = metadata
        self.infer = infer
    }

    /// mem0's other fields are accepted and have no effect here.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case messages, userID = "user_id", agentID = "agent_id", runID = "run_id", metadata, infer
        case memoryType = "memory_type", prompt, version, outputFormat = "output_format", asyncMode = "async_mode"
    }

    public init(from decoder: any Decoder) throws {
        let fields = try decoder.mem0Fields(CodingKeys.self)
        guard fields.contains(.messages) else {
            throw Mem0Error.badRequest("messages is required: [{\"role\": \"user\", \"content\": \"…\"}]")
        }
        messages = try fields.decode(Mem0Messages.self, forKey: .messages).items
        scope = try Mem0Scope(from: decoder)
        guard !scope.isEmpty else {
            throw Mem0Error.badRequest("At least one identifier (user_id, agent_id, run_id) is required.")
        }
        if scope.userID == "*" || scope.agentID == "*" || scope.runID == "*" {
            throw Mem0Error.badRequest("\"*\" matches any id in filters; a memory needs real ids")
        }
        infer = try fields.mem0(Bool.self, .infer, else: "infer must be true or false") ?? true
        metadata = try fields.mem0(JSONValue.self, .metadata, else: "metadata must be an object")
            .map { try SharedMemory.metadataChanges($0) }
    }
}

/// `PUT /memories/{id}`: new text (`text`, or mem0's `data` / `memory`), new metadata, or both.
public struct Mem0UpdateRequest: Decodable, Sendable, Hashable {
    public var text: String?
    public var metadata: [String: JSONValue]?

    public init(text: String? = nil, metadata: [String: JSONValue]? = nil) {
        self.text = text
        self.metadata = metadata
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case text, data, memory, metadata }

    public init(from decoder: any Decoder) throws {
        let fields = try decoder.mem0Fields(CodingKeys.self)
        for key in [CodingKeys.text, .data, .memory] {
            guard let given = try fields.mem0(String.self, key, else: "\(key.rawValue) must be a string") else { continue }
            text = try SharedMemory.content(given, name: key.rawValue)
        }
        metadata = try fields.mem0(JSONValue.self, .metadata, else: "metadata must be an object")
            .map { try SharedMemory.metadataChanges($0) }
        guard text != nil || metadata != nil else {
            throw Mem0Error.badRequest("give the new text (\"text\": \"…\") or metadata to change")
        }
    }
}

/// `POST /search`, `POST /v3/memories/search`.
public struct Mem0SearchRequest: Decodable, Sendable, Hashable {
    public var query: String
    public var scope: Mem0Scope
    public var filters: Mem0Filter
    public var topK: Int
    /// Hits scoring below this are left out (0…1).
    public var threshold: Double

    public init(query: String, scope: Mem0Scope = Mem0Scope(), filters: Mem0Filter = .matchAll, topK: Int = 20,
                threshold: Double = 0) {
        self.query = query
        self.scope = scope
        self.filters = filters
        self.topK = topK
        self.threshold = threshold
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case query, userID = "user_id", agentID = "agent_id", runID = "run_id", filters, topK = "top_k", limit
        case threshold, rerank, keywordSearch = "keyword_search", fields, version
    }

    public init(from decoder: any Decoder) throws {
        let fields = try decoder.mem0Fields(CodingKeys.self)
        let message = "query must be a non-empty string"
        guard let query = try fields.mem0(String.self, .query, else: message),
              !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else { throw Mem0Error.badRequest(message) }
        self.query = query
        scope = try Mem0Scope(from: decoder)
        filters = try fields.mem0(Mem0Filter.self, .filters, else: "filters must be an object") ?? .matchAll
        let range = "top_k must be a whole number from 1 to 1000"
        topK = try fields.mem0(Int.self, .topK, else: range) ?? fields.mem0(Int.self, .limit, else: range) ?? 20
        guard (1...1000).contains(topK) else { throw Mem0Error.badRequest(range) }
        let share = "threshold must be a number from 0.0 to 1.0"
        threshold = try fields.mem0(Double.self, .threshold, else: share) ?? 0
        guard (0...1).contains(threshold) else { throw Mem0Error.badRequest(share) }
    }
}

/// `POST /v3/memories` (the Python client's listing): the scope ids inside `filters`.
public struct Mem0ListRequest: Decodable, Sendable, Hashable {
    public var scope: Mem0Scope
    public var filters: Mem0Filter
    public var limit: Int
    /// From 1 (`page`, with `page_size` or `top_k` the page's size), as mem0's paginated `get_all`.
    public var page: Int
    public var showExpired: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case filters, topK = "top_k", page, pageSize = "page_size", showExpired = "show_expired", fields, version
    }

    /// Largest `page`: pages beyond the scan limit hold nothing anyway.
    static let maxPage = 100_000
    static let pageRule = "page must be a whole number from 1 to \(maxPage)"

    public init(from decoder: any Decoder) throws {
        let fields = try decoder.mem0Fields(CodingKeys.self)
        let scoped = try fields.mem0(ScopedFilters.self, .filters, else: "filters must be an object")
        scope = scoped?.scope ?? Mem0Scope()
        filters = scoped?.rest ?? .matchAll
        let range = "top_k must be a whole number from 1 to 10000"
        limit = try fields.mem0(Int.self, .topK, else: range) ?? fields.mem0(Int.self, .pageSize, else: range) ?? 100
        guard (1...10_000).contains(limit) else { throw Mem0Error.badRequest(range) }
        page = try fields.mem0(Int.self, .page, else: Self.pageRule) ?? 1
        guard (1...Self.maxPage).contains(page) else { throw Mem0Error.badRequest(Self.pageRule) }
        showExpired = try fields.mem0(Bool.self, .showExpired, else: "show_expired must be true or false") ?? false
    }

    /// `{"user_id": "alice", "kind": "fact"}`: the ids are the scope, the rest a filter.
    struct ScopedFilters: Decodable {
        var scope: Mem0Scope
        var rest: Mem0Filter

        init(from decoder: any Decoder) throws {
            guard let all = try? decoder.container(keyedBy: Mem0AnyKey.self) else {
                throw Mem0Error.badRequest("filters must be an object")
            }
            scope = try Mem0Scope(from: decoder)
            var rest: [String: JSONValue] = [:]
            for key in all.allKeys where Mem0Scope.CodingKeys(rawValue: key.stringValue) == nil {
                rest[key.stringValue] = try all.decode(JSONValue.self, forKey: key)
            }
            self.rest = rest.isEmpty ? .matchAll : try Mem0Filter.parse(.object(rest))
        }
    }
}

extension Mem0Scope: Decodable {
    enum CodingKeys: String, CodingKey, CaseIterable { case userID = "user_id", agentID = "agent_id", runID = "run_id" }

    /// The ids among a body's (or a filter's) fields; other fields are left to the caller.
    public init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        func field(_ key: CodingKeys) throws -> String? {
            try Self.id(try fields.mem0(String.self, key, else: Self.idRule(key.rawValue)), key: key.rawValue)
        }
        self.init(userID: try field(.userID), agentID: try field(.agentID), runID: try field(.runID))
    }

    /// The scope of a query string (`GET /memories?user_id=…`).
    static func query(_ value: (String) -> String?) throws(Mem0Error) -> Mem0Scope {
        Mem0Scope(userID: try id(value("user_id"), key: "user_id"), agentID: try id(value("agent_id"), key: "agent_id"),
                  runID: try id(value("run_id"), key: "run_id"))
    }

    static func idRule(_ key: String) -> String { "\(key) must be a non-empty string of at most 200 characters" }

    static func id(_ text: String?, key: String) throws(Mem0Error) -> String? {
        guard let text else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= 200 else { throw .badRequest(idRule(key)) }
        return trimmed
    }
}

extension Mem0Filter: Decodable {
    /// A filter object in a body (`filters`, named by its path in errors) or a query string.
    public init(from decoder: any Decoder) throws {
        let path = decoder.codingPath.isEmpty ? "filters" : Mem0Body.path(decoder.codingPath)
        self = try Self.parse(try JSONValue(from: decoder), path: path)
    }
}

/// mem0's `messages`: one string (a user message), one `{role, content}` object, or a list.
struct Mem0Messages: Decodable {
    var items: [ExtractionMessage]

    init(from decoder: any Decoder) throws {
        let given: [Message]
        if let text = try? decoder.singleValueContainer().decode(String.self) {
            given = [Message(role: "user", content: text)]
        } else if var list = try? decoder.unkeyedContainer() {
            var messages: [Message] = []
            while !list.isAtEnd && messages.count <= 200 { messages.append(try list.decode(Message.self)) }
            given = messages
        } else if (try? decoder.container(keyedBy: Mem0AnyKey.self)) != nil {
            given = [try Message(from: decoder)]
        } else {
            throw Mem0Error.badRequest("messages must be a string or an array of {role, content} objects")
        }
        guard !given.isEmpty else { throw Mem0Error.badRequest("messages must not be empty") }
        guard given.count <= 200 else { throw Mem0Error.badRequest("messages holds more than 200 messages") }
        items = try given.enumerated().map { index, message in
            guard let role = message.role, ["user", "assistant", "system"].contains(role) else {
                throw Mem0Error.badRequest("messages[\(index)].role must be \"user\", \"assistant\" or \"system\"")
            }
            guard let content = message.content else {
                throw Mem0Error.badRequest("messages[\(index)].content must be a string")
            }
            return ExtractionMessage(role: role, content: try SharedMemory.content(content, name: "messages[\(index)].content"),
                                     name: message.name)
        }
    }

    /// One message as sent: a field of the wrong type reads as missing, so the check above names it.
    struct Message: Decodable {
        var role: String?
        var content: String?
        var name: String?

        init(role: String, content: String) {
            self.role = role
            self.content = content
        }

        enum CodingKeys: String, CodingKey { case role, content, name }

        init(from decoder: any Decoder) throws {
            guard let fields = try? decoder.container(keyedBy: CodingKeys.self) else { return }
            role = (try? fields.decodeIfPresent(String.self, forKey: .role)) ?? nil
            content = (try? fields.decodeIfPresent(String.self, forKey: .content)) ?? nil
            name = (try? fields.decodeIfPresent(String.self, forKey: .name)) ?? nil
        }
    }
}

// MARK: - Decoding

/// Any key, to see every field a body sent.
struct Mem0AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// The body's fields, after refusing a body that is not an object or has a field `Key` does not name.
    func mem0Fields<Key: CodingKey & CaseIterable>(_: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard let all = try? container(keyedBy: Mem0AnyKey.self) else {
            throw Mem0Error.badRequest("the body must be a JSON object")
        }
        let allowed = Key.allCases.map(\.stringValue)
        if let unknown = all.allKeys.map(\.stringValue).sorted().first(where: { !allowed.contains($0) }) {
            throw Mem0Error.badRequest("unknown field '\(unknown)'; expected \(allowed.sorted().joined(separator: ", "))")
        }
        return try container(keyedBy: Key.self)
    }
}

extension KeyedDecodingContainer {
    /// The field's value; nil when absent or null; `rule` (what to send) when of another type.
    func mem0<T: Decodable>(_ type: T.Type, _ key: Key, else rule: @autoclosure () -> String) throws -> T? {
        guard contains(key), !((try? decodeNil(forKey: key)) ?? false) else { return nil }
        do {
            return try decode(type, forKey: key)
        } catch let error as Mem0Error {
            throw error
        } catch {
            throw Mem0Error.badRequest(rule())
        }
    }
}

enum Mem0Body {
    /// Decodes a request body; every failure is a 400 saying which field is wrong and what to send.
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(Mem0Error) -> T {
        guard !data.isEmpty else { throw .badRequest("a JSON body is required") }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as Mem0Error {
            throw error
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw .badRequest("the body is not valid JSON (UTF-8)")
        } catch let DecodingError.typeMismatch(type, context) {
            throw .badRequest("\(path(context.codingPath)) must be \(type) (\(context.debugDescription))")
        } catch let DecodingError.valueNotFound(type, context) {
            throw .badRequest("\(path(context.codingPath)) must be \(type), not null")
        } catch let DecodingError.keyNotFound(key, context) {
            throw .badRequest("\(path(context.codingPath + [key])) is required")
        } catch {
            throw .badRequest("the body could not be read (\(error)); send a JSON object")
        }
    }

    /// A coding path as the field's name: `filters.AND[0]`.
    static func path(_ keys: [any CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
        }
        return text.isEmpty ? "the body" : text
    }
}
