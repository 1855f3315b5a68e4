import Application
import ArgumentParser
import Deviations
import EventLog
import JSON

extension DeviationRule: ExpressibleByArgument {}

extension IPLog {
    struct Deviations: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deviations",
            abstract: "The deviation report (avvik): what is overdue or unlawful, by rule, unit and coordinator.",
            discussion: """
                Lists every deviation open on a date (default today), with the day it \
                opened and how many days it has been open. As of a past date the \
                answer is what the log said about that date. With --closed-from and \
                --closed-to, lists instead those that ended in that period and how \
                long each was open. The periods in force: `iplog config show`.
                """
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var format: ReportFormat

        @Option(help: ArgumentHelp("The report's date (default today).", valueName: "YYYY-MM-DD"))
        var asOf: String?

        @Option(help: "Only this rule, e.g. decisionOverdue.")
        var rule: DeviationRule?

        @Option(help: "Only this unit.")
        var unit: String?

        @Option(help: "Only the cases of this coordinator (e.g. 0042): their active coordinator on the report's date.")
        var coordinator: String?

        @Option(help: ArgumentHelp("List those that ended on or after this day.", valueName: "YYYY-MM-DD"))
        var closedFrom: String?

        @Option(help: ArgumentHelp("…and on or before this day (default today).", valueName: "YYYY-MM-DD"))
        var closedTo: String?

        func validate() throws {
            if closedTo != nil, closedFrom == nil { throw ValidationError("--closed-to goes with --closed-from.") }
            if closedFrom != nil, asOf != nil { throw ValidationError("--as-of does not go with --closed-from; the period's end is its date.") }
        }

        func run() throws {
            let out = StandardOutput()
            do {
                let reads = Reads(context: try ReportContext(storeOptions))
                let question: Reads.DeviationQuestion
                let title: (Int) -> String
                if let closedFrom {
                    let from = try Envelope.date(closedFrom, field: "--closed-from")
                    let to = try closedTo.map { try Envelope.date($0, field: "--closed-to") } ?? .today()
                    guard from <= to else { throw LogError(.invalidShape, "--closed-from is after --closed-to") }
                    question = .closed(from: from, to: to)
                    title = { "\(plural($0, "deviation")) ended from \(from) to \(to)" }
                } else {
                    let date = try reportDate(asOf)
                    question = .open(asOf: date)
                    title = { "\(plural($0, "deviation")) open on \(date)" }
                }
                let rows = try reads.deviations(question, rule: rule, unit: unit, coordinator: coordinator, caller: .commandLine)
                emit(rows, question: question, out: out, title: title(rows.count))
            } catch {
                throw fail(error, json: format.json, output: out)
            }
        }

        func emit(_ rows: [DeviationRow], question: Reads.DeviationQuestion, out: StandardOutput, title: String) {
            let closed = if case .closed = question { true } else { false }
            if format.json {
                out.json(Reads.json(rows, question: question))
            } else if format.delimited {
                format.start(out)
                out.line(format.row(["stream", "rule", "since", "ref", "coordinatorId", "unit"] + (closed ? ["endedOn"] : []) + ["daysOpen"]))
                for r in rows {
                    out.line(format.row([r.stream, r.rule.rawValue, r.since.description, r.ref ?? "", r.coordinatorId ?? "", r.unit ?? ""]
                                     + (closed ? [r.end?.description ?? ""] : []) + [String(r.daysOpen)]))
                }
            } else {
                out.line(title)
                guard !rows.isEmpty else { return }
                var byRule = Table(headers: ["rule", "count", "longest (days)"], rightAligned: [1, 2])
                for rule in DeviationRule.allCases {
                    let these = rows.filter { $0.rule == rule }
                    if !these.isEmpty { byRule.rows.append([rule.rawValue, String(these.count), String(these.map(\.daysOpen).max()!)]) }
                }
                out.line()
                out.line(byRule.render())
                var byUnit = Table(headers: ["unit", "count"], rightAligned: [1])
                for unit in Set(rows.compactMap(\.unit)).sorted() {
                    byUnit.rows.append([unit, String(rows.filter { $0.unit == unit }.count)])
                }
                out.line()
                out.line(byUnit.render())
                var table = Table(headers: ["unit", "rule", "case", "ref", "coordinator", "since"] + (closed ? ["ended"] : []) + ["days"], rightAligned: [closed ? 7 : 6])
                table.rows = rows.map { r in
                    [r.unit ?? "", r.rule.rawValue, r.stream, r.ref ?? "", r.coordinatorId ?? "–", r.since.description]
                        + (closed ? [r.end?.description ?? ""] : []) + [String(r.daysOpen)]
                }
                out.line()
                out.line(table.render())
            }
        }
    }
}
