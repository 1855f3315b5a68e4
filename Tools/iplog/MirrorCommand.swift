import Application
import ArgumentParser
import Dispatch
import EventLog
import Foundation
import JSON
import Mirror
import Synchronization

extension IPLog {
    struct MirrorCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mirror",
            abstract: "Copy the log and the read models into PostgreSQL tables, and keep them current (docs/SCALE.md).",
            discussion: """
                Tables (in --schema): events (personal values null), cases (the person as a \
                pseudonym), appointments, deviations (one row per interval), \
                coordinator_workload, and checkpoint. The mirror makes the schema and its \
                tables itself. Without --once it follows the log: new commits reach \
                PostgreSQL within a second; when PostgreSQL goes away it retries with \
                backoff. SIGTERM or SIGINT: finishes the transaction in hand and exits 0. \
                Give the password in PGPASSWORD rather than in the URL.
                """
        )

        @OptionGroup var storeOptions: StoreOptions

        @Option(help: ArgumentHelp("PostgreSQL: postgres://USER@HOST:PORT/DATABASE[?sslmode=disable|prefer|require].", valueName: "url"))
        var postgres: String

        @Option(help: ArgumentHelp("The schema for this store's tables (one per municipality in a shared database).", valueName: "name"))
        var schema = "iplog"

        @Flag(help: "Copy up to the log's head, then exit.")
        var once = false

        @Option(help: ArgumentHelp("Events per transaction while catching up.", valueName: "n"))
        var batch = 20_000

        @Option(help: ArgumentHelp("Report the workload as of this day (default: today).", valueName: "YYYY-MM-DD"))
        var asOf: String?

        @Option(help: ArgumentHelp("Copy the log of a remote `iplog serve` (its /v1/events) into --store, a standby of it, and mirror that.", valueName: "url"))
        var from: String?

        @Option(help: ArgumentHelp("With --from: an integration user's token (default: $IPLOG_TOKEN).", valueName: "token"))
        var token: String?

        @OptionGroup var output: OutputOptions

        func run() throws {
            let options: Mirror.Options
            do {
                guard asOf.map({ BusinessDate(iso: $0) != nil }) ?? true else {
                    throw MirrorError(.badInput, "--as-of: not a date (YYYY-MM-DD)")
                }
                var source: RemoteSource?
                if let from {
                    guard let token = token ?? ProcessEnvironment.value("IPLOG_TOKEN") else {
                        throw MirrorError(.badInput, "--from needs --token (or IPLOG_TOKEN): an integration user's token")
                    }
                    source = try RemoteSource(url: from, token: token)
                }
                options = try Mirror.Options(target: try PostgresTarget(url: postgres), schema: schema, batch: batch,
                                             asOf: asOf.flatMap { BusinessDate(iso: $0) }, source: source)
            } catch let error as MirrorError {
                printError(error.description)
                throw ExitCode(error.exitCode)
            }
            let stop = StopFlag()
            var signals: [any DispatchSourceSignal] = []
            if !once {
                for sig in [SIGTERM, SIGINT] {
                    signal(sig, SIG_IGN)
                    let source = DispatchSource.makeSignalSource(signal: sig)
                    source.setEventHandler { stop.set() }
                    source.resume()
                    signals.append(source)
                }
            }
            defer { signals.forEach { $0.cancel() } }
            let once = once, storePath = storeOptions.path, target = options.target.redacted
            let result: Mirror.PassResult?
            do {
                result = try waitFor {
                    let mirror = try Mirror(storePath: storePath, options: options) { printError($0) }
                    do {
                        var last: Mirror.PassResult?
                        if once {
                            last = try await mirror.pass()
                        } else {
                            // The first connection must succeed: a wrong URL or password ends here, not in a retry loop.
                            try await mirror.connect()
                            printError("iplog mirror: following the log into \(target), schema \(options.schema)")
                            try await mirror.follow(shouldStop: { stop.isSet }, report: { printError($0) }) { last = $0 }
                        }
                        await mirror.close()
                        return last
                    } catch {
                        await mirror.close()
                        throw error
                    }
                }
            } catch let error as MirrorError {
                printError(error.description)
                throw ExitCode(error.exitCode)
            } catch {
                throw fail(error, json: output.json)
            }
            if output.json {
                let out = StandardOutput()
                out.json(.object([
                    "position": .integer(result?.position ?? 0), "events": .integer(result?.events ?? 0),
                    "cases": .integer(result?.cases ?? 0), "erased": .integer(result?.erased ?? 0), "schema": .string(schema),
                ]))
                try out.finish()
            } else if let result, once {
                printError("iplog mirror: \(result.events) events and \(result.cases) cases copied into \(target), schema \(schema); at position \(result.position)")
            }
        }

        final class StopFlag: Sendable {
            private let flag = Atomic<Bool>(false)
            func set() { flag.store(true, ordering: .relaxed) }
            var isSet: Bool { flag.load(ordering: .relaxed) }
        }
    }
}
