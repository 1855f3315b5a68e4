import Foundation
import NIOSSL
import PostgresNIO

/// Where the mirror writes: a PostgreSQL URL
/// (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require]`)
/// turned into a connection's configuration.
///
/// A password left out of the URL is taken from `PGPASSWORD`, so that it need
/// not stand in the process list. ``redacted`` names the target without it: the
/// only form that is ever printed.
public struct PostgresTarget: Sendable {
    public var configuration: PostgresConnection.Configuration
    /// The URL without its password, for messages.
    public let redacted: String

    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(MirrorError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw MirrorError(.badInput, "--postgres: not a postgres:// URL (postgres://USER@HOST:PORT/DATABASE)")
        }
        guard let user = url.user.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw MirrorError(.badInput, "--postgres: the URL names no user (postgres://USER@HOST/DATABASE)")
        }
        let host = url.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        let port = url.port ?? 5432
        guard (1...65535).contains(port) else { throw MirrorError(.badInput, "--postgres: port \(port) is not 1 to 65535") }
        let database = String(url.path.drop { $0 == "/" }).removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 }
        let password = url.password?.removingPercentEncoding ?? environment["PGPASSWORD"]
        var sslmode = "prefer"
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, ["disable", "prefer", "require"].contains(value) else {
                    throw MirrorError(.badInput, "--postgres: sslmode must be disable, prefer or require")
                }
                sslmode = value
            default:
                throw MirrorError(.badInput, "--postgres: unknown URL parameter \"\(item.name)\" (only sslmode)")
            }
        }
        let tls: PostgresConnection.Configuration.TLS
        switch sslmode {
        case "disable":
            tls = .disable
        default:
            do {
                let context = try NIOSSLContext(configuration: .makeClientConfiguration())
                tls = sslmode == "require" ? .require(context) : .prefer(context)
            } catch {
                throw MirrorError(.badInput, "--postgres: TLS cannot be set up here (\(error)); use sslmode=disable on loopback")
            }
        }
        configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        redacted = "postgres://\(user)@\(host):\(port)/\(database ?? user)"
    }
}
