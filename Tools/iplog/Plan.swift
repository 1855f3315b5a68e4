import Application
import ArgumentParser
import EventLog
import Service

extension IPLog {
    struct PlanCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plan",
            abstract: "The individual plan of a case as one HTML document in bokmål, ready to print (A4) and to archive with the case.",
            discussion: "It holds the person's id and the plan's free text: the read is recorded in the access log, and --out writes the file with mode 0600."
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var access: AccessOptions

        @Argument(help: "The case stream, e.g. case-000123.")
        var stream: String

        @Flag(help: "Write HTML (the only format so far; required, so that a later format does not change what scripts get).")
        var html = false

        @Option(help: ArgumentHelp("Write to this file (mode 0600) instead of standard output.", valueName: "file"))
        var out: String?

        func validate() throws {
            if !html { throw ValidationError("Give --html.") }
        }

        func run() throws {
            let output: StandardOutput
            do { output = try StandardOutput(path: out) } catch { throw fail(error, json: false) }
            do {
                try StreamArgument.check(stream)
                let reads = Reads(log: try storeOptions.open(create: false), storePath: storeOptions.path)
                let plan = try reads.plan(stream, caller: access.caller, reason: access.reason)
                output.write(Array(PlanHTML.render(plan).utf8))
                try output.finish()
            } catch {
                throw fail(error, json: false, output: output)
            }
        }
    }
}
