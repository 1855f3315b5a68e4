import Application
import AccessLog
import ArgumentParser
import Domain
import EventLog
import Foundation
import JSON

extension IPLog {
    struct Erase: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "erase",
            abstract: "Erase a person's personal data when its retention ends (crypto-shredding).",
            discussion: """
                Destroys the person's key: every personal value sealed under it (the person id and the free text of \
                their cases) becomes unreadable for good and shows as [erased]. The events stay, the hash chain still \
                verifies, and the reports still count the cases. Refused while the person has an open case. The \
                erasure is recorded in the access log (who, when, why, which cases); the person's own index there is \
                removed. Backups taken before the erasure still hold the key: see the README.
                """
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        @Option(help: ArgumentHelp("The person's fødselsnummer or D-nummer.", valueName: "id"))
        var person: String

        @Option(help: "Why: the legal ground, e.g. the end of the retention period. Recorded with the erasure.")
        var reason: String

        @Option(help: "Who erases (default: $IPLOG_ACTOR, else the OS user).")
        var actor: String?

        @Flag(help: "Do not ask for confirmation (for scripts; on a terminal, erase asks first).")
        var yes = false

        func run() throws {
            let out = StandardOutput()
            do {
                guard PersonID(person) != nil else { throw LogError(.invalidPersonId, "--person: not a valid fødselsnummer or D-nummer") }
                guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw LogError(.invalidShape, "--reason: must not be empty") }
                let store = try storeOptions.open(create: false)
                if !yes && isatty(0) == 1 {
                    printError("Erase the personal data of \(PersonID.mask(person)) for good? Their id and free text become unreadable in every case; this cannot be undone. Type yes to go on: ", newline: false)
                    guard readLine()?.trimmingCharacters(in: .whitespaces).lowercased() == "yes" else {
                        throw LogError(.cancelled, "nothing was erased")
                    }
                }
                let erasures = Erasures(store: store, access: try AccessLog(directory: storeOptions.path))
                let erasure = try erasures.erase(person: person, reason: reason, caller: .storeOperator(AccessOptions.who(actor: actor)))
                if output.json {
                    out.json(.object(["erased": .bool(true), "cases": .array(erasure.cases.map(JSONValue.string))]))
                } else {
                    out.line("Erased the personal data of \(PersonID.mask(person)) in \(plural(erasure.cases.count, "case")): \(erasure.cases.joined(separator: ", ")).")
                    out.line("The events stay and the chain still verifies; their personal values now read [erased].")
                }
                try out.finish()
            } catch {
                throw fail(error, json: output.json, output: out)
            }
        }
    }
}
