import ArgumentParser
import EventLog
import Foundation
import JSON
import SampleData

extension IPLog {
    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sample",
            abstract: "Write realistic synthetic case histories as JSON Lines, for demos, tests and benchmarks.",
            discussion: "Deterministic: the same options give the same file. Every line obeys the rules, so `iplog import` accepts all of it. The people are invented; their person ids are valid numbers."
        )

        @Option(help: "Number of cases.")
        var cases = 1000

        @Option(help: "Number of coordinators (default: cases / 25).")
        var coordinators: Int?

        @Option(help: ArgumentHelp("First application date.", valueName: "YYYY-MM-DD"))
        var start = "2024-01-01"

        @Option(help: ArgumentHelp("Last business date (default: start + 730 days).", valueName: "YYYY-MM-DD"))
        var end: String?

        @Option(help: "Random seed.")
        var seed = 1

        @Option(help: ArgumentHelp("Output file (default: standard output).", valueName: "file"))
        var out: String?

        func validate() throws {
            guard cases >= 1, cases <= 10_000_000 else { throw ValidationError("--cases must be 1 to 10000000.") }
            if let coordinators, coordinators < 1 { throw ValidationError("--coordinators must be at least 1.") }
            guard let startDate = BusinessDate(iso: start) else { throw ValidationError("--start must be a date (YYYY-MM-DD).") }
            if let end {
                guard let endDate = BusinessDate(iso: end) else { throw ValidationError("--end must be a date (YYYY-MM-DD).") }
                guard startDate.days(until: endDate) > 30 else { throw ValidationError("--end must be at least 31 days after --start.") }
            }
        }

        func run() throws {
            let options = SampleData.Options(cases: cases, coordinators: coordinators, start: BusinessDate(iso: start)!,
                                              end: end.flatMap { BusinessDate(iso: $0) }, seed: seed)
            do {
                let output = try StandardOutput(path: out)
                SampleData.generate(options) { output.json($0) }
                try output.finish()
            } catch {
                throw fail(error, json: false)
            }
        }
    }
}
