import Foundation
public import Hummingbird
import HTTPTypes
import Logging

/// The dashboard's and JSON API's one error envelope, `{"error": {"status", "message"}}`: a
/// status and a sentence, never an internal detail. Handlers throw it;
/// `DashboardError.failures` turns anything else into it.
public struct DashboardError: HTTPResponseError, Equatable {
    public var status: HTTPResponse.Status
    public var message: String

    public static func notFound(_ what: String) -> DashboardError { .init(status: .notFound, message: what) }
    public static func badRequest(_ what: String) -> DashboardError { .init(status: .badRequest, message: what) }
    public static let unauthorized = DashboardError(
        status: .unauthorized, message: "this dashboard needs the token set in http.token (Authorization: Bearer …)")

    struct Body: Encodable {
        struct Detail: Encodable {
            var status: Int
            var message: String
        }
        var error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try JSONEncoder().encode(Body(error: .init(status: status.code, message: message)))
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"smollama\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension DashboardError {
    /// The dashboard's failure middleware: nothing but `DashboardError` leaves its routes.
    static var failures: EnvelopeMiddleware<BasicRequestContext, DashboardError> {
        EnvelopeMiddleware(surface: "dashboard", internalError: "the node could not answer this request; its log says why") {
            DashboardError(status: $0, message: $1)
        }
    }
}

/// Every failure of a surface's routes as the surface's one error envelope: the envelope as
/// thrown; Hummingbird's own `HTTPError` with its status and sentence; anything else logged and
/// answered as a 500 saying `internalError`, never the error's detail.
public struct EnvelopeMiddleware<Context: RequestContext, Envelope: HTTPResponseError>: RouterMiddleware {
    let surface: String
    let internalError: String
    let make: @Sendable (HTTPResponse.Status, String) -> Envelope

    /// - Parameters:
    ///   - surface: named in the log line of an unexpected failure (`smollama.http.surface`).
    ///   - make: the envelope for a status and a sentence.
    public init(surface: String, internalError: String,
                make: @escaping @Sendable (HTTPResponse.Status, String) -> Envelope) {
        self.surface = surface
        self.internalError = internalError
        self.make = make
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as Envelope {
            throw error
        } catch let error as HTTPError {
            throw make(error.status, error.body ?? error.status.reasonPhrase)
        } catch {
            context.logger.error("request failed", metadata: [
                "smollama.http.surface": "\(surface)", "smollama.http.path": "\(request.uri.path)",
                "smollama.error": "\(error)",
            ])
            throw make(.internalServerError, internalError)
        }
    }
}
