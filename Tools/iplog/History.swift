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
                let events = try store.read(stream: stream).filter { limit == nil || $0.occurredOn <= limit! }
                let version = try store.version(of: stream)
                guard version > 0 else { throw LogError(.unknownStream, "\(stream) has no events") }
                let keys = store.personKeys
                let persons = try events.filter { $0.type == "ApplicationReceived" }.compactMap { PersonalData.personId(in: try $0.payload(keys: keys)) }
                try access.record(store: storeOptions.path, command: "history", subject: stream, persons: persons, personIdsShown: showPersonId)
                let failing = try store.failingLinks(events.map(\.position))
                let isCase = StreamKind(stream: stream) != .coordinator
                var caseState = CaseState()
                var coordinatorState = CoordinatorState()
                var personId: String?
                var before = isCase ? Summary.of(caseState, personId: nil, showPersonID: showPersonId) : Summary.of(coordinatorState)
                var rows: [JSONValue] = []
                var lines: [String] = []
                var erased = false
                for event in events {
                    erased = try erased || event.isErased(keys: keys)
                    let payload = try event.payload(keys: keys)  // personal values opened, or [erased]
                    let decoded = try DomainEvent.decode(event)
                    let after: [JSONValue.Member]
                    if isCase {
                        if event.type == "ApplicationReceived" { personId = payload["personId"]?.stringValue }
                        caseState.apply(decoded, occurredOn: event.occurredOn, personKey: event.sealed?.slot)
                        after = Summary.of(caseState, personId: personId, showPersonID: showPersonId)
                    } else {
                        coordinatorState.apply(decoded)
                        after = Summary.of(coordinatorState)
                    }
                    if output.json {
                        rows.append(.object([
                            "position": .integer(event.position), "version": .integer(event.version),
                            "type": .string(event.type), "occurredOn": .string(event.occurredOn.description),
                            "recordedAt": .string(event.recordedAt.description), "actor": event.actor.map(JSONValue.string) ?? .null,
                            "data": showPersonId ? payload : Summary.maskingPersonIDs(payload), "state": .object(after), "hash": .string(event.hashHex),
                            "chainVerified": .bool(!failing.contains(event.position)),
                        ]))
                    } else {
                        let shown = showPersonId ? payload : Summary.maskingPersonIDs(payload)
                        let mark = failing.contains(event.position) ? "  !! CHAIN BROKEN" : ""
                        lines.append("v\(event.version)  \(event.occurredOn)  \(event.type)  (position \(event.position), recorded \(event.recordedAt) by \(event.actor ?? "unknown"))\(mark)")
                        lines.append("    data: \(shown.jsonText)")
                        let changed = Summary.changes(from: before, to: after)
                        if !changed.isEmpty {
                            lines.append("    now:  " + changed.map { "\($0.key) \(display($0.value))" }.joined(separator: "; "))
                        }
                    }
                    before = after
                }
                if output.json {
                    out.json(.object([
                        "stream": .string(stream), "asOf": limit.map { .string($0.description) } ?? .null,
                        "chainVerified": .bool(failing.isEmpty), "personalDataErased": .bool(erased), "events": .array(rows),
                    ]))
                } else {
                    out.line("\(stream)" + (limit.map { " as of \($0)" } ?? "") + ": \(events.count) events")
                    for line in lines { out.line(line) }
                    if erased { out.line("The person's key has been erased (iplog erase): their personal values read [erased].") }
                    out.line(failing.isEmpty
                        ? "Hash chain verified for all \(events.count) events shown."
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
