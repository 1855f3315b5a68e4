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
    /// A directory of stores, one per municipality (tenant), served under
    /// `/t/{name}/…`; when set, ``store`` is not used.
    public var tenants: String?
    public var host: String
    public var port: Int
    public var oidc: OIDCSettings?
    /// How long a client may take to send its body (408 after it).
    public var bodySeconds: Int64 = ServiceLimits.bodySeconds

    public init(store: String, tenants: String? = nil, host: String = "127.0.0.1", port: Int = 8080, oidc: OIDCSettings? = nil,
                bodySeconds: Int64 = ServiceLimits.bodySeconds) {
        self.store = store
        self.tenants = tenants
        self.host = host
        self.port = port
        self.oidc = oidc
        self.bodySeconds = bodySeconds
    }
}

/// The service over one store: the application layer's reads and appends
/// behind HTTP, each request authenticated, each answer as the contract says.
/// With tenants, one such service per store, each under its own path, with its
/// own users, writer, sessions, metrics and access log.
public enum IPLogService {
    /// The service as a Hummingbird application, ready to run (or to test).
    /// `onRunning` is told the port it listens on.
    public static func application(
        _ options: ServeOptions, logger: Logger, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        let router = Router(context: ServiceContext.self)
        var writers: [WriterService] = []
        if let directory = options.tenants {
            let names = try Tenants.names(in: directory)
            // Unknown routes and tenants still get the contract's JSON error.
            router.add(middleware: ErrorAnswerMiddleware())
            router.get("/healthz") { _, _ in
                API.json(.object(["status": .string("ok"), "tenants": .integer(names.count)]), personal: false)
            }
            for name in names {
                let store = try await StoreService(store: directory + "/" + name, base: "/t/" + name, options: options, logger: logger)
                store.mount(on: router.group(RouterPath("t/" + name)))
                writers.append(WriterService(appends: store.appends))
            }
        } else {
            let store = try await StoreService(store: options.store, base: "", options: options, logger: logger)
            store.mount(on: router)
            writers.append(WriterService(appends: store.appends))
        }
        return Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(ServiceLimits.idleSeconds))),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "iplog"),
            services: writers,
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

/// One store behind HTTP: its API and pages, authenticated against its own users.
struct StoreService {
    let api: API
    let pages: Pages
    let appends: Appends
    let authenticator: TokenAuthenticator
    let requestLog: RequestLogMiddleware

    init(store path: String, base: String, options: ServeOptions, logger: Logger) async throws {
        let log = try EventStore(directory: path, create: false)
        let context = try ReportContext(log: log, storePath: path, catchUp: true, warn: { logger.warning("\($0)") })
        let metrics = ServiceMetrics(store: log, context: context)
        let reads = Reads(context: context)
        appends = try Appends(store: log, storePath: path, onCommit: metrics.committed)
        // One store: the identity provider of the command line. A tenant: its
        // own, from its config.json (never one shared by every tenant).
        let config = try ServiceConfig.load(store: path)
        var settings = options.tenants == nil ? options.oidc : nil
        if options.tenants != nil, let issuer = config.issuer, let audience = config.audience, let jwks = config.jwks {
            settings = OIDCSettings(jwksFile: jwks.hasPrefix("/") ? jwks : path + "/" + jwks, issuer: issuer, audience: audience)
        }
        var oidc: OIDCVerifier?
        if let settings { oidc = try await OIDCVerifier(settings: settings, claims: config) }
        api = API(reads: reads, appends: appends, metrics: metrics, logger: logger, bodySeconds: options.bodySeconds)
        let users = Users(store: path)
        pages = Pages(reads: reads, appends: appends, users: users, oidc: oidc, sessions: Sessions(), base: base)
        authenticator = TokenAuthenticator(users: users, oidc: oidc)
        requestLog = RequestLogMiddleware(logger: logger, metrics: metrics)
    }

    func mount(on router: some RouterMethods<ServiceContext>) {
        // The caller first, so that the request's line can name their role.
        _ = router.add(middleware: authenticator)
        _ = router.add(middleware: requestLog)
        api.addRoutes(to: router)
        pages.addRoutes(to: router)
    }
}

/// The stores of `iplog serve --tenants DIR`: each directory under it that
/// holds a store, named by the directory.
public enum Tenants {
    /// A tenant's name: lowercase letters, digits and hyphens, 1 to 40.
    public static func isValidName(_ name: String) -> Bool {
        (1...40).contains(name.utf8.count) && name.utf8.first != UInt8(ascii: "-")
            && name.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") }
    }

    /// The tenants under `directory`, sorted; refuses a directory without any.
    public static func names(in directory: String) throws -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw ServeError("--tenants: \(directory) is not a directory", code: "invalidShape")
        }
        let names = entries.filter { isValidName($0) && FileManager.default.fileExists(atPath: directory + "/" + $0 + "/log/data.mdb") }.sorted()
        guard !names.isEmpty else {
            throw ServeError("--tenants: \(directory) holds no store (make one with `iplog tenants add NAME --tenants \(directory)`)", code: "invalidShape")
        }
        return names
    }
}

/// Answers an error that no store's middleware answered (an unknown tenant or
/// route) with the contract's JSON error.
struct ErrorAnswerMiddleware: RouterMiddleware {
    typealias Context = ServiceContext
    func handle(_ request: Request, context: ServiceContext, next: (Request, ServiceContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try RequestLogMiddleware.answer(for: error).response(from: request, context: context)
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
