import Foundation
public import Hummingbird
import HTTPTypes
import SmollamaLLM
import SmollamaServer

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
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try mem0JSON(Body(detail: detail)))))
    }

    struct Body: Encodable { var detail: String }
}

extension Mem0Error {
    /// The mem0 routes' failure middleware: nothing but `Mem0Error` leaves them.
    static var failures: EnvelopeMiddleware<BasicRequestContext, Mem0Error> {
        EnvelopeMiddleware(surface: "mem0", internalError: "the hub could not answer this request; its log says why") {
            Mem0Error($0, $1)
        }
    }
}

/// A mem0 reply: the value as JSON (keys sorted, as mem0's clients and our snapshots expect nothing else).
struct Mem0Reply<Value: Encodable>: ResponseGenerator {
    var value: Value
    var status: HTTPResponse.Status = .ok

    init(_ value: Value, status: HTTPResponse.Status = .ok) {
        self.value = value
        self.status = status
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: try mem0JSON(value))))
    }
}

/// JSON as the mem0 API sends it.
func mem0JSON(_ value: some Encodable) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(value)
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
}
