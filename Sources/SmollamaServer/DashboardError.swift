import Foundation
public import Hummingbird
import HTTPTypes
import Logging

/// The dashboard's and JSON API's one error envelope, `{"error": {"status", "message"}}`: a
/// status and a sentence, never an internal detail. Handlers throw it;
/// `DashboardFailureMiddleware` turns anything else into it.
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

/// Every failure of the dashboard's routes as a `DashboardError`: Hummingbird's own errors keep
/// their status and sentence, anything else is logged and answered as a 500 without its detail.
struct DashboardFailureMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as DashboardError {
            throw error
        } catch let error as HTTPError {
            throw DashboardError(status: error.status, message: error.body ?? error.status.reasonPhrase)
        } catch {
            context.logger.error("dashboard request failed", metadata: [
                "smollama.http.path": "\(request.uri.path)", "smollama.error": "\(error)",
            ])
            throw DashboardError(status: .internalServerError,
                                 message: "the node could not answer this request; its log says why")
        }
    }
}
