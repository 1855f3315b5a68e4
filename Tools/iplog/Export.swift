import Application
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
                let reads = Reads(log: try storeOptions.open(create: false), storePath: storeOptions.path)
                let showProgress = standardErrorIsTerminal
                var count = 0
                try reads.export(stream: stream, from: from, caller: access.caller, reason: access.reason) { _, line in
                    out.json(line)
                    count += 1
                    if showProgress, count % 10_000 == 0 { FileHandle.standardError.write(Data("\rexported \(count) events".utf8)) }
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
