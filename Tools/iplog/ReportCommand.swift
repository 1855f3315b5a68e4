import Application
import ArgumentParser
import EventLog
import Service

extension IPLog {
    struct ReportCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "The deadlines-passed dashboard (fristbrudd) as one self-contained HTML file, for a unit manager or the municipality.",
            discussion: "Inline CSS and SVG charts, no script, nothing fetched from outside, and no person id (only case ids): it can be mailed. Example, monthly: iplog report --html --unit Rehabilitering --out fristbrudd.html"
        )

        @OptionGroup var storeOptions: StoreOptions

        @Flag(help: "Write HTML (the only format; required).")
        var html = false

        @Option(help: ArgumentHelp("Write to this file (mode 0600) instead of standard output.", valueName: "file"))
        var out: String?

        @Option(help: ArgumentHelp("The report's date (default today).", valueName: "YYYY-MM-DD"))
        var asOf: String?

        @Option(help: "Only this unit.")
        var unit: String?

        @Option(help: "Month ends in the trend (1 to 60).")
        var months = 12

        func validate() throws {
            if !html { throw ValidationError("Give --html.") }
            if !(1...60).contains(months) { throw ValidationError("--months: 1 to 60.") }
        }

        func run() throws {
            let output: StandardOutput
            do { output = try StandardOutput(path: out) } catch { throw fail(error, json: false) }
            do {
                let context = try ReportContext(storeOptions)
                try context.checkUnit(unit)
                let text = try ReportHTML.render(Reads(context: context), caller: .commandLine,
                                                 asOf: try reportDate(asOf), unit: unit, months: months)
                output.write(Array(text.utf8))
                try output.finish()
            } catch {
                throw fail(error, json: false, output: output)
            }
        }
    }
}
