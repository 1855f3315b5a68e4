import Application
import Foundation
import Hummingbird
import HummingbirdAuth
import JSON

/// A request's context: Hummingbird's, with the caller once authenticated.
public struct ServiceContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: Caller?

    public init(source: Source) {
        coreContext = .init(source: source)
        identity = nil
    }

    /// An append's body: the contract's limit (413 above it).
    public var maxUploadSize: Int { ServiceLimits.appendBody }

    /// The caller; 401 when there is none.
    func caller() throws -> Caller {
        guard let identity else { throw AccessDenied.unauthenticated("no valid token: send Authorization: Bearer TOKEN") }
        return identity
    }
}

/// The limits that keep one client from holding the service up.
public enum ServiceLimits {
    /// An append's body (one event or an array of them).
    public static let appendBody = 1 << 20
    /// An import's body (JSON Lines).
    public static let importBody = 64 << 20
    /// How long a client may take to send its body.
    public static let bodySeconds: Int64 = 30
    /// How long a connection may sit idle.
    public static let idleSeconds: Int64 = 60
}

/// An error as the contract answers it: `{"error": {"code", "message", …}}`
/// with its status, as JSON.
struct APIError: HTTPResponseError {
    var report: ErrorReport
    var status: HTTPResponse.Status
    var extra: [JSONValue.Member] = []

    init(_ report: ErrorReport, extra: [JSONValue.Member] = []) {
        self.report = report
        self.extra = extra
        status = switch report.kind {
        case .badInput: .badRequest
        case .refused: .unprocessableContent
        case .conflict: .conflict
        case .notFound: .notFound
        case .forbidden: .forbidden
        case .unauthenticated: .unauthorized
        case .failure: report.code == "diskFull" ? .serviceUnavailable : .internalServerError
        }
    }

    init(status: HTTPResponse.Status, code: String, message: String) {
        report = ErrorReport(code: code, message: message, kind: .badInput)
        self.status = status
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        let body = JSONValue.object(["error": .object([.init("code", .string(report.code)), .init("message", .string(report.message))] + extra)])
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body.jsonText + "\n")))
    }
}
