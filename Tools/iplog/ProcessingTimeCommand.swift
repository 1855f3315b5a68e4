import Application
import ArgumentParser
import CaseStatus
import Deviations
import EventLog
import JSON

extension IPLog {
    struct ProcessingTimeCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "processing-time",
            abstract: "Processing time (saksbehandlingstid): per unit and month, decisions and days from application to decision.",
            discussion: """
                For each case's first decision made from --from to --to: per unit and \
                month of the decision, how many, the median and 90th percentile of the \
                days from the application (nearest rank), and how many came after the \
                deadline (8 weeks, or the date a preliminary reply gave; the periods in \
                force: iplog config show).
                """
        )

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var format: ReportFormat

        @Option(help: ArgumentHelp("The first day of decisions to count (default: a year before --to).", valueName: "YYYY-MM-DD"))
        var from: String?

        @Option(help: ArgumentHelp("The last day (default today).", valueName: "YYYY-MM-DD"))
        var to: String?

        @Option(help: "Only this unit.")
        var unit: String?

        func run() throws {
            let out = StandardOutput()
            do {
                let end = try to.map { try Envelope.date($0, field: "--to") } ?? .today()
                let start = try from.map { try Envelope.date($0, field: "--from") } ?? end.adding(months: -12).adding(days: 1)
                guard start <= end else { throw LogError(.invalidShape, "--from is after --to") }
                let context = try ReportContext(storeOptions)
                try context.checkUnit(unit)
                let cases = try context.views.values(StatusRecord.self, projection: CaseStatusProjection.name, prefix: "case-").compactMap { $0.1.caseState }
                let rows = ProcessingTime.rows(cases, from: start, to: end, unit: unit, config: context.config)
                if format.json {
                    out.json(.object([
                        .init("from", .string(start.description)), .init("to", .string(end.description)),
                        .init("rows", .array(rows.map { r in
                            .object([
                                .init("unit", .string(r.unit)), .init("month", .string(r.month)), .init("decisions", .integer(r.decisions)),
                                .init("medianDays", .integer(r.medianDays)), .init("p90Days", .integer(r.p90Days)), .init("pastDeadline", .integer(r.pastDeadline)),
                            ])
                        })),
                    ]))
                } else if format.delimited {
                    format.start(out)
                    out.line(format.row(["unit", "month", "decisions", "medianDays", "p90Days", "pastDeadline"]))
                    for r in rows { out.line(format.row([r.unit, r.month, String(r.decisions), String(r.medianDays), String(r.p90Days), String(r.pastDeadline)])) }
                } else {
                    out.line("Processing time, decisions from \(start) to \(end): \(plural(rows.reduce(0) { $0 + $1.decisions }, "decision"))")
                    guard !rows.isEmpty else { return }
                    var table = Table(headers: ["unit", "month", "decisions", "median days", "90 % within", "past deadline"], rightAligned: [2, 3, 4, 5])
                    table.rows = rows.map { [$0.unit, $0.month, String($0.decisions), String($0.medianDays), String($0.p90Days), String($0.pastDeadline)] }
                    out.line(table.render())
                }
            } catch {
                throw fail(error, json: format.json, output: out)
            }
        }
    }
}
