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
                let access = try AccessLog(directory: storeOptions.path)
                let accessKey = access.accessKey(forPerson: person)
                // Erasures cut short before their access-log record (killed, disk full) are finished first.
                let finished = try Self.finishPending(store: store, access: access)
                let erasure: DomainPolicy.PendingErasure
                if let done = try DomainPolicy.erase(person: person, in: store, actor: AccessOptions.who(actor: actor), reason: reason, accessKey: accessKey) {
                    erasure = done
                    FaultPoint.reach("erase.beforeAccessLog")
                    try Self.recordAndFinish(erasure, store: store, access: access)
                } else if let resumed = finished.last(where: { $0.accessKey == accessKey }) {
                    erasure = resumed  // this person's erasure was done; now it is recorded too
                } else {
                    throw LogError(.unknownPerson, "the store holds no personal data of \(PersonID.mask(person)) (no case, or erased already)")
                }
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

        /// Writes an erasure's access-log entry (once), drops the person's index
        /// there, and forgets the pending record.
        static func recordAndFinish(_ erasure: DomainPolicy.PendingErasure, store: EventStore, access: AccessLog) throws {
            do {
                try access.record(actor: erasure.actor, command: "erase", subject: erasure.cases.joined(separator: " "),
                                  reason: erasure.reason, persons: [String](), at: erasure.at, once: true)
                try access.forget(accessKey: erasure.accessKey)
            } catch let error as LogError where error.code == .diskFull {
                throw LogError(.diskFull, "the erasure is done and recorded in the log, but the access log has no room for its entry: "
                               + "free space and run `iplog erase` again, which writes it (\(error.message))")
            }
            try DomainPolicy.finishErasure(slot: erasure.slot, in: store)
        }

        /// Finishes every erasure whose access-log record is missing; returns them.
        static func finishPending(store: EventStore, access: AccessLog) throws -> [DomainPolicy.PendingErasure] {
            let pending = try DomainPolicy.pendingErasures(in: store)
            try store.finishKeyErasures()
            for erasure in pending {
                try recordAndFinish(erasure, store: store, access: access)
            }
            return pending
        }
    }
}
