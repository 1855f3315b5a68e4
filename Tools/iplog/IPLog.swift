import ArgumentParser
import Domain
import EventLog
import Foundation
import ProjectionKit

/// `iplog`: the case log for individual plans (individuell plan) and coordinators.
@main
struct IPLog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iplog",
        abstract: "The case log for individual plans and coordinators.",
        discussion: """
            Every change to a case is an event appended to a log that is never \
            rewritten. The store is a directory: --store, else $IPLOG_STORE, else \
            ./iplog-store.

            Exit codes: 0 done; 1 verify found a problem, the store is damaged or \
            full, a file could not be read or written, or an internal error; 2 bad \
            input; 3 refused by a rule; 4 expected-version conflict. The rules: \
            docs/RULES.md.
            """,
        version: IPLog.version,
        subcommands: [
            Append.self, Import.self, History.self, Case.self, Cases.self, Workload.self, Deviations.self,
            RegistryExtractCommand.self, AccessLogCommand.self, Projections.self, Config.self, Export.self, Verify.self, Stats.self,
            Backup.self, Erase.self, Sample.self, Types.self, Due.self, ProcessingTimeCommand.self, Units.self, Serve.self, UsersCommand.self, PlanCommand.self, ReportCommand.self,
            MirrorCommand.self, TenantsCommand.self,
        ]
    )

    /// `iplog --version`: the release and the formats it reads and writes.
    static let version = "iplog 0.11.2 (storage format \(EventStore.storageFormat), key file 2, read models \(ViewStore.valueFormat), snapshots \(CaseState.snapshotFormat))"

    /// Runs the command; a command line that does not parse is bad input, which
    /// the contract gives exit code 2 (argument-parser's own default is 64).
    static func main() {
        do {
            let arguments = CommandLine.arguments.dropFirst()
            // `iplog append` is run once a process for every event: a plain
            // command line of it is read without argument-parser (AppendRequest).
            if arguments.first == Append.configuration.commandName,
               let append = AppendRequest(plainArguments: arguments.dropFirst()) {
                try append.run()
                return
            }
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(Exit.badInput)
            }
            exit(withError: error)
        }
    }
}
