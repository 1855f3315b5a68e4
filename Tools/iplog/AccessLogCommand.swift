import AccessLog
import Application
import ArgumentParser
import Domain
import EventLog
import JSON

extension IPLog {
    struct AccessLogCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "access-log",
            abstract: "Who has read a person's data (--person), or every entry of one command such as the erasures (--command erase).",
            discussion: "The person has the right to know who has read their data (pasientjournalloven, Normen). Reads are recorded with who, when, what and why (--actor and --reason of the reading command). --command erase lists every erasure (when, who, why, which cases) without a person id: after restoring an old backup, the erasures made since are found there and run again."
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        @Option(help: ArgumentHelp("The person's fødselsnummer or D-nummer: every read of their data.", valueName: "id"))
        var person: String?

        @Option(help: ArgumentHelp("Every entry of this command instead, e.g. erase (when, who, why, which cases; no person id).", valueName: "command"))
        var command: String?

        @Option(help: ArgumentHelp("Only entries from this date on (UTC).", valueName: "YYYY-MM-DD"))
        var from: String?

        func validate() throws {
            if (person == nil) == (command == nil) { throw ValidationError("Give exactly one of --person and --command.") }
        }

        func run() throws {
            let out = StandardOutput()
            do {
                let since = try from.map { try Envelope.date($0, field: "--from") }
                let reads = Reads(log: try storeOptions.open(create: false), storePath: storeOptions.path)
                if let person, PersonID(person) == nil { throw LogError(.invalidPersonId, "--person: not a valid fødselsnummer or D-nummer") }
                let entries = try reads.accessLogEntries(person: person, command: command, from: since, caller: .commandLine)
                let erasures = command == "erase"
                if output.json {
                    out.json(Reads.json(entries, forPerson: person != nil))
                } else {
                    if let person {
                        out.line("\(entries.count) \(entries.count == 1 ? "read" : "reads") of \(PersonID.mask(person))'s data")
                    } else {
                        out.line("\(entries.count) \(erasures ? (entries.count == 1 ? "erasure" : "erasures") : "entries of \(command!)")" + (since.map { " from \($0)" } ?? ""))
                    }
                    var table = Table(headers: ["when (UTC)", "who", "command", erasures ? "cases" : "what", "why"])
                    table.rows = entries.map { [$0.at, $0.actor, $0.command, $0.subject, $0.reason ?? "–"] }
                    if !entries.isEmpty { out.line(table.render()) }
                }
            } catch {
                throw fail(error, json: output.json, output: out)
            }
        }
    }
}
