import ArgumentParser
import Domain
import EventLog
import Foundation
import JSON

extension IPLog {
    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write the log as JSON Lines, with position, version, recordedAt and hash.",
            discussion: "The output can be imported into another store: `iplog import` ignores the fields the log assigns."
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var access: AccessOptions

        @Option(help: "Only this stream.")
        var stream: String?

        @Option(help: ArgumentHelp("Start at this global position.", valueName: "position"))
        var from: UInt64 = 1

        func run() throws {
            let out = StandardOutput()
            do {
                try StreamArgument.check(stream)
                let store = try storeOptions.open(create: false)
                // Record who reads before anything is shown: the persons are those whose cases the export holds.
                let streamEvents = try stream.map { try store.read(stream: $0) }
                var persons: Set<String> = []
                func notePerson(_ e: RecordedEvent) throws {
                    if e.type == "ApplicationReceived", let p = PersonalData.personId(in: try e.payload(keys: store.personKeys)) { persons.insert(p) }
                }
                if let streamEvents {
                    for e in streamEvents { try notePerson(e) }
                } else {
                    try store.forEach(from: from) { e in
                        try notePerson(e)
                        return true
                    }
                }
                try access.record(store: storeOptions.path, command: "export", subject: stream ?? "the whole log from position \(from)", persons: persons, personIdsShown: true)
                let showProgress = standardErrorIsTerminal
                var count = 0
                func emit(_ event: RecordedEvent) throws {
                    out.json(Envelope.encode(event, payload: try event.payload(keys: store.personKeys)))
                    count += 1
                    if showProgress, count % 10_000 == 0 { FileHandle.standardError.write(Data("\rexported \(count) events".utf8)) }
                }
                if let streamEvents {
                    for event in streamEvents where event.position >= from { try emit(event) }
                } else {
                    try store.forEach(from: from) { event in
                        try emit(event)
                        return true
                    }
                }
                try out.finish()
                if showProgress, count >= 10_000 { FileHandle.standardError.write(Data("\r".utf8)) }
            } catch {
                try? out.flush()
                throw fail(error, json: false)
            }
        }
    }
}
