import Application
import Dispatch
import EventLog
import Foundation
import Hummingbird
import HummingbirdAuth
import JSON
import Logging
import NIOCore
import ServiceLifecycle

/// What `iplog serve` is started with.
public struct ServeOptions: Sendable {
    public var store: String
    public var host: String
    public var port: Int
    public var oidc: OIDCSettings?
    /// How long a client may take to send its body (408 after it).
    public var bodySeconds: Int64 = ServiceLimits.bodySeconds

    public init(store: String, host: String = "127.0.0.1", port: Int = 8080, oidc: OIDCSettings? = nil, bodySeconds: Int64 = ServiceLimits.bodySeconds) {
        self.store = store
        self.host = host
        self.port = port
        self.oidc = oidc
        self.bodySeconds = bodySeconds
    }
}

/// The service over one store: the application layer's reads and appends
/// behind HTTP, each request authenticated, each answer as the contract says.
public enum IPLogService {
    /// The service as a Hummingbird application, ready to run (or to test).
    /// `onRunning` is told the port it listens on.
    public static func application(
        _ options: ServeOptions, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        let log = try EventStore(directory: options.store, create: false)
        let context = try ReportContext(log: log, storePath: options.store, catchUp: true, warn: { logger.warning("\($0)") })
        let metrics = ServiceMetrics(store: log, context: context)
        let reads = Reads(context: context)
        let appends = try Appends(store: log, storePath: options.store, onCommit: metrics.committed)
        var oidc: OIDCVerifier?
        if let settings = options.oidc { oidc = try await OIDCVerifier(settings: settings, claims: try ServiceConfig.load(store: options.store)) }
        let api = API(reads: reads, appends: appends, metrics: metrics, logger: logger, bodySeconds: options.bodySeconds)
        let router = Router(context: ServiceContext.self)
        // The caller first, so that the request's line can name their role.
        router.add(middleware: TokenAuthenticator(users: Users(store: options.store), oidc: oidc))
        router.add(middleware: RequestLogMiddleware(logger: logger, metrics: metrics))
        api.addRoutes(to: router)
        Pages(reads: reads, appends: appends, users: Users(store: options.store), oidc: oidc, sessions: Sessions()).addRoutes(to: router)
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(ServiceLimits.idleSeconds))),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "iplog"),
            services: [WriterService(appends: appends)],
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? options.port) },
            logger: logger
        )
    }

    /// Runs the service until SIGTERM or SIGINT: then it takes no new
    /// requests, finishes those in flight (and the appends they wait for), and returns.
    public static func run(_ options: ServeOptions, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let app = try await application(options, logger: logger, onRunning: onRunning)
        do {
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch let error as IOError {
            let reason = error.errnoCode == EADDRINUSE ? "the address is in use (another iplog serve?)" : String(cString: strerror(error.errnoCode))
            throw ServeError("cannot listen on \(options.host):\(options.port): \(reason)", code: "ioError")
        }
    }
}

/// The group-commit writer as a service: started with the server, stopped
/// after it, once every queued append has been committed and answered.
struct WriterService: Service {
    let appends: Appends

    func run() async throws {
        appends.start()
        try? await gracefulShutdown()
        await offLoopWaiting { appends.stop() }
    }
}

/// Runs blocking work (LMDB's transactions, a sync) on a thread of its own,
/// so that a request never blocks an event loop.
func offLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

func offLoopWaiting(_ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            body()
            continuation.resume()
        }
    }
}

/// One line per request: method, route (never the path or query, which may
/// carry a person id), status, time, and the caller's role; no personal data.
/// Every error becomes the contract's JSON answer.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ServiceContext
    let logger: Logger
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: ServiceContext, next: (Request, ServiceContext) async throws -> Response) async throws -> Response {
        let began = DispatchTime.now().uptimeNanoseconds
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let answer = Self.answer(for: error)
            response = try answer.response(from: request, context: context)
        }
        let route = context.endpointPath ?? "unknown"
        let micros = (DispatchTime.now().uptimeNanoseconds - began) / 1000
        metrics.request(route: route, method: request.method.rawValue, status: response.status.code)
        logger.info("\(request.method.rawValue) \(route) \(response.status.code) \(micros / 1000).\(micros % 1000 / 100) ms",
                    metadata: ["role": .string(context.identity?.role?.rawValue ?? "none")])
        return response
    }

    static func answer(for error: any Error) -> APIError {
        if let api = error as? APIError { return api }
        if let http = error as? any HTTPResponseError {
            switch http.status {
            case .contentTooLarge: return APIError(status: .contentTooLarge, code: "tooLarge", message: "the body is larger than the service takes")
            case .notFound: return APIError(status: .notFound, code: "notFound", message: "no such route")
            case .methodNotAllowed: return APIError(status: .methodNotAllowed, code: "methodNotAllowed", message: "the route does not take this method")
            default: return APIError(status: http.status, code: "badRequest", message: "the request could not be read (\(http.status.code))")
            }
        }
        return APIError(ErrorReport(error))
    }
}
