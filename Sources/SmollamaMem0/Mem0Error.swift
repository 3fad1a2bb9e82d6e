import Foundation
public import Hummingbird
import HTTPTypes
import SmollamaLLM

/// An error answered over the mem0 API: a status and a sentence, as `{"detail": "…"}` like
/// mem0's own (FastAPI) server. Never carries an internal detail.
public struct Mem0Error: HTTPResponseError, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var detail: String

    public init(_ status: HTTPResponse.Status, _ detail: String) {
        self.status = status
        self.detail = detail
    }

    public static func badRequest(_ detail: String) -> Mem0Error { Mem0Error(.badRequest, detail) }
    public static func notFound(_ id: String) -> Mem0Error { Mem0Error(.notFound, "Memory with id \(id) not found") }
    public static let unauthorized = Mem0Error(
        .unauthorized,
        "missing or wrong API key: send X-API-Key: KEY or Authorization: Token KEY, with the key set in the hub's "
            + "config as mem0.api_key")

    public var description: String { "\(status.code) \(detail)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Token realm=\"smollama-mem0\"" }
        let body = JSONValue.object(["detail": .string(detail)]).jsonString
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// A JSON reply built from a `JSONValue` (mem0's shapes carry free-form metadata).
struct Mem0JSON: ResponseGenerator {
    var value: JSONValue
    var status: HTTPResponse.Status = .ok

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: value.jsonString)))
    }
}

extension JSONValue {
    /// A short name of the JSON type, for error messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}
