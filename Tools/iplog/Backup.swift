import Application
import AccessLog
import ArgumentParser
import LMDB
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
                let store = try storeOptions.open(create: false)
                try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                chmod(directory, 0o700)  // whatever the umask or the directory given
                // The read models first: copied before the log, they are never ahead of it
                // (the copy's first report catches them up).
                let views = try ViewStore(directory: storeOptions.path, projections: ReportContext.projectionNames)
                try views.backup(to: directory)
                FaultPoint.reach("backup.betweenCopies")
                try store.backup(to: directory)
                try AccessLog(directory: storeOptions.path).backup(to: directory)
                let config = DeviationConfig.path(store: storeOptions.path)
                if fm.fileExists(atPath: config) {
                    try Self.copyFile(config, to: DeviationConfig.path(store: directory))
                }
                // The service's users (their token hashes): a restored store keeps its users, and revoked tokens stay revoked.
                let users = Users(store: storeOptions.path).directory + "/users.json"
                let hasUsers = fm.fileExists(atPath: users)
                if hasUsers {
                    let target = Users(store: directory).directory
                    try fm.createDirectory(atPath: target, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                    try Self.copyFile(users, to: target + "/users.json")
                }
                for part in ["", "/log", "/projections", "/keys", "/access"] + (hasUsers ? ["/users"] : []) { try syncFile(directory + part) }
                let copy = try EventStore(directory: directory, create: false)
                let report = try copy.verify()
                let parts = ["log", "keys", "projections", "access"] + (fm.fileExists(atPath: config) ? ["config.json"] : []) + (hasUsers ? ["users"] : [])
                if output.json {
                    out.json(.object(["path": .string(directory), "events": .integer(report.events), "verified": .bool(report.ok),
                                      "parts": .array(parts.map(JSONValue.string))]))
                } else {
                    out.line("Backed up \(report.events) events to \(directory) (\(parts.joined(separator: ", "))); the copy \(report.ok ? "verifies" : "DOES NOT VERIFY").")
                }
                try out.finish()
                if !report.ok { throw ExitCode(Exit.failure) }
            } catch {
                throw fail(error, json: output.json, output: out)
            }
        }

        /// Copies a file with mode 0600 and syncs it.
        static func copyFile(_ source: String, to target: String) throws {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: source))
            let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw StandardOutput.error(errno, "\(target) cannot be created") }
            defer { close(fd) }
            fchmod(fd, 0o600)
            let written = bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            guard written == bytes.count, fsync(fd) == 0 else { throw StandardOutput.error(errno, "\(target) could not be written") }
        }
    }
}
