import PostgresNIO

/// Why the mirror stopped, with the contract's style of code: `[CODE] message`.
public struct MirrorError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// A malformed `--postgres` URL, `--from`, `--schema` or other option: exit 2.
        case badInput = "invalidShape"
        /// The server cannot be reached (wrong host or port, not running): exit 1.
        case unreachable = "postgresUnreachable"
        /// The server refused the login (wrong user, password or database): exit 1.
        case refused = "postgresRefused"
        /// Another mirror is writing the schema now: exit 1.
        case busy = "mirrorBusy"
        /// The remote service refused the mirror's token (`--from`): exit 1.
        case sourceRefused = "sourceRefused"
        /// The server answered a statement with an error: exit 1.
        case failed = "postgresFailed"
        /// The schema mirrors another store (its first event differs), or is
        /// ahead of this store's log (a store restored from an older backup).
        case otherStore = "mirrorOfAnotherStore"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "[\(code.rawValue)] \(message)" }

    /// Exit code: 2 for bad input, else 1.
    public var exitCode: Int32 { code == .badInput ? 2 : 1 }

    /// Whether a follow should retry after it (the server went away), rather than stop.
    public var isTransient: Bool { code == .unreachable }

    /// What a PostgresNIO error means for the mirror; never quotes the password.
    static func from(_ error: any Error, target: String) -> MirrorError {
        if let error = error as? MirrorError { return error }
        if let error = error as? PostgresTransactionError {
            return from(error.closureError ?? error.commitError ?? error.beginError ?? error.rollbackError ?? error, target: target)
        }
        guard let error = error as? PSQLError else {
            return MirrorError(.unreachable, "\(target): \(error)")
        }
        if let state = error.serverInfo?[.sqlState] {
            let message = error.serverInfo?[.message] ?? "error"
            // 28xxx: invalid authorization; 3D000: no such database; 42501: no privilege.
            if state.hasPrefix("28") || state == "3D000" || state == "42501" {
                return MirrorError(.refused, "\(target): \(message) (SQLSTATE \(state))")
            }
            // 57P01..57P03: the server is shutting down or starting; 08xxx: connection exceptions.
            if state.hasPrefix("57P") || state.hasPrefix("08") {
                return MirrorError(.unreachable, "\(target): \(message) (SQLSTATE \(state))")
            }
            return MirrorError(.failed, "\(target): \(message) (SQLSTATE \(state))")
        }
        switch error.code {
        case .authMechanismRequiresPassword:
            return MirrorError(.refused, "\(target): the server asks for a password; give it in PGPASSWORD or the URL")
        case .unsupportedAuthMechanism, .saslError:
            return MirrorError(.refused, "\(target): the login failed (\(error.code))")
        case .sslUnsupported:
            return MirrorError(.refused, "\(target): the server offers no TLS, and sslmode=require asks for it")
        default:
            let cause = error.underlying.map { "\($0)" } ?? "\(error.code)"
            return MirrorError(.unreachable, "\(target): \(cause)")
        }
    }
}
