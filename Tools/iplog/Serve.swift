import Application
import ArgumentParser
import EventLog
import Foundation
import JSON
import Logging
import Service

extension IPLog {
    struct Serve: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Run the HTTP service over the store (docs/SERVICE.md).",
            discussion: """
                Every path but /healthz and /metrics needs Authorization: Bearer TOKEN: an \
                API token of `iplog users add`, or an OpenID Connect access token when \
                --oidc-jwks, --oidc-issuer and --oidc-audience are given. Logs one line \
                per request on standard error, without personal data. SIGTERM or SIGINT: \
                takes no new requests, finishes those in flight, exits 0.
                """
        )

        @OptionGroup var storeOptions: StoreOptions

        @Option(help: ArgumentHelp("Serve every store under this directory (one per municipality) at /t/NAME/… instead of --store.", valueName: "dir"))
        var tenants: String?

        @Option(help: "The address to listen on.")
        var host = "127.0.0.1"

        @Option(help: "The port (0: any free port, printed at start).")
        var port = 8080

        @Option(help: ArgumentHelp("The identity provider's keys (a JWKS file).", valueName: "file"))
        var oidcJwks: String?

        @Option(help: ArgumentHelp("The issuer its tokens must name (iss).", valueName: "url"))
        var oidcIssuer: String?

        @Option(help: ArgumentHelp("The audience its tokens must name (aud).", valueName: "name"))
        var oidcAudience: String?

        func validate() throws {
            let given = [oidcJwks, oidcIssuer, oidcAudience].compactMap { $0 }.count
            if given != 0 && given != 3 { throw ValidationError("Give all of --oidc-jwks, --oidc-issuer and --oidc-audience, or none.") }
            if !(0...65535).contains(port) { throw ValidationError("--port: 0 to 65535.") }
            // One identity provider for every tenant would let its tokens into each of them.
            if tenants != nil && given != 0 { throw ValidationError("--tenants: each tenant names its own identity provider in its config.json (oidc: issuer, audience, jwks); --oidc-* is for one store.") }
        }

        func run() throws {
            LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
            var logger = Logger(label: "iplog")
            logger.logLevel = .info
            var oidc: OIDCSettings?
            if let oidcJwks, let oidcIssuer, let oidcAudience {
                oidc = OIDCSettings(jwksFile: oidcJwks, issuer: oidcIssuer, audience: oidcAudience)
            }
            let options = ServeOptions(store: storeOptions.path, tenants: tenants, host: host, port: port, oidc: oidc)
            let host = host, log = logger
            do {
                try waitFor {
                    try await IPLogService.run(options, logger: log) { port in
                        printError("iplog serve: listening on http://\(host):\(port)")
                    }
                }
            } catch let error as ServeError {
                printError("[\(error.code)] \(error.description)")
                throw ExitCode(error.code == "invalidShape" ? Exit.badInput : Exit.failure)
            } catch {
                throw fail(error, json: false)
            }
        }
    }
}
