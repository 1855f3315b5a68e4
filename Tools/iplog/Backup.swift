import ArgumentParser
import EventLog
import Foundation
import JSON
import ProjectionKit
import Deviations

extension IPLog {
    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backup",
            abstract: "Take a consistent, compacted copy of the store while appends go on.",
            discussion: """
                Copies the log (LMDB's copy with compaction: one consistent snapshot, \
                free pages left out), the read models and config.json into DIR, which \
                must not exist or be empty, then verifies the copy. The copy is a store: \
                `iplog verify --store DIR` checks it, and restoring is moving it into \
                place (see the README).
                """
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: ArgumentHelp("Where to write the copy.", valueName: "dir"))
        var directory: String

        func run() throws {
            let out = StandardOutput()
            do {
                let fm = FileManager.default
                if fm.fileExists(atPath: directory), !((try? fm.contentsOfDirectory(atPath: directory))?.isEmpty ?? false) {
                    throw LogError(.invalidShape, "\(directory) exists and is not empty; a backup goes into a new directory")
                }
                try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                let store = try storeOptions.open(create: false)
                try store.backup(to: directory)
                let views = try ViewStore(directory: storeOptions.path, projections: ReportContext.projectionNames)
                try views.backup(to: directory)
                let config = DeviationConfig.path(store: storeOptions.path)
                if fm.fileExists(atPath: config) {
                    try fm.copyItem(atPath: config, toPath: DeviationConfig.path(store: directory))
                }
                let copy = try EventStore(directory: directory, create: false)
                let report = try copy.verify()
                if output.json {
                    out.json(.object(["path": .string(directory), "events": .integer(report.events), "verified": .bool(report.ok)]))
                } else {
                    out.line("Backed up \(report.events) events to \(directory); the copy \(report.ok ? "verifies" : "DOES NOT VERIFY").")
                }
                out.flush()
                if !report.ok { throw ExitCode(Exit.failure) }
            } catch {
                throw fail(error, json: output.json, output: out)
            }
        }
    }
}
