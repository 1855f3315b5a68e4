import AccessLog
import ArgumentParser
import Domain
import EventLog
import JSON

extension IPLog {
    struct AccessLogCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "access-log",
            abstract: "Who has read a person's data: every history, case, cases, export and registry extract that showed it.",
            discussion: "The person has the right to know who has read their data (pasientjournalloven, Normen). Reads are recorded with who, when, what and why (--actor and --reason of the reading command)."
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        @Option(help: ArgumentHelp("The person's fødselsnummer or D-nummer.", valueName: "id"))
        var person: String

        func run() throws {
            let out = StandardOutput()
            do {
                guard PersonID(person) != nil else { throw LogError(.invalidPersonId, "--person: not a valid fødselsnummer or D-nummer") }
                _ = try storeOptions.open(create: false)
                let entries = try AccessLog(directory: storeOptions.path).entries(forPerson: person)
                if output.json {
                    out.json(.object(["reads": .array(entries.map { e in
                        .object([
                            "at": .string(e.at), "actor": .string(e.actor), "command": .string(e.command),
                            "subject": .string(e.subject), "reason": e.reason.map(JSONValue.string) ?? .null,
                        ])
                    })]))
                } else {
                    out.line("\(entries.count) reads of \(PersonID.mask(person))'s data")
                    var table = Table(headers: ["when (UTC)", "who", "command", "what", "why"])
                    table.rows = entries.map { [$0.at, $0.actor, $0.command, $0.subject, $0.reason ?? "–"] }
                    if !entries.isEmpty { out.line(table.render()) }
                }
            } catch {
                throw fail(error, json: output.json, output: out)
            }
        }
    }
}
