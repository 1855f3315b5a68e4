import ArgumentParser
import Domain
import EventLog
import JSON

extension IPLog {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check the hash chain and every index against the log.",
            discussion: "Exits 1 when anything is wrong, naming the positions concerned."
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let out = StandardOutput()
            var report: VerifyReport
            var clear = PersonalData.ClearValues()
            do {
                let store = try storeOptions.open(create: false, allowDamagedKeys: true)
                report = try store.verify()
                for pending in try DomainPolicy.pendingErasures(in: store) {
                    report.problems.append(.init(position: nil, kind: "erasureNotInAccessLog",
                                                 message: "the erasure of key slot \(pending.slot) (cases \(pending.cases.joined(separator: ", "))) is done but not yet in the access log; run `iplog erase` again for the person to record it"))
                }
                clear = try PersonalData.clearValues(in: store)
            } catch {
                throw fail(error, json: output.json, output: out)
            }
            if output.json {
                out.json(.object([
                    "ok": .bool(report.ok), "events": .integer(report.events), "truncated": .bool(report.truncated),
                    "sealedEvents": .integer(report.sealedEvents), "erasedEvents": .integer(report.erasedEvents),
                    "clearPersonalValues": clear.json,
                    "problems": .array(report.problems.map { problem in
                        .object([
                            "position": problem.position.map { JSONValue.integer($0) } ?? .null,
                            "kind": .string(problem.kind), "message": .string(problem.message),
                        ])
                    }),
                ]))
            } else if report.ok {
                out.line("OK: \(plural(report.events, "event")); the hash chain and every index check out.")
                out.line("\(report.sealedEvents) events hold sealed personal values, \(report.erasedEvents) of them erased; every key they need is in the key file.")
            } else {
                out.line("\(plural(report.problems.count, "problem"))\(report.truncated ? " (and more)" : "") in \(plural(report.events, "event")):")
                for problem in report.problems { out.line("  \(problem)") }
            }
            if clear.events > 0 {
                // Not a fault of the store's integrity (exit 0 stands), but what an erasure cannot reach.
                printError("warning: " + clear.summary)
            }
            do { try out.finish() } catch { throw fail(error, json: false) }
            if !report.ok { throw ExitCode(Exit.failure) }
        }
    }
}
