import Application
import ArgumentParser
import Domain
import EventLog
import JSON

extension IPLog {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "history",
            abstract: "Audit replay: every event of one stream in order, with the case as it stood after each.",
            discussion: """
                For the case office or the county governor: shows position, version, \
                business date, when it was recorded and by whom, the payload, and what \
                the event changed. Verifies the hash chain of every event it shows and \
                says so. --as-of shows the case as it stood on that business date.
                """
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var access: AccessOptions

        @Argument(help: "The stream, e.g. case-000123.")
        var stream: String

        @Option(help: ArgumentHelp("Only events with a business date on or before this day.", valueName: "YYYY-MM-DD"))
        var asOf: String?

        @Flag(help: "Show person ids in full (the default shows only the birth date).")
        var showPersonId = false

        func run() throws {
            let out = StandardOutput()
            do {
                try StreamArgument.check(stream)
                var limit: BusinessDate?
                if let asOf { limit = try Envelope.date(asOf, field: "--as-of") }
                let store = try storeOptions.open(create: false)
                let reads = Reads(log: store, storePath: storeOptions.path)
                let history: Reads.History
                do {
                    history = try reads.history(stream, asOf: limit, caller: access.caller, reason: access.reason, showPersonId: showPersonId)
                } catch let denial as AccessDenied where denial.kind == .notFound {
                    throw LogError(.unknownStream, "\(stream) has no events")
                }
                let failing = history.failing
                if output.json {
                    out.json(history.json)
                } else {
                    let count = history.entries.count
                    out.line("\(stream)" + (limit.map { " as of \($0)" } ?? "") + ": \(count) events")
                    for entry in history.entries {
                        let event = entry.event
                        let mark = entry.chainVerified ? "" : "  !! CHAIN BROKEN"
                        out.line("v\(event.version)  \(event.occurredOn)  \(event.type)  (position \(event.position), recorded \(event.recordedAt) by \(event.actor ?? "unknown"))\(mark)")
                        out.line("    data: \(entry.data.jsonText)")
                        let changed = Summary.changes(from: entry.before, to: entry.after)
                        if !changed.isEmpty {
                            out.line("    now:  " + changed.map { "\($0.key) \(display($0.value))" }.joined(separator: "; "))
                        }
                    }
                    if history.personalDataErased { out.line("The person's key has been erased (iplog erase): their personal values read [erased].") }
                    out.line(failing.isEmpty
                        ? "Hash chain verified for all \(count) events shown."
                        : "HASH CHAIN BROKEN at positions \(failing.map(String.init).joined(separator: ", ")): the store has been altered; run `iplog verify`.")
                }
                try out.finish()
                if !failing.isEmpty { throw ExitCode(Exit.failure) }
            } catch {
                throw fail(error, json: output.json, output: out)
            }
        }
    }
}
